// The node-graph canvas: draws one level of the document's graph (the scene of views/scene.h,
// drawn by views/graph_diagram.h draw_graph_scene() on an ImGuiCanvas, the same drawing the export
// makes) and turns mouse and keyboard gestures into Document commands. It owns view state only;
// every edit goes through app.doc's undo stack, and a refused command is shown where it happened
// (at the port) and in the status bar.
//
// Mouse
//  - left drag on a node: moves it (or the selection it belongs to) - one undo step on release;
//    click: select; shift/ctrl+click: add or remove; drag on empty canvas: box selection
//    (shift: add to it); double-click a group or block: enter it; the chevron in its header:
//    open or close it in place.
//  - drag from a port to a port: connect (either direction; a connected input is replaced);
//    click a link: select it.
//  - wheel: zoom around the cursor; middle or right drag, or space + left drag: pan.
//  - right click: context menu of the node, link or canvas under the cursor.
//  - hover: tooltips with shapes, parameters, MACs and problems.
// Commands (called by the view's keyboard shortcuts and menus) act on the selection.
//
// Everything here runs without a renderer: tests drive it with synthetic ImGui input and read
// positions back through the geometry queries at the end.
#pragma once
#include <imgui.h>

#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/style.h"
#include "views/canvas.h"
#include "views/graph_diagram.h"
#include "views/scene.h"

namespace fw::gui {

class EditorCanvas {
 public:
  // Draws at the cursor, filling `size`, and handles input.
  void draw(AppState& app, const Fonts& fonts, ImVec2 size);

  // ---- Commands -----------------------------------------------------------------------------
  void delete_selection(AppState& app);
  void copy_selection(AppState& app);
  void cut_selection(AppState& app);
  // At the mouse when it is over the canvas, else beside the copied nodes.
  void paste(AppState& app);
  void duplicate(AppState& app);
  void select_all(AppState& app);
  // Automatic layout of the shown level (one undo step).
  void arrange(AppState& app);
  void rename_selected(AppState& app);  // opens the rename box
  void toggle_open_selected(AppState& app);
  void enter_selected(AppState& app);
  void up_level(AppState& app);
  // Esc: cancels a gesture, else clears the selection, else goes up a level. False: nothing.
  bool escape(AppState& app);
  // Adds a palette entry's node at canvas point (x, y) of the shown level, or at the centre of
  // the view when `at_center`.
  EditResult add_entry(AppState& app, int entry, float x, float y);
  EditResult add_entry_at_center(AppState& app, int entry);

  // ---- Geometry (valid after draw) -----------------------------------------------------------
  const views::Scene& scene() const { return scene_; }
  ImVec2 to_screen(float x, float y) const;
  ImVec2 to_canvas(ImVec2 screen) const;
  float pixels_per_unit() const { return z_; }
  bool node_rect(NodeId id, ImVec2* min, ImVec2* max) const;
  // A node's input (output = false) or output port. For the shown group's own boundary, pass
  // its id: output = true gives its input `port` as seen from inside (a producer).
  bool port_pos(NodeId id, int port, bool output, ImVec2* pos) const;
  bool canvas_hovered() const { return hovered_; }
  ImVec2 canvas_min() const { return min_; }
  ImVec2 canvas_max() const { return max_; }
  int selected_link() const { return selected_link_; }
  // The refusal text the last frame drew at its port ("" when none).
  const std::string& drawn_refusal() const { return drawn_refusal_; }

  // A canvas that receives every call the screen's canvas receives (the scene's drawing, not the
  // grid or the overlays), from the next draw on; nullptr: none. A test hook.
  void set_tee(views::Canvas* tee) { tee_ = tee; }

 private:
  enum class Gesture { None, Press, Move, Box, Link, Pan, RightPress };

  void refresh_scene(AppState& app);
  void handle_view_requests(AppState& app);
  void frame_rect(AppState& app, float x0, float y0, float x1, float y1, float max_zoom);
  void handle_input(AppState& app);
  void finish_link(AppState& app, int target_port);
  void finish_move(AppState& app);
  void finish_box(AppState& app);
  void open_context_menu();
  void context_menus(AppState& app, const Fonts& fonts);
  void rename_popup(AppState& app);
  void refuse(AppState& app, const EditResult& r, NodeId node, int port);
  bool editable(AppState& app, NodeId near_node, int port);

  void draw_grid(ImDrawList* dl) const;
  void draw_scene(ImDrawList* dl, const AppState& app);
  void report_node(const AppState& app, const views::SceneItem& it, ImVec2 p0, ImVec2 p1, ImVec2 f0,
                   ImVec2 f1, ImU32 fill) const;
  void report_badge(const AppState& app, const views::SceneItem& it,
                    const views::ItemDrawn& d) const;
  void draw_overlays(ImDrawList* dl, AppState& app);
  void tooltips(const AppState& app) const;
  ImVec2 offset_of(int item) const;  // drag offset in px of an item being moved
  ImVec2 port_screen(int port) const;
  int hit_item(ImVec2 mouse, bool* on_chevron) const;
  int hit_port(ImVec2 mouse) const;
  int hit_link(ImVec2 mouse) const;
  bool chevron_hit(const views::SceneItem& it, ImVec2 mouse) const;
  std::vector<NodeId> movable_selection(const AppState& app) const;

  // Scene cache.
  views::Scene scene_;
  const Document* scene_doc_ = nullptr;
  int64_t scene_revision_ = -1, scene_expanded_ = -1;
  NodeId scene_container_ = -1;
  const Fonts* ui_fonts_ = nullptr;
  views::Canvas* tee_ = nullptr;

  // This frame's transform: screen = min_ + pan + p * z_.
  ImVec2 min_{0, 0}, max_{0, 0}, origin_{0, 0};
  float z_ = 1, scale_ = 1;
  bool hovered_ = false;

  // Gesture.
  Gesture gesture_ = Gesture::None;
  ImVec2 press_pos_{0, 0};
  int press_item_ = -1, press_port_ = -1;
  bool press_toggle_ = false;  // shift/ctrl click: toggle on release
  bool box_additive_ = false;
  ImVec2 move_delta_{0, 0};   // canvas units
  std::vector<char> moving_;  // per item, during Move
  int hover_item_ = -1, hover_port_ = -1, hover_link_ = -1;
  bool hover_chevron_ = false;
  int selected_link_ = -1;  // index into scene_.links (reset when the scene changes)

  // Context menu target.
  int ctx_item_ = -1, ctx_link_ = -1;
  ImVec2 ctx_canvas_{0, 0};
  char ctx_filter_[64] = "";
  bool open_ctx_ = false, open_rename_ = false;
  NodeId rename_id_ = kNoNode;
  char rename_buf_[128] = "";
  std::string drawn_refusal_;
};

}  // namespace fw::gui
