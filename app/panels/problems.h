// The problems list: every problem the analysis found, one line each ("⚠ stages.2.blocks.0.mlp.fc1:
// expects 320 channels, gets 128"). Clicking one selects its node and shows the level that holds
// it (entering groups as needed) and centres it.
#pragma once
#include <imgui.h>

#include "app/gui/app_state.h"
#include "app/gui/style.h"

namespace fw::gui {

void draw_problems(AppState& app, const Fonts& fonts);

}  // namespace fw::gui
