#include "app/gui/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "app/gui/ui_probe.h"

namespace fw::gui {

namespace {


std::string value_label(double v, bool percent) {
  char buf[32];
  if (percent)
    std::snprintf(buf, sizeof buf, "%.2f%%", v * 100);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// A series' colour as it shows over the chart's background (its alpha blended in).
ImU32 over_panel(ImU32 c) {
  const float a = float((c >> IM_COL32_A_SHIFT) & 0xFF) / 255.0f;
  auto ch = [&](int shift) {
    const float x = float((palette::kPanel >> shift) & 0xFF), y = float((c >> shift) & 0xFF);
    return ImU32(x + (y - x) * a + 0.5f) << shift;
  };
  return ch(IM_COL32_R_SHIFT) | ch(IM_COL32_G_SHIFT) | ch(IM_COL32_B_SHIFT) | IM_COL32_A_MASK;
}

// The frame report (ui_probe.h): the chart, with the number of series it drew.
void report_plot(const PlotSpec& spec, ImVec2 p0, ImVec2 p1, int series) {
  probe::Drawn d;
  d.list = "plot";
  d.id = spec.title;
  d.min = d.fill_min = p0;
  d.max = d.fill_max = p1;
  d.fill = palette::kPanel;
  d.count = series;
  d.flag("empty", series == 0);
  if (series == 0) d.text = spec.empty_text.empty() ? "no data yet" : spec.empty_text;
  probe::drawn(std::move(d));
}

// The index of the point nearest to x in a sorted x.
size_t nearest(std::span<const float> xs, double x) {
  const auto it = std::lower_bound(xs.begin(), xs.end(), float(x));
  if (it == xs.begin()) return 0;
  if (it == xs.end()) return xs.size() - 1;
  const size_t i = size_t(it - xs.begin());
  return (double(xs[i]) - x < x - double(xs[i - 1])) ? i : i - 1;
}

}  // namespace

std::vector<float> smooth(const std::vector<float>& v, float alpha) {
  MovingAverage ema{alpha};
  std::vector<float> out;
  out.reserve(v.size());
  for (float x : v) out.push_back(ema.add(x));
  return out;
}

void draw_plot(const char* id, const PlotSpec& spec, ImVec2 size, const Fonts& fonts) {
  ImGui::PushID(id);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const ImVec2 p1(p0.x + size.x, p0.y + size.y);
  ImGui::InvisibleButton("##plot", size);
  const bool hovered = ImGui::IsItemHovered();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float fs = ImGui::GetFontSize();
  const float pad = fs * 0.6f;
  dl->AddRectFilled(p0, p1, palette::kPanel, fs * 0.25f);
  dl->AddRect(p0, p1, palette::kBorder, fs * 0.25f);

  // Title and legend on the first line.
  ImGui::PushFont(fonts.bold);
  dl->AddText(ImVec2(p0.x + pad, p0.y + pad * 0.7f), palette::kText, spec.title.c_str());
  const float title_w = ImGui::CalcTextSize(spec.title.c_str()).x;
  ImGui::PopFont();
  float lx = p1.x - pad;
  const float swatch = fs * 1.1f;
  for (auto it = spec.series.rbegin(); it != spec.series.rend(); ++it) {
    if (it->x.empty()) continue;
    const float w = ImGui::CalcTextSize(it->label.c_str()).x;
    lx -= w;
    if (lx - swatch - fs * 0.3f < p0.x + pad + title_w + fs) break;  // no room: fewer entries
    dl->AddText(ImVec2(lx, p0.y + pad * 0.7f), palette::kTextDim, it->label.c_str());
    const float cy = p0.y + pad * 0.7f + fs * 0.55f;
    dl->AddLine(ImVec2(lx - swatch - fs * 0.3f, cy), ImVec2(lx - fs * 0.3f, cy), it->color, 2.0f);
    if (it->markers) dl->AddCircleFilled(ImVec2(lx - swatch * 0.5f - fs * 0.3f, cy), 3.0f, it->color);
    lx -= swatch + fs * 1.2f;
  }

  // Ranges.
  double y_lo = std::numeric_limits<double>::infinity(), y_hi = -y_lo;
  bool any = false;
  for (const PlotSeries& s : spec.series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (s.x[i] < spec.x_min || s.x[i] > spec.x_max || !std::isfinite(s.y[i])) continue;
      y_lo = std::min(y_lo, double(s.y[i]));
      y_hi = std::max(y_hi, double(s.y[i]));
      any = true;
    }
  const float line_h = ImGui::GetTextLineHeight();
  const float top = p0.y + pad * 0.7f + line_h + pad * 0.8f;
  const float bottom = p1.y - pad * 0.5f - line_h - (spec.x_label.empty() ? 0 : line_h);
  if (!any) {
    if (probe::enabled()) report_plot(spec, p0, p1, 0);
    const char* text = spec.empty_text.empty() ? "no data yet" : spec.empty_text.c_str();
    const ImVec2 ts = ImGui::CalcTextSize(text);
    dl->AddText(ImVec2((p0.x + p1.x - ts.x) * 0.5f, (top + bottom - ts.y) * 0.5f),
                palette::kTextDim, text);
    ImGui::PopID();
    return;
  }
  if (spec.y_include_zero) y_lo = std::min(y_lo, 0.0);
  if (y_hi - y_lo < 1e-9) {
    const double d = std::max(std::fabs(y_hi) * 0.05, 1e-3);
    y_lo -= d;
    y_hi += d;
  }
  const int y_ticks_max = std::clamp(int((bottom - top) / (line_h * 1.8f)), 2, 8);
  nice_range(&y_lo, &y_hi, y_ticks_max);
  if (spec.y_percent) {
    y_lo = std::max(y_lo, 0.0);
    y_hi = std::min(y_hi, 1.0);
  }
  const std::vector<double> yt = nice_ticks(y_lo, y_hi, y_ticks_max);
  const double y_step = yt.size() >= 2 ? yt[1] - yt[0] : 1.0;
  float label_w = 0;
  for (double v : yt)
    label_w = std::max(label_w, ImGui::CalcTextSize(tick_label(v, y_step, spec.y_percent).c_str()).x);
  const float left = p0.x + pad + label_w + fs * 0.4f;
  const float right = p1.x - pad;
  const double x_lo = spec.x_min, x_hi = spec.x_max > spec.x_min ? spec.x_max : spec.x_min + 1;
  auto px = [&](double x) { return float(left + (x - x_lo) / (x_hi - x_lo) * (right - left)); };
  auto py = [&](double y) { return float(bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top)); };

