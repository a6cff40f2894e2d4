#include "views/canvas.h"

#include <cmath>

namespace fw::views {

using Op = RecordingCanvas::Op;

namespace {

RecordingCanvas::Command command(Op op, std::vector<Vec2> points = {}) {
  RecordingCanvas::Command c;
  c.op = op;
  c.points = std::move(points);
  return c;
}

}  // namespace

void RecordingCanvas::line(Vec2 a, Vec2 b, const Stroke& s) {
  Command c = command(Op::Line, {a, b});
  c.stroke = s;
  commands_.push_back(std::move(c));
}
void RecordingCanvas::polyline(const std::vector<Vec2>& points, const Stroke& s, bool closed) {
  Command c = command(Op::Polyline, points);
  c.flags = static_cast<uint8_t>(closed);
  c.stroke = s;
  commands_.push_back(std::move(c));
}
void RecordingCanvas::bezier(Vec2 p0, Vec2 p1, Vec2 p2, Vec2 p3, const Stroke& s) {
  Command c = command(Op::Bezier, {p0, p1, p2, p3});
  c.stroke = s;
  commands_.push_back(std::move(c));
}
void RecordingCanvas::rect(Vec2 min, Vec2 max, Color fill, const Stroke& s, float rounding,
                           uint8_t corners) {
  Command c = command(Op::Rect, {min, max});
  c.value = rounding;
  c.flags = corners;
  c.fill = fill;
  c.stroke = s;
  commands_.push_back(std::move(c));
}
void RecordingCanvas::circle(Vec2 centre, float radius, Color fill, const Stroke& s) {
  Command c = command(Op::Circle, {centre});
  c.value = radius;
  c.fill = fill;
  c.stroke = s;
  commands_.push_back(std::move(c));
}
void RecordingCanvas::polygon(const std::vector<Vec2>& points, Color fill, const Stroke& s) {
  Command c = command(Op::Polygon, points);
  c.fill = fill;
  c.stroke = s;
  commands_.push_back(std::move(c));
}
void RecordingCanvas::text(Vec2 pos, std::string_view utf8, const Font& f, Color colour,
                           Align align) {
  Command c = command(Op::Text, {pos});
  c.flags = static_cast<uint8_t>(align);
  c.fill = colour;
  c.font = f;
  c.text = std::string(utf8);
  commands_.push_back(std::move(c));
}
void RecordingCanvas::image(Vec2 min, Vec2 max, const Image& img) {
  Command c = command(Op::Image, {min, max});
  c.flags = static_cast<uint8_t>(img.smooth);
  c.text = std::to_string(img.width) + "x" + std::to_string(img.height) + "#" +
           std::to_string(img.key);
  commands_.push_back(std::move(c));
}
void RecordingCanvas::push_clip(Vec2 min, Vec2 max) {
  commands_.push_back(command(Op::PushClip, {min, max}));
}
void RecordingCanvas::pop_clip() { commands_.push_back(command(Op::PopClip)); }
void RecordingCanvas::begin_group(std::string_view id) {
  Command c = command(Op::Begin);
  c.text = std::string(id);
  commands_.push_back(std::move(c));
}
void RecordingCanvas::end_group() { commands_.push_back(command(Op::End)); }

std::vector<std::string> RecordingCanvas::texts() const {
  std::vector<std::string> out;
  for (const Command& c : commands_)
    if (c.op == Op::Text) out.push_back(c.text);
  return out;
}

std::vector<std::string> RecordingCanvas::groups() const {
  std::vector<std::string> out;
  for (const Command& c : commands_)
    if (c.op == Op::Begin) out.push_back(c.text);
  return out;
}

namespace {

const char* op_name(Op op) {
  static const char* names[] = {"line", "polyline", "bezier", "rect", "circle", "polygon",
                                "text", "image", "push_clip", "pop_clip", "begin", "end"};
  return names[static_cast<int>(op)];
}

bool near(float a, float b) { return std::fabs(a - b) <= 1e-3f; }

}  // namespace

std::string RecordingCanvas::diff(const RecordingCanvas& other) const {
  const auto& a = commands_;
  const auto& b = other.commands_;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const Command &x = a[i], &y = b[i];
    const std::string at = "command " + std::to_string(i) + " (" + op_name(x.op) + "): ";
    if (x.op != y.op) return at + "vs " + op_name(y.op);
    if (x.text != y.text) return at + "'" + x.text + "' vs '" + y.text + "'";
    if (x.points.size() != y.points.size()) return at + "point counts differ";
    for (size_t k = 0; k < x.points.size(); ++k)
      if (!near(x.points[k].x, y.points[k].x) || !near(x.points[k].y, y.points[k].y))
        return at + "point " + std::to_string(k) + " (" + std::to_string(x.points[k].x) + ", " +
               std::to_string(x.points[k].y) + ") vs (" + std::to_string(y.points[k].x) + ", " +
               std::to_string(y.points[k].y) + ")";
    if (!near(x.value, y.value) || x.flags != y.flags || x.fill != y.fill)
      return at + "value, flags or fill differ";
    if (x.stroke.color != y.stroke.color || x.stroke.dashed != y.stroke.dashed ||
        !near(x.stroke.width, y.stroke.width))
      return at + "stroke differs";
    if (x.font.face != y.font.face || !near(x.font.size, y.font.size))
      return at + "font differs";
  }
  if (a.size() != b.size())
    return std::to_string(a.size()) + " commands vs " + std::to_string(b.size());
  return "";
}

}  // namespace fw::views
