#include "app/panels/problems.h"

#include <string>

#include "app/gui/ui_probe.h"

namespace fw::gui {

void draw_problems(AppState& app, const Fonts& fonts) {
  const Analysis& a = app.doc.analysis();
  ImGui::PushFont(fonts.bold);
  if (a.problems.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kOk);
    ImGui::TextUnformatted("\xE2\x9C\x93 No problems");  // ✓
    ImGui::PopStyleColor();
    ImGui::PopFont();
    ImGui::TextDisabled("Every shape checks.");
    return;
  }
  ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
  ImGui::Text("\xE2\x9A\xA0 %zu problem%s", a.problems.size(), a.problems.size() == 1 ? "" : "s");
  ImGui::PopStyleColor();
  ImGui::PopFont();
  ImGui::BeginChild("problem_list", ImVec2(0, 0), false);
  const Graph& g = app.doc.graph();
  for (size_t i = 0; i < a.problems.size(); ++i) {
    const Problem& p = a.problems[i];
    ImGui::PushID(static_cast<int>(i));
    const bool selected =
        p.node != kNoNode && app.editor.selected(p.node) && app.editor.selection.size() == 1;
    const std::string line = "\xE2\x9A\xA0 " + p.message;
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::PushTextWrapPos(0);
    // A selectable as tall as the wrapped message.
    const float wrap = ImGui::GetContentRegionAvail().x;
    const ImVec2 size = ImGui::CalcTextSize(line.c_str(), nullptr, false, wrap);
    const ImVec2 pos = ImGui::GetCursorScreenPos();
    if (ImGui::Selectable("##problem", selected, 0, ImVec2(0, size.y)) && p.node != kNoNode &&
        g.contains(p.node))
      reveal_node(app, p.node);
    if (probe::enabled()) {
      probe::note("problem:" + std::to_string(i));
      const std::string path = p.node != kNoNode && g.contains(p.node) ? g.path(p.node) : "";
      if (probe::Drawn* d = probe::drawn_item("problem", path)) {
        d->text = p.message;
        d->ink = palette::kError;
        d->flag("selected", selected);
      }
    }
    if (ImGui::IsItemHovered() && p.node != kNoNode) ImGui::SetTooltip("Show this node");
    ImGui::GetWindowDrawList()->AddText(ImGui::GetFont(), ImGui::GetFontSize(), pos,
                                        palette::kError, line.c_str(), nullptr, wrap);
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
    ImGui::PopID();
  }
  ImGui::EndChild();
}

}  // namespace fw::gui
