// What both builds of formwork_qtexport share (with and without Qt 6).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "views/picture_export.h"

namespace fw::views {

const char* picture_format_name(PictureFormat f) {
  switch (f) {
    case PictureFormat::Svg:
      return "svg";
    case PictureFormat::Pdf:
      return "pdf";
    case PictureFormat::Png:
      return "png";
  }
  return "?";
}

PictureSize picture_output_size(const Picture& p, PictureFormat format, int png_width) {
  if (format != PictureFormat::Png)
    return {static_cast<int>(std::ceil(p.size.x)), static_cast<int>(std::ceil(p.size.y))};
  const int w = png_width > 0 ? png_width : std::max(1, static_cast<int>(std::lround(p.size.x)));
  const double h = std::round(static_cast<double>(p.size.y) * w / p.size.x);
  return {w, static_cast<int>(std::clamp(h, 1.0, 2147483647.0))};
}

std::optional<PictureFormat> picture_format_for(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".svg") return PictureFormat::Svg;
  if (ext == ".pdf") return PictureFormat::Pdf;
  if (ext == ".png") return PictureFormat::Png;
  return std::nullopt;
}

}  // namespace fw::views
