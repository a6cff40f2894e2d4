#include "app/panels/node_list.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "app/gui/ui_probe.h"
#include "core/format.h"

namespace fw::gui {

namespace {

enum Column { kModule, kOp, kShape, kParams, kMacs, kColumns };

void text_right(const std::string& s, ImU32 color) {
  const float w = ImGui::CalcTextSize(s.c_str()).x;
  const float avail = ImGui::GetContentRegionAvail().x;
  if (avail > w) ImGui::SetCursorPosX(ImGui::GetCursorPosX() + avail - w);
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  ImGui::TextUnformatted(s.c_str());
  ImGui::PopStyleColor();
}

// The op label on a tinted pill in its category's colour.
void op_chip(const ArchRow& r) {
  const ImU32 color = category_color(r.category);
  const ImVec2 text = ImGui::CalcTextSize(r.op.c_str());
  const float pad_x = ImGui::GetFontSize() * 0.4f, pad_y = ImGui::GetFontSize() * 0.07f;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImU32 fill = (color & ~IM_COL32_A_MASK) | (40u << IM_COL32_A_SHIFT);
  dl->AddRectFilled(ImVec2(p.x, p.y - pad_y),
                    ImVec2(p.x + text.x + 2 * pad_x, p.y + text.y + pad_y), fill,
                    ImGui::GetFontSize() * 0.35f);
  ImGui::SetCursorScreenPos(ImVec2(p.x + pad_x, p.y));
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  ImGui::TextUnformatted(r.op.c_str());
  ImGui::PopStyleColor();
}

void row_tooltip(const ArchRow& r, const Fonts& fonts) {
  ImGui::BeginTooltip();
  ImGui::PushFont(fonts.mono);
  ImGui::TextUnformatted(r.path.empty() ? "(model root)" : r.path.c_str());
  ImGui::PopFont();
  ImGui::TextDisabled("%s  (%s)", r.op.c_str(), r.kind.c_str());
  if (r.ok) ImGui::Text("output %s", r.shape.c_str());
  ImGui::Text("%s params, %s MACs", format_count(r.params).c_str(), format_count(r.macs).c_str());
  if (!r.children.empty()) ImGui::TextDisabled("%zu children", r.children.size());
  if (!r.problem.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 40);
    ImGui::TextUnformatted(r.problem.c_str());
    ImGui::PopTextWrapPos();
    ImGui::PopStyleColor();
  }
  ImGui::EndTooltip();
}

// Columns after the first, for one row.
void row_cells(const ArchRow& r, const Fonts& fonts) {
  ImGui::TableSetColumnIndex(kOp);
  op_chip(r);

  ImGui::PushFont(fonts.mono);
  ImGui::TableSetColumnIndex(kShape);
  if (!r.problem.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    ImGui::TextUnformatted("\xE2\x9A\xA0 error");  // ⚠
    ImGui::PopStyleColor();
  } else if (r.ok) {
    ImGui::TextUnformatted(r.shape.c_str());
  } else {
    ImGui::TextDisabled("?");
  }
  ImGui::TableSetColumnIndex(kParams);
  text_right(format_count(r.params), r.params ? palette::kText : palette::kTextDim);
  ImGui::TableSetColumnIndex(kMacs);
  text_right(format_count(r.macs), r.macs ? palette::kText : palette::kTextDim);
  ImGui::PopFont();
}

std::string row_label(const ArchRow& r) { return r.name.empty() ? "(" + r.op + ")" : r.name; }

// The frame report (ui_probe.h): the row just drawn, if it shows.
void report_row(const ArchRow& r, const NodeListState& s, bool open) {
  if (probe::Drawn* d = probe::drawn_item("outline", r.path)) {
    d->text = r.op;
    d->flag("selected", s.selected == r.id).flag("open", open).flag("problem", !r.problem.empty());
  }
}

void reveal_here(NodeListState& s) {
  ImGui::SetScrollHereY(0.5f);
  s.selected = s.reveal;
  s.reveal = kNoNode;
}

// on_reveal_path[i]: row i is an ancestor of the row being revealed.
void tree_row(const ArchTable& t, int index, NodeListState& s, const Fonts& fonts,
              const std::vector<char>& on_reveal_path) {
  const ArchRow& r = t.rows[index];
  ImGui::TableNextRow();
  ImGui::TableSetColumnIndex(kModule);

  const bool leaf = r.children.empty();
  ImGuiTreeNodeFlags flags = ImGuiTreeNodeFlags_SpanFullWidth | ImGuiTreeNodeFlags_OpenOnArrow |
                             ImGuiTreeNodeFlags_OpenOnDoubleClick;
  if (leaf) flags |= ImGuiTreeNodeFlags_Leaf | ImGuiTreeNodeFlags_NoTreePushOnOpen;
  if (s.selected == r.id) flags |= ImGuiTreeNodeFlags_Selected;
  if (!leaf && on_reveal_path[index]) {
    ImGui::SetNextItemOpen(true, ImGuiCond_Always);
  } else if (!leaf) {
    if (s.expand_all != 0)
      ImGui::SetNextItemOpen(s.expand_all > 0, ImGuiCond_Always);
    else
      ImGui::SetNextItemOpen(r.depth < s.open_depth || r.problem_inside, ImGuiCond_Once);
  }

  ImU32 color = palette::kText;
  if (!r.problem.empty())
    color = palette::kError;
  else if (r.problem_inside)
    color = palette::kWarning;
  else if (r.name.empty())
    color = palette::kTextDim;
  ImGui::PushStyleColor(ImGuiCol_Text, color);
  if (!leaf) ImGui::PushFont(fonts.bold);
  const bool open = ImGui::TreeNodeEx(reinterpret_cast<void*>(static_cast<intptr_t>(r.id)), flags,
                                      "%s", row_label(r).c_str());
  if (!leaf) ImGui::PopFont();
  ImGui::PopStyleColor();
  if (ImGui::IsItemClicked() && !ImGui::IsItemToggledOpen()) s.selected = r.id;
  if (ImGui::IsItemHovered()) row_tooltip(r, fonts);
  if (r.id == s.reveal) reveal_here(s);
  if (probe::enabled()) report_row(r, s, open && !leaf);

  row_cells(r, fonts);

  if (open && !leaf) {
    for (int child : r.children) tree_row(t, child, s, fonts, on_reveal_path);
    ImGui::TreePop();
  }
}

// While the filter is active: matching rows, flat, labelled with their full module path.
void filtered_rows(const ArchTable& t, NodeListState& s, const Fonts& fonts) {
  for (const ArchRow& r : t.rows) {
    if (!s.filter.PassFilter(r.path.c_str()) && !s.filter.PassFilter(r.op.c_str())) continue;
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(kModule);
    ImGui::PushID(r.id);
    ImGui::PushStyleColor(ImGuiCol_Text, r.problem.empty() ? palette::kText : palette::kError);
    const std::string label = r.path.empty() ? row_label(r) : r.path;
    if (ImGui::Selectable(label.c_str(), s.selected == r.id, ImGuiSelectableFlags_SpanAllColumns))
      s.selected = r.id;
    ImGui::PopStyleColor();
    if (ImGui::IsItemHovered()) row_tooltip(r, fonts);
    if (r.id == s.reveal) reveal_here(s);
    if (probe::enabled()) report_row(r, s, false);
    ImGui::PopID();
    row_cells(r, fonts);
  }
}

void toolbar(NodeListState& s) {
  if (ImGui::Button("Expand all")) s.expand_all = 1;
  ImGui::SameLine();
  if (ImGui::Button("Collapse all")) s.expand_all = -1;
  ImGui::SameLine();
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 18);
  s.filter.Draw("##filter");
  if (!s.filter.IsActive()) {
    // Hint text drawn inside the empty filter box (ImGui 1.86 has no hint for ImGuiTextFilter).
    const ImVec2 min = ImGui::GetItemRectMin();
    const ImGuiStyle& st = ImGui::GetStyle();
    ImGui::GetWindowDrawList()->AddText(
        ImVec2(min.x + st.FramePadding.x, min.y + st.FramePadding.y), palette::kTextDim,
        "Filter modules or ops");
  }
}

}  // namespace

