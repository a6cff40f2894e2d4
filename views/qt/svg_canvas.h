// views::Canvas as SVG text, for views/picture_export.h's SVG files. Written directly rather than
// through QSvgGenerator, which (Qt 6.4) drops clips and has no groups; this keeps both:
//
// - Groups are <g id="..."> elements, nested as the calls nest (an id used again gets "#2", "#3"
//   so ids stay unique). Clips are <clipPath> rectangles applied by nested <g clip-path>.
// - Text stays text: <text> in the DejaVu family of its face (with a generic fallback), font-size
//   = the em size (Font::size * em_per_size), the baseline at pos.y + ascent(f), aligned by
//   text-anchor. Invalid UTF-8 and XML-illegal control characters become U+FFFD.
// - Strokes: butt caps, miter joins, dashes of 3 and 2 line widths; kNone / width <= 0: none.
// - Images: PNG data URIs; a nearest-neighbour one asks for image-rendering: pixelated.
// - Numbers are written locale-independently with at most 3 decimals.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "views/canvas.h"

namespace fw::views {

class SvgCanvas final : public Canvas {
 public:
  // `size`: the width and height (px) and viewBox; `title` goes into <title>.
  SvgCanvas(Vec2 size, const std::string& title, Color background);

  void line(Vec2 a, Vec2 b, const Stroke& s) override;
  void polyline(const std::vector<Vec2>& points, const Stroke& s, bool closed) override;
  void bezier(Vec2 p0, Vec2 p1, Vec2 p2, Vec2 p3, const Stroke& s) override;
  void rect(Vec2 min, Vec2 max, Color fill, const Stroke& s, float rounding,
            uint8_t corners) override;
  void circle(Vec2 centre, float radius, Color fill, const Stroke& s) override;
  void polygon(const std::vector<Vec2>& points, Color fill, const Stroke& s) override;
  void text(Vec2 pos, std::string_view utf8, const Font& f, Color c, Align align) override;
  void image(Vec2 min, Vec2 max, const Image& img) override;
  void push_clip(Vec2 min, Vec2 max) override;
  void pop_clip() override;
  void begin_group(std::string_view id) override;
  void end_group() override;

  size_t open_clips() const { return clips_; }
  size_t open_groups() const { return groups_; }
  // The whole document (call once every clip and group is closed).
  std::string finish();

 private:
  void indent();
  void paint(Color fill, const Stroke& s);

  std::string out_;
  size_t clips_ = 0, groups_ = 0, depth_ = 1;
  int next_clip_ = 0;
  std::set<std::string> ids_;
};

}  // namespace fw::views
