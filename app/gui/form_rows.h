// Rows of the views' settings forms (Training, Search): a two-column table, the label on the
// left and the widget filling the rest of the row.
#pragma once
#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <cstdint>

namespace fw::gui {

// Starts a row: the label (with a tooltip when hovered and `help` is given), then the widget's
// column, the next widget as wide as it.
inline void row_label(const char* label, const char* help = nullptr) {
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(0);
  ImGui::AlignTextToFramePadding();
  ImGui::TextUnformatted(label);
  if (help && ImGui::IsItemHovered()) ImGui::SetTooltip("%s", help);
  ImGui::TableSetColumnIndex(1);
  ImGui::SetNextItemWidth(-FLT_MIN);
}

// An integer field with -/+ buttons, clamped to [lo, hi]; true when it changed.
inline bool input_i64(const char* id, int64_t* v, int64_t lo, int64_t hi) {
  int64_t x = *v;
  const int64_t step = 1;
  if (!ImGui::InputScalar(id, ImGuiDataType_S64, &x, &step, nullptr, "%lld")) return false;
  *v = std::clamp(x, lo, hi);
  return true;
}

}  // namespace fw::gui
