// The circuit view: the neural circuit diagram (views/circuit.h) of the editor's current level,
// on white paper, with pan and zoom.
//
// - The level is the editor's (app.editor.container), with the editor's breadcrumb: a double
//   click on a box (a composite) enters it, and the editor follows; Up / the breadcrumb climb.
// - Selection is the editor's: a click on an operation or block selects its node (and the editor
//   and inspector show it); a node selected in the editor is outlined here.
// - An edit (any document revision) rebuilds the diagram at the next frame.
// - "Export picture…" writes what is drawn (the whole diagram) to SVG, PDF or PNG through the same
//   drawing code (views/picture_export.h).
#pragma once
#include <imgui.h>

#include <cstdint>
#include <memory>
#include <string>

#include "app/gui/app_state.h"
#include "app/gui/style.h"
#include "views/circuit.h"

namespace fw::gui {

class CircuitPanel {
 public:
  // Draws the view in `size`; returns true when the user asked to export the picture.
  bool draw(AppState& app, const Fonts& fonts, ImVec2 size);
  // The diagram drawn for the current revision and level (rebuilt when stale).
  const views::Circuit& circuit(const AppState& app);
  // Writes the diagram of the current level; "" or the error line.
  std::string export_picture(const AppState& app, const std::string& path);
  void fit() { fit_ = true; }
  // Where the op or block drawing `node` was centred on screen in the last frame (tests).
  bool screen_center(NodeId node, ImVec2& out) const;

 private:
  void rebuild(const AppState& app);

  std::unique_ptr<views::Circuit> circuit_;
  int64_t revision_ = -1, generation_ = -1;
  NodeId level_ = kNoNode;
  float zoom_ = 1;
  ImVec2 pan_{0, 0};  // screen offset of the diagram's origin from the canvas's top-left
  bool fit_ = true;
  NodeId hovered_ = kNoNode;
  views::Transform last_{};
};

}  // namespace fw::gui
