// For tests: the width Qt lays text out with in the exporters' fonts, to compare with
// views::text_width(). Only in builds with Qt 6 (formwork_qtexport defines FORMWORK_WITH_QT=1).
#pragma once
#include <string_view>

#include "views/canvas.h"

namespace fw::views {

// The advance of `utf8` in QtCanvas's font for `f`, in output units.
float qt_text_width(std::string_view utf8, const Font& f);

}  // namespace fw::views