int auto_open_depth(const ArchTable& t, int max_rows) {
  // With composites at depth < level open, exactly the rows at depth <= level are visible.
  std::vector<int> at_depth;
  for (const ArchRow& r : t.rows) {
    if (r.depth >= static_cast<int>(at_depth.size())) at_depth.resize(r.depth + 1, 0);
    ++at_depth[r.depth];
  }
  int level = 1, visible = 0;
  for (int d = 0; d < static_cast<int>(at_depth.size()); ++d) {
    visible += at_depth[d];
    if (visible > max_rows) break;
    level = std::max(1, d);
  }
  return level;
}

void draw_node_list(const ArchTable& t, NodeListState& s, const Fonts& fonts) {
  if (s.open_depth < 0) s.open_depth = auto_open_depth(t);
  if (s.reveal_first_problem) {
    s.reveal_first_problem = false;
    for (const Problem& p : t.problems)
      if (row_of(t, p.node) >= 0) {
        s.reveal = p.node;
        break;
      }
  }
  toolbar(s);

  std::vector<char> on_reveal_path(t.rows.size(), 0);
  if (s.reveal != kNoNode) {
    const int row = row_of(t, s.reveal);
    if (row < 0) s.reveal = kNoNode;
    for (int i = row >= 0 ? t.rows[row].parent : -1; i >= 0; i = t.rows[i].parent)
      on_reveal_path[i] = 1;
  }

  const ImGuiStyle& st = ImGui::GetStyle();
  const int problem_lines =
      t.problems.empty() ? 0 : (t.problems.size() > 4 ? 5 : static_cast<int>(t.problems.size()));
  const float footer =
      problem_lines ? st.ItemSpacing.y + problem_lines * ImGui::GetTextLineHeightWithSpacing() : 0;

  const ImGuiTableFlags flags = ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg |
                                ImGuiTableFlags_BordersOuter | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit |
                                ImGuiTableFlags_NoSavedSettings;
  if (ImGui::BeginTable("nodes", kColumns, flags, ImVec2(0, -footer))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("Module",
                            ImGuiTableColumnFlags_WidthStretch | ImGuiTableColumnFlags_NoHide);
    ImGui::TableSetupColumn("Op");
    ImGui::TableSetupColumn("Output shape");
    ImGui::TableSetupColumn("Params");
    ImGui::TableSetupColumn("MACs");
    ImGui::PushFont(fonts.bold);
    ImGui::TableHeadersRow();
    ImGui::PopFont();

    if (s.filter.IsActive())
      filtered_rows(t, s, fonts);
    else
      for (int root : t.roots) tree_row(t, root, s, fonts, on_reveal_path);

    // Totals, as the last row of the table.
    ImGui::TableNextRow();
    ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, palette::kHeader);
    ImGui::TableSetColumnIndex(kModule);
    ImGui::PushFont(fonts.bold);
    ImGui::Text("Total (%zu nodes)", t.rows.size());
    ImGui::PopFont();
    ImGui::PushFont(fonts.mono);
    ImGui::TableSetColumnIndex(kParams);
    text_right(format_count(t.total_params), palette::kAccent);
    ImGui::TableSetColumnIndex(kMacs);
    text_right(format_count(t.total_macs), palette::kAccent);
    ImGui::PopFont();
    ImGui::EndTable();
  }
  s.expand_all = 0;  // done for this frame (asked by the buttons above or by the caller before)

  // Footer: the problems, if any; a click reveals the node.
  if (!t.problems.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
    for (int i = 0; i < problem_lines; ++i) {
      if (i == 4 && t.problems.size() > 5) {
        ImGui::Text("\xE2\x80\xA6 and %zu more", t.problems.size() - 4);  // …
        break;
      }
      const Problem& p = t.problems[i];
      ImGui::PushID(i);
      const std::string line = "\xE2\x9A\xA0 " + p.message;  // ⚠
      if (ImGui::Selectable(line.c_str(), false) && row_of(t, p.node) >= 0) {
        s.filter.Clear();
        s.reveal = p.node;
      }
      ImGui::PopID();
    }
    ImGui::PopStyleColor();
  }
}

}  // namespace fw::gui
