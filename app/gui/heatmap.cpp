#include "app/gui/heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/gui/plot.h"
#include "app/gui/ui_probe.h"

namespace fw::gui {

namespace {
using Poly = std::array<std::array<double, 3>, 7>;
// Polynomial fits of matplotlib's maps (Matt Zucker's, CC0).
constexpr Poly kViridis = {{{0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
                            {0.1050930431085774, 1.404613529898575, 1.384590162594685},
                            {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
                            {-4.634230498983486, -5.799100973351585, -19.33244095627987},
                            {6.228269936347081, 14.17993336680509, 56.69055260068105},
                            {4.776384997670288, -13.74514537774601, -65.35303263337234},
                            {-5.435455855934631, 4.645852612178535, 26.3124352495832}}};
constexpr Poly kMagma = {{{-0.002136485053939582, -0.000749655052795221, -0.005386127855323933},
                          {0.2516605407371642, 0.6775232436837668, 2.494026599312351},
                          {8.353717279216625, -3.577719514958484, 0.3144679030132573},
                          {-27.66873308576866, 14.26473078096533, -13.64921318813922},
                          {52.17613981234068, -27.94360607168351, 12.94416944238394},
                          {-50.76852536473588, 29.04658282127291, 4.23415299384598},
                          {18.65570506591883, -11.48977351997711, -5.601961508734096}}};
std::array<uint8_t, 3> poly(const Poly& p, float x) {
  std::array<uint8_t, 3> out{};
  for (int c = 0; c < 3; ++c) {
    double v = p[6][c];
    for (int k = 5; k >= 0; --k) v = v * x + p[k][c];
    out[c] = uint8_t(std::clamp(v, 0.0, 1.0) * 255.0 + 0.5);
  }
  return out;
}
}  // namespace

std::array<uint8_t, 3> colormap(Colormap c, float x) {
  x = std::isfinite(x) ? std::clamp(x, 0.0f, 1.0f) : 0.0f;
  switch (c) {
    case Colormap::Turbo:
      return turbo(x);
    case Colormap::Viridis:
      return poly(kViridis, x);
    case Colormap::Magma:
      return poly(kMagma, x);
    case Colormap::Gray: {
      const uint8_t g = uint8_t(x * 255.0f + 0.5f);
      return {g, g, g};
    }
  }
  return {0, 0, 0};
}

ImU32 colormap_u32(Colormap c, float x) {
  const auto v = colormap(c, x);
  return IM_COL32(v[0], v[1], v[2], 255);
}

void value_range(const float* v, int64_t n, float* lo, float* hi) {
  *lo = *hi = 0;
  if (n <= 0) return;
  *lo = *hi = v[0];
  for (int64_t i = 1; i < n; ++i) {
    *lo = std::min(*lo, v[i]);
    *hi = std::max(*hi, v[i]);
  }
}

Image map_image(const float* m, int64_t h, int64_t w, Colormap c, float lo, float hi) {
  Image img(static_cast<int>(w), static_cast<int>(h));
  const float span = hi > lo ? hi - lo : 0.0f;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const float v = span > 0 ? (m[y * w + x] - lo) / span : 0.0f;
      const auto col = colormap(c, v);
      std::copy(col.begin(), col.end(), img.at(int(x), int(y)));
    }
  return img;
}

Image overlay_image(const Image& base, const float* s, Colormap c, float alpha, float scale) {
  Image img(base.w, base.h);
  float lo = 0, hi = 0;
  value_range(s, int64_t(base.w) * base.h, &lo, &hi);
  if (scale > 0) hi = scale;
  for (int y = 0; y < base.h; ++y)
    for (int x = 0; x < base.w; ++x) {
      const float v = hi > 0 ? std::max(0.0f, s[size_t(y) * base.w + x]) / hi : 0.0f;
      const auto col = colormap(c, v);
      const uint8_t* b = &base.rgb[(size_t(y) * base.w + x) * 3];
      uint8_t* o = img.at(x, y);
      for (int k = 0; k < 3; ++k)
        o[k] = uint8_t(
            std::clamp((1 - alpha) * float(b[k]) + alpha * float(col[size_t(k)]), 0.0f, 255.0f) +
            0.5f);
    }
  return img;
}

Image rgb_image(const Image8& img) {
  Image out(img.width, img.height);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const uint8_t* p = img.pixel(x, y);
      uint8_t* o = out.at(x, y);
      for (int k = 0; k < 3; ++k) o[k] = img.channels >= 3 ? p[k] : p[0];
    }
  return out;
}

void draw_color_scale(const char* id, const std::string& title, Colormap c, float lo, float hi,
                      ImVec2 size, const Fonts& fonts) {
  ImGui::PushID(id);
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("scale", size);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float line = ImGui::GetTextLineHeight();
  const float bar_w = std::min(14.0f, size.x * 0.3f);
  const float top = p.y + line + 4, bottom = p.y + size.y - line * 0.5f;
  dl->AddText(fonts.regular, ImGui::GetFontSize(), ImVec2(p.x, p.y), palette::kTextDim,
              title.c_str());
  const int steps = 32;
  for (int i = 0; i < steps; ++i) {
    const float y0 = bottom - (bottom - top) * float(i) / steps;
    const float y1 = bottom - (bottom - top) * float(i + 1) / steps;
    const ImU32 a = colormap_u32(c, float(i) / steps), b = colormap_u32(c, float(i + 1) / steps);
    dl->AddRectFilledMultiColor(ImVec2(p.x, y1), ImVec2(p.x + bar_w, y0), b, b, a, a);
  }
  dl->AddRect(ImVec2(p.x, top), ImVec2(p.x + bar_w, bottom), palette::kBorder);
  // Values: the nice ticks inside lo..hi, with lo and hi themselves when there is room.
  std::vector<double> ticks =
      hi > lo ? nice_ticks(lo, hi, std::max(2, int((bottom - top) / (line * 1.6f))))
              : std::vector<double>{lo};
  ImGui::PushFont(fonts.mono);
  for (double t : ticks) {
    const float y = hi > lo ? bottom - (bottom - top) * float((t - lo) / (hi - lo)) : bottom;
    char buf[32];
    const double mag = std::max(std::fabs(double(lo)), std::fabs(double(hi)));
    if (mag != 0 && (mag < 1e-2 || mag >= 1e4))
      std::snprintf(buf, sizeof buf, "%.1e", t);
    else
      std::snprintf(buf, sizeof buf, "%.3g", t);
    dl->AddLine(ImVec2(p.x + bar_w, y), ImVec2(p.x + bar_w + 3, y), palette::kTextDim);
    dl->AddText(ImVec2(p.x + bar_w + 8, y - line * 0.5f), palette::kText, buf);
  }
  ImGui::PopFont();
  if (probe::enabled()) {
    probe::Drawn d;
    d.list = "scale";
    d.id = id;
    d.min = ImVec2(p.x, top);
    d.max = ImVec2(p.x + bar_w, bottom);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s %.4g..%.4g", title.c_str(), double(lo), double(hi));
    d.text = buf;
    d.count = int(ticks.size());
    probe::drawn(std::move(d));
  }
  ImGui::PopID();
}

void text_error(const std::string& what, const std::string& why) {
  ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
  ImGui::TextWrapped("\xE2\x9A\xA0 %s: %s", what.c_str(), why.c_str());
  ImGui::PopStyleColor();
}

void report_map(const std::string& id, ImVec2 a, ImVec2 b, const std::string& text, bool stale) {
  if (!probe::enabled()) return;
  probe::Drawn d;
  d.list = "map";
  d.id = id;
  d.min = a;
  d.max = b;
  d.text = text;
  d.flag("stale", stale);
  probe::drawn(std::move(d));
}

void report_item(const views::PictureItem& it) {
  if (!probe::enabled()) return;
  probe::Drawn d;
  d.list = it.list;
  d.id = it.id;
  d.min = ImVec2(it.min.x, it.min.y);
  d.max = ImVec2(it.max.x, it.max.y);
  d.text = it.text;
  d.count = it.count;
  if (it.list == "map") d.flag("stale", it.stale);
  if (it.list == "plot") {
    d.fill_min = d.min;
    d.fill_max = d.max;
    d.fill = it.fill;
    d.flag("empty", it.count == 0);
  }
  if (it.list == "series") {
    d.ink = it.ink;
    d.flag("markers", true);
  }
  probe::drawn(std::move(d));
}

}  // namespace fw::gui