  // Grid and tick labels.
  for (double v : yt) {
    const float y = py(v);
    dl->AddLine(ImVec2(left, y), ImVec2(right, y), palette::kGridMajor, 1.0f);
    const std::string s = tick_label(v, y_step, spec.y_percent);
    dl->AddText(ImVec2(left - fs * 0.4f - ImGui::CalcTextSize(s.c_str()).x, y - line_h * 0.5f),
                palette::kTextDim, s.c_str());
  }
  const int x_ticks_max = std::clamp(int((right - left) / (fs * 4)), 2, 12);
  const std::vector<double> xt = nice_ticks(x_lo, x_hi, x_ticks_max);
  const double x_step = xt.size() >= 2 ? xt[1] - xt[0] : 1.0;
  for (double v : xt) {
    const float x = px(v);
    dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), palette::kGridMinor, 1.0f);
    const std::string s = tick_label(v, x_step, false);
    dl->AddText(ImVec2(x - ImGui::CalcTextSize(s.c_str()).x * 0.5f, bottom + fs * 0.2f),
                palette::kTextDim, s.c_str());
  }
  dl->AddLine(ImVec2(left, bottom), ImVec2(right, bottom), palette::kBorder, 1.0f);
  if (!spec.x_label.empty()) {
    const ImVec2 ts = ImGui::CalcTextSize(spec.x_label.c_str());
    dl->AddText(ImVec2((left + right - ts.x) * 0.5f, bottom + fs * 0.2f + line_h),
                palette::kTextDim, spec.x_label.c_str());
  }

  // Series: one point per pixel column (its mean) for long ones.
  int drawn_series = 0;
  dl->PushClipRect(ImVec2(left - 4, top - 4), ImVec2(right + 4, bottom + 4), true);
  for (const PlotSeries& s : spec.series) {
    if (s.x.empty()) continue;
    std::vector<ImVec2> pts;
    pts.reserve(std::min<size_t>(s.x.size(), size_t(right - left) + 2));
    int column = std::numeric_limits<int>::min();
    double sx = 0, sy = 0;
    int n = 0;
    auto flush = [&] {
      if (n) pts.emplace_back(float(sx / n), float(sy / n));
      sx = sy = 0;
      n = 0;
    };
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      const float x = px(s.x[i]), y = py(s.y[i]);
      const int c = int(std::floor(x));
      if (c != column && !s.markers) flush();
      column = c;
      sx += x;
      sy += y;
      ++n;
      if (s.markers) flush();
    }
    flush();
    if (pts.size() >= 2) dl->AddPolyline(pts.data(), int(pts.size()), s.color, 0, s.thickness);
    if (s.markers)
      for (const ImVec2& q : pts) dl->AddCircleFilled(q, 3.0f, s.color);
    ++drawn_series;
    if (probe::enabled()) {
      // Points inside the x range shown (the clip rectangle hides the others).
      int shown = 0;
      for (const ImVec2& q : pts) shown += q.x >= left - 4 && q.x <= right + 4;
      probe::Drawn d;
      d.list = "series";
      d.id = spec.title + "/" + s.label;
      d.min = ImVec2(left, top);
      d.max = ImVec2(right, bottom);
      d.ink = over_panel(s.color);
      d.count = shown;
      d.flag("markers", s.markers);
      probe::drawn(std::move(d));
    }
  }
  dl->PopClipRect();
  if (probe::enabled()) report_plot(spec, p0, p1, drawn_series);

  // Hover: a cursor line and every series' value at the nearest point.
  const ImVec2 m = ImGui::GetIO().MousePos;
  if (hovered && m.x >= left && m.x <= right && m.y >= top && m.y <= bottom) {
    const double x = x_lo + (m.x - left) / (right - left) * (x_hi - x_lo);
    dl->AddLine(ImVec2(m.x, top), ImVec2(m.x, bottom), palette::kTextDim, 1.0f);
    ImGui::BeginTooltip();
    ImGui::Text("%s %.2f", spec.x_label.empty() ? "x" : spec.x_label.c_str(), x);
    for (const PlotSeries& s : spec.series) {
      if (s.x.empty()) continue;
      const size_t i = nearest(s.x, x);
      ImGui::PushStyleColor(ImGuiCol_Text, s.color);
      ImGui::TextUnformatted("\xE2\x97\x8F");  // ●
      ImGui::PopStyleColor();
      ImGui::SameLine();
      ImGui::Text("%s: %s (at %.2f)", s.label.c_str(), value_label(s.y[i], spec.y_percent).c_str(),
                  double(s.x[i]));
    }
    ImGui::EndTooltip();
  }
  ImGui::PopID();
}

}  // namespace fw::gui
