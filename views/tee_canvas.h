// A canvas that passes every call on to two canvases, first `a` then `b`: how a test sees what a
// view draws on screen (the screen's canvas teed into a RecordingCanvas).
#pragma once
#include "views/canvas.h"

namespace fw::views {

class TeeCanvas final : public Canvas {
 public:
  TeeCanvas(Canvas& a, Canvas& b) : a_(a), b_(b) {}

  void line(Vec2 p, Vec2 q, const Stroke& s) override {
    a_.line(p, q, s);
    b_.line(p, q, s);
  }
  void polyline(const std::vector<Vec2>& points, const Stroke& s, bool closed) override {
    a_.polyline(points, s, closed);
    b_.polyline(points, s, closed);
  }
  void bezier(Vec2 p0, Vec2 p1, Vec2 p2, Vec2 p3, const Stroke& s) override {
    a_.bezier(p0, p1, p2, p3, s);
    b_.bezier(p0, p1, p2, p3, s);
  }
  void rect(Vec2 min, Vec2 max, Color fill, const Stroke& s, float rounding,
            uint8_t corners) override {
    a_.rect(min, max, fill, s, rounding, corners);
    b_.rect(min, max, fill, s, rounding, corners);
  }
  void circle(Vec2 centre, float radius, Color fill, const Stroke& s) override {
    a_.circle(centre, radius, fill, s);
    b_.circle(centre, radius, fill, s);
  }
  void polygon(const std::vector<Vec2>& points, Color fill, const Stroke& s) override {
    a_.polygon(points, fill, s);
    b_.polygon(points, fill, s);
  }
  void text(Vec2 pos, std::string_view utf8, const Font& f, Color c, Align align) override {
    a_.text(pos, utf8, f, c, align);
    b_.text(pos, utf8, f, c, align);
  }
  void image(Vec2 min, Vec2 max, const Image& img) override {
    a_.image(min, max, img);
    b_.image(min, max, img);
  }
  void push_clip(Vec2 min, Vec2 max) override {
    a_.push_clip(min, max);
    b_.push_clip(min, max);
  }
  void pop_clip() override {
    a_.pop_clip();
    b_.pop_clip();
  }
  void begin_group(std::string_view id) override {
    a_.begin_group(id);
    b_.begin_group(id);
  }
  void end_group() override {
    a_.end_group();
    b_.end_group();
  }

 private:
  Canvas& a_;
  Canvas& b_;
};

}  // namespace fw::views
