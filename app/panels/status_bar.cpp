#include "app/panels/status_bar.h"

#include <cstdio>
#include <string>

#include "app/gui/ui_probe.h"
#include "app/panels/device_picker.h"
#include "core/format.h"

namespace fw::gui {

bool draw_status_bar(AppState& app, const Fonts& fonts, float zoom, const std::string& activity) {
  const Analysis& a = app.doc.analysis();
  ImU32 col = palette::kTextDim;
  switch (app.status.level) {
    case Message::Info:
      col = palette::kTextDim;
      break;
    case Message::Ok:
      col = palette::kText;
      break;
    case Message::Warning:
      col = palette::kWarning;
      break;
    case Message::Error:
      col = palette::kError;
      break;
  }
  // Right side first (it is measured), then the message clipped before it.
  char right[256];
  std::snprintf(right, sizeof right,
                "%s nodes   \xC2\xB7   %s params   \xC2\xB7   %s MACs   \xC2\xB7   %.0f%%",
                format_count(static_cast<int64_t>(app.doc.graph().size())).c_str(),
                format_si(a.total_params).c_str(), format_si(a.total_macs).c_str(), zoom * 100);
  char state[64];
  if (a.ok())
    std::snprintf(state, sizeof state, "\xE2\x9C\x93 valid graph");  // ✓
  else
    std::snprintf(state, sizeof state, "\xE2\x9A\xA0 %zu problem%s", a.problems.size(),
                  a.problems.size() == 1 ? "" : "s");
  const ImGuiStyle& st = ImGui::GetStyle();
  ImGui::PushFont(fonts.bold);
  const float state_w = ImGui::CalcTextSize(state).x;
  ImGui::PopFont();
  const float right_w = ImGui::CalcTextSize(right).x;
  const float avail = ImGui::GetContentRegionAvail().x;
  const float x0 = ImGui::GetCursorPosX();
  const float picker_w = device_picker_width(app);
  const float picker_x = x0 + avail - picker_w;
  const float right_x = picker_x - st.ItemSpacing.x * 3 - right_w;
  float state_x = right_x - state_w - st.ItemSpacing.x * 3;
  const float activity_w = activity.empty() ? 0 : ImGui::CalcTextSize(activity.c_str()).x;
  const float activity_x = state_x - activity_w - st.ItemSpacing.x * 3;

  ImGui::AlignTextToFramePadding();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float clip_w = (activity.empty() ? state_x : activity_x) - x0 - st.ItemSpacing.x * 2;
  if (clip_w > 0) {
    ImGui::PushClipRect(p, ImVec2(p.x + clip_w, p.y + ImGui::GetFrameHeight()), true);
    ImGui::PushStyleColor(ImGuiCol_Text, col);
    ImGui::TextUnformatted(app.status.text.c_str());
    ImGui::PopStyleColor();
    ImGui::PopClipRect();
  }
  if (!activity.empty()) {
    ImGui::SameLine(activity_x);
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kAccent);
    ImGui::TextUnformatted(activity.c_str());
    ImGui::PopStyleColor();
    if (probe::enabled())
      if (probe::Drawn* d = probe::drawn_item("activity", "service")) d->text = activity;
  }
  ImGui::SameLine(state_x);
  ImGui::PushFont(fonts.bold);
  ImGui::PushStyleColor(ImGuiCol_Text, a.ok() ? palette::kOk : palette::kError);
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(state);
  ImGui::PopStyleColor();
  ImGui::PopFont();
  if (probe::enabled())
    if (probe::Drawn* d = probe::drawn_item("status", a.ok() ? "valid" : "problems")) {
      d->text = state;
      d->ink = a.ok() ? palette::kOk : palette::kError;
    }
  bool clicked = false;
  if (!a.ok() && ImGui::IsItemHovered()) {
    ImGui::SetTooltip("Show the problems");
    clicked = ImGui::IsMouseClicked(ImGuiMouseButton_Left);
  }
  ImGui::SameLine(right_x);
  ImGui::AlignTextToFramePadding();
  ImGui::TextDisabled("%s", right);
  ImGui::SameLine(picker_x);
  draw_device_picker(app);
  return clicked;
}

}  // namespace fw::gui
