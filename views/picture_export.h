// Writes a Picture (views/canvas.h) to an SVG, PDF or PNG file. The implementation is the one
// library that includes Qt (views/qt/): PDF and PNG through QPainter (QPdfWriter, QImage), SVG by
// a writer of its own (QSvgGenerator drops clips and groups). A build without Qt 6 has the same
// functions, and they say so.
//
// - SVG: text stays text (<text> elements, selectable and searchable), groups stay <g id>,
//   clips are clipPaths; width and height = the picture's size in px, rounded up, the viewBox
//   exact. PDF: vector, one page of the picture's size rounded up to whole points (1 diagram
//   unit = 1 pt), the DejaVu fonts embedded. PNG: `png_width` pixels wide (0: one pixel per
//   diagram unit), height in proportion, anti-aliased, the background as given (kNone:
//   transparent); at most 2^28 pixels.
// - The file is written to a temporary beside it and renamed (core/atomic_file.h), so a failed
//   export leaves no file and an existing one intact. Errors throw fw::Error with one line
//   naming the path.
// - Headless: with no QGuiApplication yet, one is made on Qt's "offscreen" platform (no display
//   needed, whatever QT_QPA_PLATFORM says); Qt's own warnings are not printed. Safe to call from
//   any one thread at a time.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "views/canvas.h"

namespace fw::views {

enum class PictureFormat : uint8_t { Svg, Pdf, Png };

// False when this build has no Qt 6 (then export_picture throws, saying so).
bool picture_export_available();
// "svg" / "pdf" / "png".
const char* picture_format_name(PictureFormat f);

// The size of the file export_picture() writes: SVG px and PDF pt (the picture's size rounded
// up), PNG pixels (`png_width`, 0: the picture's width rounded; the
// height in proportion, at least 1).
struct PictureSize {
  int width = 0, height = 0;
};
PictureSize picture_output_size(const Picture& p, PictureFormat format, int png_width = 0);

// The format a file name's extension names (.svg, .pdf, .png, in any case); nullopt otherwise.
std::optional<PictureFormat> picture_format_for(const std::string& path);

void export_picture(const Picture& p, PictureFormat format, const std::string& path,
                    int png_width = 0);

// The bytes export_picture() would write to `path`, written nowhere: a command with several
// outputs encodes them all, then writes them all or none (core/atomic_file.h). `path` names the
// file in errors and gives the SVG/PDF title (its stem).
std::vector<uint8_t> encode_picture(const Picture& p, PictureFormat format, const std::string& path,
                                    int png_width = 0);

}  // namespace fw::views
