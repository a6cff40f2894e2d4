// The status bar's device picker: a small combo naming the device the GUI computes on ("CPU",
// "CUDA"...), app.device (app/gui/device_choice.h). Its list holds every offered backend: the
// usable ones to choose, the others disabled with why ("CUDA — no CUDA device (...)"), and the
// ones this build lacks (DeviceChoice::absent: "CUDA — this build has no CUDA backend"). Hovering
// the combo or an entry tells its detail (the GPU, the CPU's threads, why not). Choosing one sets
// app.device and says so in the status bar's message; the views recompute on it at once, a
// training run or search started next runs there.
//
// Frame report (app/gui/ui_probe.h): list "device": "picker" (text: the chosen backend's name)
// and, while the list is open, one item per offered (then absent) backend by its name [chosen
// disabled] (text: its detail line, i.e. why when disabled); fact "device": the chosen backend's
// name. Rectangles (probe::note): "device:picker", "device:NAME".
#pragma once
#include "app/gui/app_state.h"

namespace fw::gui {

// The combo's width at the current font.
float device_picker_width(const AppState& app);
// Draws the combo at the cursor; true when the choice changed this frame.
bool draw_device_picker(AppState& app);

}  // namespace fw::gui
