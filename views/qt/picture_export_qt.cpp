// views/picture_export.h with Qt 6: PDF and PNG through QPdfWriter and QImage painted by
// QtCanvas (qt_canvas.h); SVG written by SvgCanvas (svg_canvas.h: Qt's QSvgGenerator drops
// clips and has no groups). Qt is started for every format: one font set-up, one behaviour.
#include <QBuffer>
#include <QGuiApplication>
#include <QImage>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <clocale>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "core/atomic_file.h"
#include "core/error.h"
#include "views/picture_export.h"
#include "views/qt/qt_canvas.h"
#include "views/qt/qt_text.h"
#include "views/qt/svg_canvas.h"

namespace fw::views {

namespace {

constexpr int kPngDpi = 96;                        // what the PNG's pHYs chunk says
constexpr double kMaxPngPixels = double(1 << 28);  // 268 M pixels: 1 GiB of ARGB32

std::mutex& export_mutex() {
  static std::mutex m;
  return m;
}

// Qt's own messages (font and plugin warnings) are kept, not printed: a command's stderr is its
// one error line. The last one is added to an error Qt reports no reason for.
std::string& last_qt_message() {
  static std::string m;
  return m;
}
void keep_qt_message(QtMsgType type, const QMessageLogContext&, const QString& msg) {
  last_qt_message() = msg.toStdString();
  if (type == QtFatalMsg)
    std::fprintf(stderr, "formwork: error: Qt: %s\n", msg.toLocal8Bit().constData());
}
std::string qt_reason() {
  return last_qt_message().empty() ? std::string() : " (" + last_qt_message() + ")";
}

// A QGuiApplication for the fonts, on the offscreen platform whatever QT_QPA_PLATFORM says: files
// never need a display, and a platform that cannot start (xcb without $DISPLAY) would abort.
// Made once, never destroyed; the C locale it changes is put back.
void ensure_gui_app() {
  if (QCoreApplication::instance()) return;
  static int argc = 3;
  static char arg0[] = "formwork", arg1[] = "-platform", arg2[] = "offscreen";
  static char* argv[] = {arg0, arg1, arg2, nullptr};
  const char* now = std::setlocale(LC_ALL, nullptr);
  const std::string locale = now ? now : "C";
  qInstallMessageHandler(keep_qt_message);
  new QGuiApplication(argc, argv);  // NOLINT: lives as long as the process
  std::setlocale(LC_ALL, locale.c_str());
}

std::string file_stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

void paint(QPainter& painter, const Picture& p, float scale, QSizeF page) {
  FW_ASSERT(static_cast<bool>(p.draw), "Picture::draw is empty: give the picture its drawing");
  if (alpha(p.background) != 0)
    painter.fillRect(
        QRectF(QPointF(0, 0), page),
        QColor(static_cast<int>(red(p.background)), static_cast<int>(green(p.background)),
               static_cast<int>(blue(p.background)), static_cast<int>(alpha(p.background))));
  QtCanvas canvas(painter);
  p.draw(canvas, Transform{{0, 0}, scale});
  FW_ASSERT(canvas.open_clips() == 0 && canvas.open_groups() == 0,
            "the picture left a clip or group open: pair push_clip/pop_clip and "
            "begin_group/end_group (views::Clip, views::Group)");
}

std::vector<uint8_t> bytes_of(const QByteArray& b) {
  return std::vector<uint8_t>(b.constData(), b.constData() + b.size());
}

std::vector<uint8_t> encode_svg(const Picture& p, const std::string& path) {
  FW_ASSERT(static_cast<bool>(p.draw), "Picture::draw is empty: give the picture its drawing");
  SvgCanvas canvas(p.size, file_stem(path), p.background);
  p.draw(canvas, Transform{{0, 0}, 1});
  const std::string svg = canvas.finish();
  return std::vector<uint8_t>(svg.begin(), svg.end());
}

std::vector<uint8_t> encode_pdf(const Picture& p, const std::string& path) {
  QBuffer buffer;
  buffer.open(QIODevice::WriteOnly);
  const PictureSize pt = picture_output_size(p, PictureFormat::Pdf);
  const QSizeF page(pt.width, pt.height);
  {
    QPdfWriter writer(&buffer);
    writer.setResolution(72);  // 1 device unit = 1 pt = 1 diagram unit
    writer.setTitle(QString::fromStdString(file_stem(path)));
    writer.setCreator("Formwork");
    const QPageSize size(page, QPageSize::Point, QString(), QPageSize::ExactMatch);
    if (!writer.setPageLayout(QPageLayout(size, QPageLayout::Portrait, QMarginsF(0, 0, 0, 0))))
      throw Error(path + ": Qt refuses a PDF page of " + std::to_string(int(page.width())) + "x" +
                  std::to_string(int(page.height())) + " pt" + qt_reason());
    QPainter painter;
    if (!painter.begin(&writer)) throw Error(path + ": cannot start a PDF" + qt_reason());
    paint(painter, p, 1, page);
    painter.end();
  }
  return bytes_of(buffer.data());
}

std::vector<uint8_t> encode_png(const Picture& p, const std::string& path, int png_width) {
  const PictureSize px = picture_output_size(p, PictureFormat::Png, png_width);
  const int w = px.width, h = px.height;
  if (static_cast<double>(w) * h > kMaxPngPixels)
    throw Error(path + ": a " + std::to_string(w) + "x" + std::to_string(h) +
                " PNG is too large (at most " +
                std::to_string(static_cast<long long>(kMaxPngPixels)) +
                " pixels); ask for a smaller width");
  const float scale = static_cast<float>(w) / p.size.x;
  QImage img(w, h, QImage::Format_ARGB32_Premultiplied);
  if (img.isNull())
    throw Error(path + ": not enough memory for a " + std::to_string(w) + "x" + std::to_string(h) +
                " image");
  const int dpm = static_cast<int>(std::lround(kPngDpi / 0.0254));
  img.setDotsPerMeterX(dpm);
  img.setDotsPerMeterY(dpm);
  img.fill(Qt::transparent);
  {
    QPainter painter(&img);
    paint(painter, p, scale, QSizeF(w, h));
  }
  QBuffer buffer;
  buffer.open(QIODevice::WriteOnly);
  if (!img.save(&buffer, "PNG")) throw Error(path + ": cannot encode the PNG" + qt_reason());
  return bytes_of(buffer.data());
}

}  // namespace

bool picture_export_available() { return true; }

std::vector<uint8_t> encode_picture(const Picture& p, PictureFormat format, const std::string& path,
                                    int png_width) {
  if (!(std::isfinite(p.size.x) && std::isfinite(p.size.y) && p.size.x > 0 && p.size.y > 0))
    throw Error(path + ": the picture is empty (" + std::to_string(p.size.x) + " x " +
                std::to_string(p.size.y) + ")");
  if (png_width < 0)
    throw Error(path + ": a PNG width must be positive, got " + std::to_string(png_width));
  const std::lock_guard<std::mutex> lock(export_mutex());
  ensure_gui_app();
  last_qt_message().clear();
  switch (format) {
    case PictureFormat::Svg:
      return encode_svg(p, path);
    case PictureFormat::Pdf:
      return encode_pdf(p, path);
    case PictureFormat::Png:
      return encode_png(p, path, png_width);
  }
  throw Error(path + ": unknown picture format");
}

void export_picture(const Picture& p, PictureFormat format, const std::string& path,
                    int png_width) {
  write_files_atomic({{path, encode_picture(p, format, path, png_width)}});
}

float qt_text_width(std::string_view utf8, const Font& f) {
  const std::lock_guard<std::mutex> lock(export_mutex());
  ensure_gui_app();
  QImage probe(1, 1, QImage::Format_ARGB32_Premultiplied);
  const QFontMetricsF m(qt_font(f.face), &probe);
  return static_cast<float>(
      qt_font_scale(f) *
      m.horizontalAdvance(QString::fromUtf8(utf8.data(), static_cast<qsizetype>(utf8.size()))));
}

}  // namespace fw::views
