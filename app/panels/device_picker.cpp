#include "app/panels/device_picker.h"

#include <imgui.h>

#include <algorithm>

#include "app/gui/ui_probe.h"

namespace fw::gui {

float device_picker_width(const AppState& app) {
  float w = ImGui::CalcTextSize(device_label(app.device.backend()).c_str()).x;
  for (const Backend* b : app.device.offered)
    if (b) w = std::max(w, ImGui::CalcTextSize(device_label(*b).c_str()).x);
  return w + ImGui::GetStyle().FramePadding.x * 2 + ImGui::GetFrameHeight();
}

bool draw_device_picker(AppState& app) {
  DeviceChoice& d = app.device;
  const Backend& current = d.backend();
  const std::string label = device_label(current);
  const float width = device_picker_width(app);
  const ImVec2 at = ImGui::GetCursorScreenPos();
  ImGui::SetNextItemWidth(width);
  const bool open = ImGui::BeginCombo("##device", label.c_str());
  if (probe::enabled()) {
    // Once open, the last item is the list's window: the combo's own rectangle is where it was
    // laid out (the rectangle to click stays the one of the last frame it was closed).
    if (!open) probe::note("device:picker");
    probe::fact("device", std::string(current.name()));
    probe::Drawn dr;
    dr.list = "device";
    dr.id = "picker";
    dr.text = current.name();
    dr.min = at;
    dr.max = ImVec2(at.x + width, at.y + ImGui::GetFrameHeight());
    probe::drawn(std::move(dr));
  }
  if (!open && ImGui::IsItemHovered())
    ImGui::SetTooltip(
        "Computing on %s (%s).\nThe views, and the next training run or search, run "
        "on the device chosen here.",
        label.c_str(), device_detail(current).c_str());
  const Backend* picked = nullptr;
  if (open) {
    for (const Backend* b : d.offered) {
      if (!b) continue;
      const std::string why = b->unavailable();
      const bool chosen = b == &current;
      // An unusable backend is listed, disabled, with why it is not offered: "CUDA — no CUDA
      // device (...)".
      const std::string text =
          why.empty() ? device_label(*b) : device_label(*b) + " \xE2\x80\x94 " + why;
      ImGui::PushID(b);
      if (ImGui::Selectable(text.c_str(), chosen,
                            why.empty() ? 0 : ImGuiSelectableFlags_Disabled) &&
          why.empty() && !chosen)
        picked = b;
      if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("%s", device_detail(*b).c_str());
      const std::string name(b->name());
      probe::note("device:" + name);
      if (probe::enabled())
        if (probe::Drawn* dr = probe::drawn_item("device", name)) {
          dr->text = device_detail(*b);
          dr->flag("chosen", chosen).flag("disabled", !why.empty());
        }
      ImGui::PopID();
    }
    for (const AbsentDevice& a : d.absent) {  // not in this build: listed, disabled, with why
      ImGui::PushID(a.name.c_str());
      ImGui::Selectable((device_label(a.name) + " \xE2\x80\x94 " + a.why).c_str(), false,
                        ImGuiSelectableFlags_Disabled);
      if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
        ImGui::SetTooltip("%s", a.why.c_str());
      probe::note("device:" + a.name);
      if (probe::enabled())
        if (probe::Drawn* dr = probe::drawn_item("device", a.name)) {
          dr->text = a.why;
          dr->flag("disabled");
        }
      ImGui::PopID();
    }
    ImGui::EndCombo();
  }
  if (!picked) return false;
  d.chosen = picked;
  app.status = {Message::Info,
                "Computing on " + device_label(*picked) + " (" + device_detail(*picked) + ")"};
  return true;
}

}  // namespace fw::gui
