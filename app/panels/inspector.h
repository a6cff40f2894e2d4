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
//   shown level, the model's totals and the search space (app/panels/space_panel.h).
// - Search space: on a composite node (stem, stage, block, downsampling, head) every int, float,
//   bool and choice attribute has a ◆ toggle that makes it a choice of the search space (its
//   first value: the current one; a bool: both). A choice's row then edits its values: a checkbox
//   per option (choice and bool attributes), or a comma-separated list (ints and floats)
//   committed with Enter or on leaving the field. Each change is one undo step
//   (Document::set_meta); a list check_space refuses (a value outside the limits) is not stored
//   and its reason shows in red under the row.
#pragma once
#include <imgui.h>

#include <string>

#include "app/gui/app_state.h"
#include "app/gui/style.h"
#include "app/panels/space_panel.h"

namespace fw::gui {

struct InspectorState {
  bool group_open = false;  // an undo group spans the drag in progress
  NodeId error_node = kNoNode;
  std::string error_attr;  // attribute whose last value was refused
  std::string error;
  NodeId name_node = kNoNode;
  char name_buf[128] = "";
  // The search space: the values field typed in last ("node.attr"), its text while typed or
  // refused, and the last refusal of a choice edit.
  std::string choice_key;
  char choice_buf[256] = "";
  bool choice_active = false;  // the field is being typed in
  std::string choice_error_key, choice_error;
  int64_t choice_error_revision = -1;  // the document revision the refusal was shown for
  SpacePanel space;
};

void draw_inspector(AppState& app, InspectorState& state, const Fonts& fonts);

// "layer_norm_nobias" -> "layer norm nobias": attribute names and choices as shown.
std::string pretty_name(const std::string& id);

}  // namespace fw::gui
