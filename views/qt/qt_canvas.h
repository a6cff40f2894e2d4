// views::Canvas over a QPainter: what the SVG, PDF and PNG exporters (picture_export_qt.cpp) draw
// through. Internal to formwork_qtexport, the one library that includes Qt.
//
// - Strokes: flat caps, miter joins, dashes of 3 and 2 line widths (Qt's CustomDashLine counts in
//   pen widths); a stroke of colour kNone (alpha 0) or width <= 0 draws no outline.
// - Text: the DejaVu TTFs of views::font_file(), loaded into Qt's font database, at an em size of
//   Font::size * em_per_size(face) output units (qt_font, qt_font_scale), hinting and kerning off,
//   so that Qt's advances are views::text_width()'s. The line box's top is `pos.y`; the baseline is
//   pos.y + ascent(f). Alignment uses text_width(), the same width the layouts were measured with.
// - Clips nest by save()/restore() with IntersectClip; groups are kept as a stack only (QPainter
//   has no notion of them). Both must balance, as the Canvas contract says.
#pragma once
#include <QFont>
#include <QPainter>
#include <string>
#include <vector>

#include "views/canvas.h"

namespace fw::views {

class QtCanvas final : public Canvas {
 public:
  // `painter` is active on its device; the canvas sets antialiasing and leaves the painter's
  // transform alone (output units are device units).
  explicit QtCanvas(QPainter& painter);
  ~QtCanvas() override;

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

  // Clips and groups still open (0 and 0 once a picture has drawn itself).
  size_t open_clips() const { return clips_; }
  size_t open_groups() const { return groups_.size(); }

 private:
  void set_pen(const Stroke& s);
  void set_brush(Color fill);

  QPainter& p_;
  size_t clips_ = 0;
  std::vector<std::string> groups_;
};

// Text is drawn with a font of kQtTextPx pixels under a scale to the em size: Qt rounds font sizes
// to whole pixels (an 11.17 px em would be laid out at 11 px, 1.5% narrow), a scale it does not.
inline constexpr int kQtTextPx = 256;
// The QFont of a face at kQtTextPx pixels (hinting and kerning off). Needs a QGuiApplication.
QFont qt_font(FontFace face);
// Font::size -> the scale that brings qt_font() to its em size.
double qt_font_scale(const Font& f);
// The family of a face's DejaVu file, loaded once into QFontDatabase ("DejaVu Sans", ...; when
// Qt cannot load the file, the system's font of that name is asked for). Needs a QGuiApplication.
QString qt_family(FontFace face);

}  // namespace fw::views
