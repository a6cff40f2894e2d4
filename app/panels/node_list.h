// The node list: every node of the architecture as a tree table (module, op, output shape,
// params, MACs) with a filter, and the graph's totals and problems underneath. Draws with ImGui
// only (no GL), so it runs with or without a renderer.
#pragma once
#include <imgui.h>

#include "app/gui/arch_table.h"
#include "app/gui/style.h"

namespace fw::gui {

constexpr int kAutoOpenRows = 60;

struct NodeListState {
  ImGuiTextFilter filter;  // matches module paths and op names; flat list while active
  int open_depth = -1;     // composites above this depth start expanded; -1: the deepest level
                           // that keeps the expanded tree within kAutoOpenRows rows
  int expand_all = 0;      // one frame: +1 expand all, -1 collapse all
  NodeId selected = kNoNode;
  NodeId reveal = kNoNode;           // open the tree down to this node, select it, scroll to it
  bool reveal_first_problem = true;  // on the first frame: reveal the first problem's node
};

// The deepest expansion level (composites at depth < level open) showing at most `max_rows` rows;
// at least 1.
int auto_open_depth(const ArchTable& table, int max_rows = kAutoOpenRows);

// Fills the remaining content region of the current window.
void draw_node_list(const ArchTable& table, NodeListState& state, const Fonts& fonts);

}  // namespace fw::gui
