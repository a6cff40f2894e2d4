// A test hook: while enabled, the widgets the UI tests click (dialog buttons, palette entries,
// inspector fields, problem lines) record their screen rectangles under a key, so a test can move
// the synthetic mouse to them. Disabled (the default) it costs one branch per widget.
#pragma once
#include <imgui.h>

#include <string>

namespace fw::gui::probe {

void enable(bool on);
bool enabled();
// Records the last item's rectangle (ImGui::GetItemRectMin/Max) under `key`.
void note(const std::string& key);
// The rectangle recorded under `key` in the last frame that drew it; false if never.
bool rect(const std::string& key, ImVec2* min, ImVec2* max);
ImVec2 center(const std::string& key);  // (-1, -1) if unknown
void clear();

}  // namespace fw::gui::probe
