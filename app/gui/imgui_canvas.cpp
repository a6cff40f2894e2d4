#include "app/gui/imgui_canvas.h"

#include <cmath>

#include "core/error.h"
#include "views/image.h"
#include "views/text_metrics.h"

namespace fw::gui {

namespace {

ImVec2 iv(views::Vec2 p) { return ImVec2(p.x, p.y); }

ImDrawFlags corner_flags(uint8_t c) {
  ImDrawFlags f = 0;
  if (c & views::kCornerTL) f |= ImDrawFlags_RoundCornersTopLeft;
  if (c & views::kCornerTR) f |= ImDrawFlags_RoundCornersTopRight;
  if (c & views::kCornerBR) f |= ImDrawFlags_RoundCornersBottomRight;
  if (c & views::kCornerBL) f |= ImDrawFlags_RoundCornersBottomLeft;
  return f == 0 ? ImDrawFlags_RoundCornersNone : f;
}

}  // namespace

ImGuiCanvas::~ImGuiCanvas() {
  FW_ASSERT(clips_ == 0 && groups_ == 0, "ImGuiCanvas: unbalanced clips or groups");
}

ImFont* ImGuiCanvas::font_for(views::FontFace face) const {
  using F = views::FontFace;
  switch (face) {
    case F::SansBold: return fonts_.canvas_bold;
    case F::Mono:
    case F::MonoBold: return fonts_.canvas_mono;
    case F::Serif: return fonts_.canvas_serif ? fonts_.canvas_serif : fonts_.canvas_regular;
    case F::SerifBold: return fonts_.canvas_serif_bold ? fonts_.canvas_serif_bold : fonts_.canvas_bold;
    case F::Sans: break;
  }
  return fonts_.canvas_regular;
}

void ImGuiCanvas::stroke_path(const std::vector<ImVec2>& pts, const views::Stroke& s, bool closed) {
  if (s.color == views::kNone || pts.size() < 2) return;
  if (!s.dashed) {
    dl_->AddPolyline(pts.data(), static_cast<int>(pts.size()), s.color,
                     closed ? ImDrawFlags_Closed : ImDrawFlags_None, s.width);
    return;
  }
  const float dash = 3 * s.width, gap = 2 * s.width;
  float phase = 0;  // distance into the current dash+gap period
  const size_t n = pts.size() + (closed ? 1 : 0);
  for (size_t i = 1; i < n; ++i) {
    const ImVec2 a = pts[i - 1], b = pts[i % pts.size()];
    const float len = std::hypot(b.x - a.x, b.y - a.y);
    float at = 0;
    while (at < len) {
      const bool on = phase < dash;
      const float step = std::min(len - at, on ? dash - phase : dash + gap - phase);
      if (on) {
        const float t0 = at / len, t1 = (at + step) / len;
        dl_->AddLine(ImVec2(a.x + (b.x - a.x) * t0, a.y + (b.y - a.y) * t0),
                     ImVec2(a.x + (b.x - a.x) * t1, a.y + (b.y - a.y) * t1), s.color, s.width);
      }
      at += step;
      phase = std::fmod(phase + step, dash + gap);
    }
  }
}

void ImGuiCanvas::line(views::Vec2 a, views::Vec2 b, const views::Stroke& s) {
  stroke_path({iv(a), iv(b)}, s, false);
}

void ImGuiCanvas::polyline(const std::vector<views::Vec2>& points, const views::Stroke& s,
                           bool closed) {
  std::vector<ImVec2> pts;
  for (views::Vec2 p : points) pts.push_back(iv(p));
  stroke_path(pts, s, closed);
}

void ImGuiCanvas::bezier(views::Vec2 p0, views::Vec2 p1, views::Vec2 p2, views::Vec2 p3,
                         const views::Stroke& s) {
  if (s.color == views::kNone) return;
  if (!s.dashed) {
    dl_->AddBezierCubic(iv(p0), iv(p1), iv(p2), iv(p3), s.color, s.width);
    return;
  }
  std::vector<ImVec2> pts;
  constexpr int kSteps = 24;
  for (int i = 0; i <= kSteps; ++i) {
    const float t = static_cast<float>(i) / kSteps, u = 1 - t;
    const float a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
    pts.emplace_back(a * p0.x + b * p1.x + c * p2.x + d * p3.x,
                     a * p0.y + b * p1.y + c * p2.y + d * p3.y);
  }
  stroke_path(pts, s, false);
}

void ImGuiCanvas::rect(views::Vec2 min, views::Vec2 max, views::Color fill, const views::Stroke& s,
                       float rounding, uint8_t corners) {
  const ImDrawFlags f = corner_flags(corners);
  if (fill != views::kNone) dl_->AddRectFilled(iv(min), iv(max), fill, rounding, f);
  if (s.color == views::kNone) return;
  if (!s.dashed) {
    dl_->AddRect(iv(min), iv(max), s.color, rounding, f, s.width);
    return;
  }
  stroke_path({iv(min), ImVec2(max.x, min.y), iv(max), ImVec2(min.x, max.y)}, s, true);
}

void ImGuiCanvas::circle(views::Vec2 centre, float radius, views::Color fill,
                         const views::Stroke& s) {
  const int segments = std::clamp(static_cast<int>(radius * 1.5f), 12, 64);
  if (fill != views::kNone) dl_->AddCircleFilled(iv(centre), radius, fill, segments);
  if (s.color == views::kNone) return;
  if (!s.dashed) {
    dl_->AddCircle(iv(centre), radius, s.color, segments, s.width);
    return;
  }
  std::vector<ImVec2> pts;
  for (int i = 0; i < segments; ++i) {
    const float a = 6.2831853f * static_cast<float>(i) / static_cast<float>(segments);
    pts.emplace_back(centre.x + radius * std::cos(a), centre.y + radius * std::sin(a));
  }
  stroke_path(pts, s, true);
}

void ImGuiCanvas::polygon(const std::vector<views::Vec2>& points, views::Color fill,
                          const views::Stroke& s) {
  std::vector<ImVec2> pts;
  for (views::Vec2 p : points) pts.push_back(iv(p));
  if (fill != views::kNone && pts.size() >= 3)
    dl_->AddConvexPolyFilled(pts.data(), static_cast<int>(pts.size()), fill);
  stroke_path(pts, s, true);
}

void ImGuiCanvas::text(views::Vec2 pos, std::string_view utf8, const views::Font& f,
                       views::Color c, views::Align align) {
  if (utf8.empty() || f.size < 1) return;
  float x = pos.x;
  if (align != views::Align::Left) {
    const float w = views::text_width(utf8, f);
    x -= align == views::Align::Center ? w / 2 : w;
  }
  dl_->AddText(font_for(f.face), f.size, ImVec2(x, pos.y), c, utf8.data(), utf8.data() + utf8.size());
}

void ImGuiCanvas::image(views::Vec2 min, views::Vec2 max, const views::Image& img) {
  if (!img.rgba || img.width <= 0 || img.height <= 0) return;
  Texture* tex = nullptr;
  auto upload = [&](Texture& t) {
    Image rgb(img.width, img.height);  // over white, as the exporters' paper
    for (size_t i = 0, n = size_t(img.width) * img.height; i < n; ++i) {
      const unsigned a = img.rgba[i * 4 + 3];
      for (int k = 0; k < 3; ++k)
        rgb.rgb[i * 3 + k] = static_cast<uint8_t>((img.rgba[i * 4 + k] * a + 255 * (255 - a)) / 255);
    }
    t.set(rgb, img.smooth);
  };
  if (img.key != 0) {
    auto& slot = textures_[img.key];
    if (!slot) upload(*(slot = std::make_unique<Texture>()));
    tex = slot.get();
  } else {
    frame_textures_.push_back(std::make_unique<Texture>());
    upload(*frame_textures_.back());
    tex = frame_textures_.back().get();
  }
  draw_texture(dl_, *tex, iv(min), iv(max));
}

void ImGuiCanvas::push_clip(views::Vec2 min, views::Vec2 max) {
  dl_->PushClipRect(iv(min), iv(max), true);
  ++clips_;
}

void ImGuiCanvas::pop_clip() {
  FW_ASSERT(clips_ > 0, "ImGuiCanvas: pop_clip without push_clip");
  dl_->PopClipRect();
  --clips_;
}

void ImGuiCanvas::begin_group(std::string_view) { ++groups_; }

void ImGuiCanvas::end_group() {
  FW_ASSERT(groups_ > 0, "ImGuiCanvas: end_group without begin_group");
  --groups_;
}

}  // namespace fw::gui
