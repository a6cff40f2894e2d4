// The inspector: the selected node's name and attributes, each with the widget and limits its
// AttrSpec gives (int/float drags with min/max, checkbox, choice combo, text), and read-only facts
// from the analysis: input and output shapes, parameters, MACs, problems.
//
// - Every change is a command on the document (set_node_attr / rename); a drag on a number is one
//   undo step (begin_group on activation, end_group on release). A refused value is shown under
//   its field and the field returns to the graph's value.
// - Nodes built by a composite (a block's convs) show their attributes read-only, with a button
//   that selects the block that builds them.
// - With several nodes selected: their count and summed parameters and MACs; with none: the
//   shown level and the model's totals.
#pragma once
#include <imgui.h>

#include <string>

#include "app/gui/app_state.h"
#include "app/gui/style.h"

namespace fw::gui {

struct InspectorState {
  bool group_open = false;  // an undo group spans the drag in progress
  NodeId error_node = kNoNode;
  std::string error_attr;  // attribute whose last value was refused
  std::string error;
  NodeId name_node = kNoNode;
  char name_buf[128] = "";
};

void draw_inspector(AppState& app, InspectorState& state, const Fonts& fonts);

// "layer_norm_nobias" -> "layer norm nobias": attribute names and choices as shown.
std::string pretty_name(const std::string& id);

}  // namespace fw::gui
