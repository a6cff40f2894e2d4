// formwork_qtexport in a build without Qt 6: the functions of views/picture_export.h exist and
// say that this build cannot write the files.
#include "core/error.h"
#include "views/picture_export.h"

namespace fw::views {

namespace {
[[noreturn]] void no_qt(PictureFormat format, const std::string& path) {
  throw Error(path + ": this build has no Qt 6: cannot write " + picture_format_name(format) +
              " files (install qt6-base-dev and rebuild)");
}
}  // namespace

bool picture_export_available() { return false; }

std::vector<uint8_t> encode_picture(const Picture&, PictureFormat format, const std::string& path,
                                    int) {
  no_qt(format, path);
}

void export_picture(const Picture&, PictureFormat format, const std::string& path, int) {
  no_qt(format, path);
}

}  // namespace fw::views
