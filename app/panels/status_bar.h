// The status bar along the bottom of the window: the last message (what an edit did, why it was
// refused, what was opened) on the left; the graph's state and totals on the right: valid or the
// number of problems, nodes, parameters, MACs, the canvas zoom, and at the end the device picker
// (app/panels/device_picker.h: what the views, training and search compute on).
#pragma once
#include <imgui.h>

#include <string>

#include "app/gui/app_state.h"
#include "app/gui/style.h"

namespace fw::gui {

// `activity`: what the views' background service is doing ("" = nothing), shown before the
// graph's state. Returns true when the problem count was clicked (the view shows the problems
// list).
bool draw_status_bar(AppState& app, const Fonts& fonts, float zoom,
                     const std::string& activity = "");

}  // namespace fw::gui
