#include "views/qt/qt_canvas.h"

#include <QFontDatabase>
#include <QImage>
#include <QPainterPath>
#include <QPen>
#include <algorithm>
#include <array>
#include <mutex>

#include "core/error.h"
#include "views/text_metrics.h"

namespace fw::views {

namespace {

QColor qcolor(Color c) {
  return QColor(static_cast<int>(red(c)), static_cast<int>(green(c)), static_cast<int>(blue(c)),
                static_cast<int>(alpha(c)));
}
QPointF qpoint(Vec2 p) { return {p.x, p.y}; }
QPolygonF qpolygon(const std::vector<Vec2>& points) {
  QPolygonF poly;
  poly.reserve(static_cast<qsizetype>(points.size()));
  for (Vec2 p : points) poly << qpoint(p);
  return poly;
}
bool strokes(const Stroke& s) { return alpha(s.color) != 0 && s.width > 0; }


// A rectangle with the corners in `corners` rounded by `r` (clamped as ImGui clamps it: to half
// the side where both corners of that side are rounded, else the whole side).
QPainterPath rounded_rect(QRectF q, float r, uint8_t corners) {
  const bool both_h =
      (corners & kCornersTop) == kCornersTop || (corners & kCornersBottom) == kCornersBottom;
  const bool both_v = (corners & (kCornerTL | kCornerBL)) == (kCornerTL | kCornerBL) ||
                      (corners & (kCornerTR | kCornerBR)) == (kCornerTR | kCornerBR);
  const qreal rr = std::min(
      {static_cast<qreal>(r), q.width() * (both_h ? 0.5 : 1.0), q.height() * (both_v ? 0.5 : 1.0)});
  QPainterPath path;
  if (rr <= 0 || corners == 0) {
    path.addRect(q);
    return path;
  }
  const qreal tl = corners & kCornerTL ? rr : 0, tr = corners & kCornerTR ? rr : 0;
  const qreal br = corners & kCornerBR ? rr : 0, bl = corners & kCornerBL ? rr : 0;
  const qreal x0 = q.left(), y0 = q.top(), x1 = q.right(), y1 = q.bottom();
  // Clockwise on screen from the top edge; Qt's angles are counter-clockwise from 3 o'clock.
  path.moveTo(x0 + tl, y0);
  path.lineTo(x1 - tr, y0);
  if (tr > 0) path.arcTo(QRectF(x1 - 2 * tr, y0, 2 * tr, 2 * tr), 90, -90);
  path.lineTo(x1, y1 - br);
  if (br > 0) path.arcTo(QRectF(x1 - 2 * br, y1 - 2 * br, 2 * br, 2 * br), 0, -90);
  path.lineTo(x0 + bl, y1);
  if (bl > 0) path.arcTo(QRectF(x0, y1 - 2 * bl, 2 * bl, 2 * bl), 270, -90);
  path.lineTo(x0, y0 + tl);
  if (tl > 0) path.arcTo(QRectF(x0, y0, 2 * tl, 2 * tl), 180, -90);
  path.closeSubpath();
  return path;
}

}  // namespace

QString qt_family(FontFace face) {
  static std::array<QString, 6> families;
  static std::once_flag once;
  std::call_once(once, [] {
    for (int i = 0; i < 6; ++i) {
      const auto f = static_cast<FontFace>(i);
      const int id = QFontDatabase::addApplicationFont(QString::fromStdString(font_file(f)));
      const QStringList names =
          id >= 0 ? QFontDatabase::applicationFontFamilies(id) : QStringList();
      families[i] = names.isEmpty() ? QString(font_family(f)) : names.front();
    }
  });
  return families[static_cast<size_t>(face)];
}

QFont qt_font(FontFace face) {
  QFont font(qt_family(face));
  font.setWeight(font_bold(face) ? QFont::Bold : QFont::Normal);
  font.setStyle(QFont::StyleNormal);
  font.setKerning(false);
  font.setHintingPreference(QFont::PreferNoHinting);
  font.setStyleStrategy(QFont::PreferAntialias);
  font.setPixelSize(kQtTextPx);
  return font;
}

double qt_font_scale(const Font& f) {
  return static_cast<double>(f.size) * em_per_size(f.face) / kQtTextPx;
}

QtCanvas::QtCanvas(QPainter& painter) : p_(painter) {
  p_.setRenderHint(QPainter::Antialiasing, true);
  p_.setRenderHint(QPainter::TextAntialiasing, true);
}

QtCanvas::~QtCanvas() {
  while (clips_ > 0) pop_clip();  // after an exception inside a picture's draw
}

void QtCanvas::set_pen(const Stroke& s) {
  if (!strokes(s)) {
    p_.setPen(Qt::NoPen);
    return;
  }
  QPen pen(qcolor(s.color), s.width, Qt::SolidLine, Qt::FlatCap, Qt::MiterJoin);
  if (s.dashed) pen.setDashPattern({3, 2});  // in pen widths: CustomDashLine
  p_.setPen(pen);
}

void QtCanvas::set_brush(Color fill) {
  if (alpha(fill) == 0)
    p_.setBrush(Qt::NoBrush);
  else
    p_.setBrush(qcolor(fill));
}

void QtCanvas::line(Vec2 a, Vec2 b, const Stroke& s) {
  if (!strokes(s)) return;
  set_pen(s);
  p_.drawLine(qpoint(a), qpoint(b));
}

void QtCanvas::polyline(const std::vector<Vec2>& points, const Stroke& s, bool closed) {
  if (!strokes(s) || points.size() < 2) return;
  set_pen(s);
  set_brush(kNone);
  const QPolygonF poly = qpolygon(points);
  if (closed)
    p_.drawPolygon(poly);
  else
    p_.drawPolyline(poly);
}

void QtCanvas::bezier(Vec2 p0, Vec2 p1, Vec2 p2, Vec2 p3, const Stroke& s) {
  if (!strokes(s)) return;
  QPainterPath path(qpoint(p0));
  path.cubicTo(qpoint(p1), qpoint(p2), qpoint(p3));
  set_pen(s);
  set_brush(kNone);
  p_.drawPath(path);
}

void QtCanvas::rect(Vec2 min, Vec2 max, Color fill, const Stroke& s, float rounding,
                    uint8_t corners) {
  if (alpha(fill) == 0 && !strokes(s)) return;
  const QRectF q = QRectF(qpoint(min), qpoint(max)).normalized();
  set_pen(s);
  set_brush(fill);
  if (rounding <= 0 || corners == 0)
    p_.drawRect(q);
  else
    p_.drawPath(rounded_rect(q, rounding, corners));
}

void QtCanvas::circle(Vec2 centre, float radius, Color fill, const Stroke& s) {
  if ((alpha(fill) == 0 && !strokes(s)) || radius <= 0) return;
  set_pen(s);
  set_brush(fill);
  p_.drawEllipse(qpoint(centre), radius, radius);
}

void QtCanvas::polygon(const std::vector<Vec2>& points, Color fill, const Stroke& s) {
  if ((alpha(fill) == 0 && !strokes(s)) || points.size() < 3) return;
  set_pen(s);
  set_brush(fill);
  p_.drawConvexPolygon(qpolygon(points));
}

void QtCanvas::text(Vec2 pos, std::string_view utf8, const Font& f, Color c, Align align) {
  if (utf8.empty() || alpha(c) == 0 || f.size <= 0) return;
  float x = pos.x;
  if (align != Align::Left) {
    const float w = text_width(utf8, f);
    x -= align == Align::Center ? w * 0.5f : w;
  }
  const double k = qt_font_scale(f);
  p_.save();
  p_.translate(x, pos.y + ascent(f));
  p_.scale(k, k);
  p_.setFont(qt_font(f.face));
  p_.setPen(qcolor(c));
  p_.drawText(QPointF(0, 0), QString::fromUtf8(utf8.data(), static_cast<qsizetype>(utf8.size())));
  p_.restore();
}

void QtCanvas::image(Vec2 min, Vec2 max, const Image& img) {
  if (img.width <= 0 || img.height <= 0 || !img.rgba) return;
  // A deep copy: the pixels are only lent for the call.
  const QImage q =
      QImage(img.rgba, img.width, img.height, img.width * 4, QImage::Format_RGBA8888).copy();
  p_.save();
  p_.setRenderHint(QPainter::SmoothPixmapTransform, img.smooth);
  p_.drawImage(QRectF(qpoint(min), qpoint(max)).normalized(), q);
  p_.restore();
}

void QtCanvas::push_clip(Vec2 min, Vec2 max) {
  p_.save();
  p_.setClipRect(QRectF(qpoint(min), qpoint(max)).normalized(), Qt::IntersectClip);
  ++clips_;
}

void QtCanvas::pop_clip() {
  FW_ASSERT(clips_ > 0, "pop_clip() without push_clip(): use views::Clip to keep them paired");
  p_.restore();
  --clips_;
}

void QtCanvas::begin_group(std::string_view id) { groups_.emplace_back(id); }

void QtCanvas::end_group() {
  FW_ASSERT(!groups_.empty(), "end_group() without begin_group(): use views::Group to pair them");
  groups_.pop_back();
}

}  // namespace fw::views
