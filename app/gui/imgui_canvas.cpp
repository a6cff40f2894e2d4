#include "app/gui/imgui_canvas.h"

#include <algorithm>
#include <cmath>

#include "views/text_metrics.h"

namespace fw::gui {

namespace {

ImVec2 im(views::Vec2 p) { return ImVec2(p.x, p.y); }

bool visible(views::Color c) { return views::alpha(c) != 0; }

ImDrawFlags corner_flags(uint8_t corners) {
  if ((corners & views::kCornersAll) == views::kCornersAll) return ImDrawFlags_RoundCornersAll;
  ImDrawFlags f = 0;
  if (corners & views::kCornerTL) f |= ImDrawFlags_RoundCornersTopLeft;
  if (corners & views::kCornerTR) f |= ImDrawFlags_RoundCornersTopRight;
  if (corners & views::kCornerBR) f |= ImDrawFlags_RoundCornersBottomRight;
  if (corners & views::kCornerBL) f |= ImDrawFlags_RoundCornersBottomLeft;
  return f ? f : ImDrawFlags_RoundCornersNone;
}

int bezier_segments(views::Vec2 a, views::Vec2 b) {
  const float len = std::hypot(b.x - a.x, b.y - a.y);
  return std::clamp(static_cast<int>(len / 14.0f), 3, 24);
}

// 12 up to a radius of 5 px, then about 2.4 per pixel of radius.
int circle_segments(float r) { return std::clamp(static_cast<int>(std::lround(r * 2.4f)), 12, 64); }

// Dashes of 3 and gaps of 2 line widths along the polyline, starting with a dash.
void dash(ImDrawList* dl, const std::vector<ImVec2>& pts, bool closed, ImU32 col, float width) {
  const size_t n = pts.size();
  if (n < 2) return;
  const float on = 3 * width, off = 2 * width;
  std::vector<ImVec2> cur = {pts[0]};
  bool drawing = true;
  float left = on;  // of the current dash or gap
  const size_t segments = closed ? n : n - 1;
  for (size_t i = 0; i < segments; ++i) {
    const ImVec2 a = pts[i], b = pts[(i + 1) % n];
    const float len = std::hypot(b.x - a.x, b.y - a.y);
    float pos = 0;
    while (len - pos > left) {
      pos += left;
      const float t = pos / len;
      const ImVec2 p(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
      if (drawing) {
        cur.push_back(p);
        dl->AddPolyline(cur.data(), static_cast<int>(cur.size()), col, 0, width);
        cur.clear();
      } else {
        cur.assign(1, p);
      }
      drawing = !drawing;
      left = drawing ? on : off;
    }
    left -= len - pos;
    if (drawing) cur.push_back(b);
  }
  if (drawing && cur.size() >= 2)
    dl->AddPolyline(cur.data(), static_cast<int>(cur.size()), col, 0, width);
}

}  // namespace

// ---- TextureCache
// --------------------------------------------------------------------------------

void TextureCache::collect() {
  const int now = ImGui::GetFrameCount();
  if (now == frame_) return;
  frame_ = now;
  for (auto it = keyed_.begin(); it != keyed_.end();)
    it = it->second.used < now - 1 ? keyed_.erase(it) : std::next(it);
  transient_.erase(std::remove_if(transient_.begin(), transient_.end(),
                                  [&](const auto& t) { return t.first < now; }),
                   transient_.end());
}

const Texture& TextureCache::get(const views::Image& img) {
  collect();
  if (img.key == 0) {
    transient_.emplace_back(frame_, Texture());
    transient_.back().second.set_rgba(img.rgba, img.width, img.height, img.smooth);
    return transient_.back().second;
  }
  auto [it, added] = keyed_.try_emplace(img.key);
  Entry& e = it->second;
  if (added || e.smooth != img.smooth || e.texture.width() != img.width ||
      e.texture.height() != img.height) {
    e.texture.set_rgba(img.rgba, img.width, img.height, img.smooth);
    e.smooth = img.smooth;
  }
  e.used = frame_;
  return e.texture;
}

TextureCache& texture_cache() {
  static TextureCache cache;
  return cache;
}

// ---- ImGuiCanvas
// ---------------------------------------------------------------------------------

ImGuiCanvas::ImGuiCanvas(ImDrawList* dl, const Fonts& fonts, TextureCache& textures)
    : dl_(dl), fonts_(fonts), textures_(textures) {
  textures_.collect();
}

ImGuiCanvas::~ImGuiCanvas() {
  IM_ASSERT(clips_.empty() && "ImGuiCanvas: push_clip without pop_clip");
  IM_ASSERT(groups_ == 0 && "ImGuiCanvas: begin_group without end_group");
  for (const PendingClip& c : clips_)
    if (c.pushed) dl_->PopClipRect();
}

ImFont* ImGuiCanvas::font(views::FontFace face) const {
  ImFont* const faces[] = {fonts_.canvas_regular,   fonts_.canvas_bold,  fonts_.canvas_mono,
                           fonts_.canvas_mono_bold, fonts_.canvas_serif, fonts_.canvas_serif_bold};
  static_assert(static_cast<int>(views::FontFace::SerifBold) == 5, "one font per FontFace");
  ImFont* f = faces[static_cast<int>(face)];
  return f ? f : ImGui::GetFont();
}

void ImGuiCanvas::apply_clips() {
  for (PendingClip& c : clips_)
    if (!c.pushed) {
      dl_->PushClipRect(ImVec2(c.rect.x, c.rect.y), ImVec2(c.rect.z, c.rect.w), true);
      c.pushed = true;
    }
}

void ImGuiCanvas::stroke_path(const views::Stroke& s, bool closed) {
  if (!s.dashed) {
    dl_->PathStroke(s.color, closed ? ImDrawFlags_Closed : 0, s.width);
    return;
  }
  const std::vector<ImVec2> pts(dl_->_Path.Data, dl_->_Path.Data + dl_->_Path.Size);
  dl_->PathClear();
  dash(dl_, pts, closed, s.color, s.width);
}

void ImGuiCanvas::line(views::Vec2 a, views::Vec2 b, const views::Stroke& s) {
  if (!visible(s.color)) return;
  apply_clips();
  dl_->PathLineTo(im(a));
  dl_->PathLineTo(im(b));
  stroke_path(s, false);
}

void ImGuiCanvas::polyline(const std::vector<views::Vec2>& points, const views::Stroke& s,
                           bool closed) {
  if (!visible(s.color) || points.size() < 2) return;
  apply_clips();
  for (views::Vec2 p : points) dl_->PathLineTo(im(p));
  stroke_path(s, closed);
}

void ImGuiCanvas::bezier(views::Vec2 p0, views::Vec2 p1, views::Vec2 p2, views::Vec2 p3,
                         const views::Stroke& s) {
  if (!visible(s.color)) return;
  apply_clips();
  dl_->PathLineTo(im(p0));
  dl_->PathBezierCubicCurveTo(im(p1), im(p2), im(p3), bezier_segments(p0, p3));
  stroke_path(s, false);
}

void ImGuiCanvas::rect(views::Vec2 min, views::Vec2 max, views::Color fill, const views::Stroke& s,
                       float rounding, uint8_t corners) {
  if (!visible(fill) && !visible(s.color)) return;
  apply_clips();
  const ImDrawFlags flags = corner_flags(corners);
  if (visible(fill)) dl_->AddRectFilled(im(min), im(max), fill, rounding, flags);
  if (!visible(s.color)) return;
  if (!s.dashed) {
    dl_->AddRect(im(min), im(max), s.color, rounding, flags, s.width);
  } else {
    dl_->PathRect(ImVec2(min.x + 0.5f, min.y + 0.5f), ImVec2(max.x - 0.5f, max.y - 0.5f), rounding,
                  flags);
    stroke_path(s, true);
  }
}

void ImGuiCanvas::circle(views::Vec2 centre, float radius, views::Color fill,
                         const views::Stroke& s) {
  if (!visible(fill) && !visible(s.color)) return;
  apply_clips();
  const int n = circle_segments(radius);
  if (visible(fill)) dl_->AddCircleFilled(im(centre), radius, fill, n);
  if (!visible(s.color)) return;
  if (!s.dashed) {
    dl_->AddCircle(im(centre), radius, s.color, n, s.width);
  } else {
    constexpr float kTwoPi = 6.28318530718f;
    const float a_max = kTwoPi * (static_cast<float>(n) - 1.0f) / static_cast<float>(n);
    dl_->PathArcTo(im(centre), radius - 0.5f, 0.0f, a_max, n - 1);
    stroke_path(s, true);
  }
}

void ImGuiCanvas::polygon(const std::vector<views::Vec2>& points, views::Color fill,
                          const views::Stroke& s) {
  if (points.size() < 3 || (!visible(fill) && !visible(s.color))) return;
  apply_clips();
  std::vector<ImVec2> pts;
  pts.reserve(points.size());
  for (views::Vec2 p : points) pts.push_back(im(p));
  if (visible(fill)) dl_->AddConvexPolyFilled(pts.data(), static_cast<int>(pts.size()), fill);
  if (!visible(s.color)) return;
  if (!s.dashed)
    dl_->AddPolyline(pts.data(), static_cast<int>(pts.size()), s.color, ImDrawFlags_Closed,
                     s.width);
  else
    dash(dl_, pts, true, s.color, s.width);
}

void ImGuiCanvas::text(views::Vec2 pos, std::string_view utf8, const views::Font& f, views::Color c,
                       views::Align align) {
  if (utf8.empty() || !visible(c)) return;
  float x = pos.x;
  if (align != views::Align::Left) {
    const float w = views::text_width(utf8, f);
    x -= align == views::Align::Right ? w : w * 0.5f;
  }
  const ImVec4* fine = clips_.empty() || clips_.back().pushed ? nullptr : &clips_.back().rect;
  dl_->AddText(font(f.face), f.size, ImVec2(x, pos.y), c, utf8.data(), utf8.data() + utf8.size(),
               0.0f, fine);
}

void ImGuiCanvas::image(views::Vec2 min, views::Vec2 max, const views::Image& img) {
  apply_clips();
  draw_texture(dl_, textures_.get(img), im(min), im(max));
}

void ImGuiCanvas::push_clip(views::Vec2 min, views::Vec2 max) {
  ImVec4 base;
  if (clips_.empty()) {
    const ImVec2 lo = dl_->GetClipRectMin(), hi = dl_->GetClipRectMax();
    base = ImVec4(lo.x, lo.y, hi.x, hi.y);
  } else {
    base = clips_.back().rect;
  }
  ImVec4 r(std::max(min.x, base.x), std::max(min.y, base.y), std::min(max.x, base.z),
           std::min(max.y, base.w));
  r.z = std::max(r.x, r.z);
  r.w = std::max(r.y, r.w);
  clips_.push_back({r, false});
}

void ImGuiCanvas::pop_clip() {
  IM_ASSERT(!clips_.empty() && "ImGuiCanvas: pop_clip without push_clip");
  if (clips_.empty()) return;
  if (clips_.back().pushed) dl_->PopClipRect();
  clips_.pop_back();
}

void ImGuiCanvas::begin_group(std::string_view) { ++groups_; }

void ImGuiCanvas::end_group() {
  IM_ASSERT(groups_ > 0 && "ImGuiCanvas: end_group without begin_group");
  --groups_;
}

}  // namespace fw::gui
