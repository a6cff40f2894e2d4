// The breadcrumb above the canvas: where in the hierarchy the canvas is ("Model › stages › 2 ›
// blocks"), each level clickable to go back up to it, then what the shown group is and whether its
// structure can be edited (a composite builds its children from its attributes).
#pragma once
#include <imgui.h>

#include "app/gui/app_state.h"
#include "app/gui/style.h"

namespace fw::gui {

void draw_breadcrumb(AppState& app, const Fonts& fonts);

}  // namespace fw::gui
