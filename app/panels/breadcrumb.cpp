#include "app/panels/breadcrumb.h"

#include <string>
#include <vector>

#include "views/node_geometry.h"
#include "app/gui/ui_probe.h"

namespace fw::gui {

namespace {
bool crumb(const char* label, bool current, const Fonts& fonts) {
  if (current) {
    ImGui::PushFont(fonts.bold);
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(label);
    ImGui::PopFont();
    return false;
  }
  ImGui::PushStyleColor(ImGuiCol_Button, IM_COL32(0, 0, 0, 0));
  ImGui::PushStyleColor(ImGuiCol_Text, palette::kAccent);
  const bool clicked = ImGui::Button(label);
  ImGui::PopStyleColor(2);
  return clicked;
}
}  // namespace

void draw_breadcrumb(AppState& app, const Fonts& fonts) {
  const Graph& g = app.doc.graph();
  const NodeId c = app.editor.container;
  const std::vector<NodeId> line = c == kNoNode ? std::vector<NodeId>{} : g.lineage(c);
  ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(ImGui::GetStyle().ItemSpacing.x * 0.4f, 0));
  NodeId go = -1;
  const char* root = app.name.empty() ? "Model" : app.name.c_str();
  if (crumb(root, line.empty(), fonts)) go = kNoNode;
  if (probe::enabled()) {
    probe::note("crumb:0");
    probe::fact("title", root);
    if (probe::Drawn* d = probe::drawn_item("crumb", "")) {
      d->text = root;
      d->flag("current", line.empty());
    }
  }
  for (size_t i = 0; i < line.size(); ++i) {
    ImGui::SameLine();
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("\xE2\x80\xBA");  // ›
    ImGui::SameLine();
    ImGui::PushID(static_cast<int>(i));
    const std::string label = views::node_title(g.node(line[i]));
    if (crumb(label.c_str(), i + 1 == line.size(), fonts)) go = line[i];
    if (probe::enabled()) {
      probe::note("crumb:" + std::to_string(i + 1));
      if (probe::Drawn* d = probe::drawn_item("crumb", g.path(line[i]))) {
        d->text = label;
        d->flag("current", i + 1 == line.size());
      }
    }
    ImGui::PopID();
  }
  ImGui::PopStyleVar();
  if (c != kNoNode) {
    const Node& n = g.node(c);
    const OpDef* def = find_op(n.kind);
    ImGui::SameLine(0, ImGui::GetFontSize() * 1.2f);
    ImGui::AlignTextToFramePadding();
    ImGui::TextDisabled("%s \xC2\xB7 %zu children", def ? def->label.c_str() : n.kind.c_str(),
                        n.children.size());
    if (!locked_reason(g, c).empty()) {
      ImGui::SameLine();
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kWarning);
      ImGui::TextUnformatted("\xC2\xB7 built from its attributes");
      ImGui::PopStyleColor();
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", locked_reason(g, c).c_str());
    }
  }
  if (go != -1) {
    enter_level(app, go);
    // Select the group we came out of: the child of `go` on the way down.
    if (go == kNoNode) {
      app.editor.select_only(line.front());
    } else {
      for (size_t i = 0; i + 1 < line.size(); ++i)
        if (line[i] == go) app.editor.select_only(line[i + 1]);
    }
  }
}

}  // namespace fw::gui
