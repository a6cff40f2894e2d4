#include "app/gui/editor_canvas.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "app/gui/editor_canvas_internal.h"
#include "app/gui/ui_probe.h"
#include "app/panels/palette.h"
#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "views/layout.h"
#include "views/node_geometry.h"

namespace fw::gui {

using namespace detail;
using views::BoxSize;
using views::is_container;
using views::kNodeHeaderHeight;
using views::kPortRadius;
using views::node_box;
using views::node_title;

// ---- Transform and geometry
// ----------------------------------------------------------------------

ImVec2 EditorCanvas::to_screen(float x, float y) const {
  return ImVec2(origin_.x + x * z_, origin_.y + y * z_);
}

ImVec2 EditorCanvas::to_canvas(ImVec2 s) const {
  return ImVec2((s.x - origin_.x) / z_, (s.y - origin_.y) / z_);
}

bool EditorCanvas::node_rect(NodeId id, ImVec2* min, ImVec2* max) const {
  const int i = scene_.find(id);
  if (i < 0) return false;
  const SceneItem& it = scene_.items[i];
  *min = to_screen(it.x0, it.y0);
  *max = to_screen(it.x1, it.y1);
  return true;
}

bool EditorCanvas::port_pos(NodeId id, int port, bool output, ImVec2* pos) const {
  int item = scene_.find(id);
  if (item < 0 && id == scene_container_ && id != kNoNode)
    item = output ? scene_.in_item : scene_.out_item;
  if (item < 0) return false;
  const SceneItem& it = scene_.items[item];
  int index = -1;
  if (it.kind == SceneItem::Kind::In)
    index = output && port < it.outputs ? it.port_begin + port : -1;
  else if (it.kind == SceneItem::Kind::Out)
    index = !output && port < it.inputs ? it.port_begin + port : -1;
  else if (output)
    index = port < it.outputs ? it.port_begin + it.inputs + port : -1;
  else
    index = port < it.inputs ? it.port_begin + port : -1;
  if (index < 0) return false;
  *pos = port_screen(index);
  return true;
}

ImVec2 EditorCanvas::offset_of(int item) const {
  if (gesture_ != Gesture::Move || item < 0 || item >= static_cast<int>(moving_.size()) ||
      !moving_[item])
    return ImVec2(0, 0);
  return ImVec2(move_delta_.x * z_, move_delta_.y * z_);
}

ImVec2 EditorCanvas::port_screen(int port) const {
  const ScenePort& p = scene_.ports[port];
  const ImVec2 off = offset_of(p.item);
  const ImVec2 s = to_screen(p.x, p.y);
  return ImVec2(s.x + off.x, s.y + off.y);
}

// ---- Scene and view
// ------------------------------------------------------------------------------

void EditorCanvas::refresh_scene(AppState& app) {
  const EditorState& e = app.editor;
  if (scene_doc_ == &app.doc && scene_revision_ == app.doc.revision() &&
      scene_container_ == e.container && scene_expanded_ == e.expanded_version)
    return;
  scene_ = views::build_scene(app.doc.graph(), app.doc.analysis(), e.container, e.expanded);
  scene_doc_ = &app.doc;
  scene_revision_ = app.doc.revision();
  scene_container_ = e.container;
  scene_expanded_ = e.expanded_version;
  selected_link_ = -1;
  hover_item_ = hover_port_ = hover_link_ = -1;
  if (gesture_ != Gesture::Pan) gesture_ = Gesture::None;
  moving_.clear();
}

void EditorCanvas::frame_rect(AppState& app, float x0, float y0, float x1, float y1,
                              float max_zoom) {
  ViewTransform& v = app.editor.views[app.editor.container];
  const float w = max_.x - min_.x, h = max_.y - min_.y;
  const float margin = 28 * scale_;
  const float zx = (w - 2 * margin) / std::max(x1 - x0, 1.0f);
  const float zy = (h - 2 * margin) / std::max(y1 - y0, 1.0f);
  v.zoom = std::clamp(std::min(zx, zy) / scale_, kMinZoom, max_zoom);
  const float z = v.zoom * scale_;
  v.pan_x = w * 0.5f - (x0 + x1) * 0.5f * z;
  v.pan_y = h * 0.5f - (y0 + y1) * 0.5f * z;
  v.placed = true;
}

void EditorCanvas::handle_view_requests(AppState& app) {
  EditorState& e = app.editor;
  ViewTransform& v = e.views[e.container];
  if (!v.placed && !scene_.items.empty() && !e.frame_selection) {
    // First look at a level: all of it when that stays readable, else its start (the inputs) at
    // a readable zoom.
    frame_rect(app, scene_.bx0, scene_.by0, scene_.bx1, scene_.by1, 1.0f);
    if (v.zoom < kReadableZoom) {
      v.zoom = kReadableZoom;
      const float z = v.zoom * scale_;
      v.pan_x = 36 * scale_ - scene_.bx0 * z;
      v.pan_y = (max_.y - min_.y) * 0.5f - (scene_.by0 + scene_.by1) * 0.5f * z;
    }
  }
  if (!v.placed) e.frame_all = true;
  if (e.frame_selection) {
    e.frame_selection = false;
    bool any = false;
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    for (NodeId id : e.selection) {
      const int i = scene_.find(id);
      if (i < 0) continue;
      const SceneItem& it = scene_.items[i];
      if (!any) x0 = it.x0, y0 = it.y0, x1 = it.x1, y1 = it.y1;
      x0 = std::min(x0, it.x0), y0 = std::min(y0, it.y0);
      x1 = std::max(x1, it.x1), y1 = std::max(y1, it.y1);
      any = true;
    }
    if (any) {
      // Keep the zoom when the selection already fits; centre it.
      const float keep = v.placed ? v.zoom : 1.0f;
      frame_rect(app, x0, y0, x1, y1, 1.0f);
      if (v.zoom > keep && keep >= 0.5f) {
        v.zoom = keep;
        const float z = v.zoom * scale_;
        v.pan_x = (max_.x - min_.x) * 0.5f - (x0 + x1) * 0.5f * z;
        v.pan_y = (max_.y - min_.y) * 0.5f - (y0 + y1) * 0.5f * z;
      }
    } else {
      e.frame_all = true;
    }
  }
  if (e.frame_all) {
    e.frame_all = false;
    if (scene_.items.empty()) {
      v = ViewTransform{};
      v.pan_x = (max_.x - min_.x) * 0.5f;
      v.pan_y = (max_.y - min_.y) * 0.5f;
      v.placed = true;
    } else {
      frame_rect(app, scene_.bx0, scene_.by0, scene_.bx1, scene_.by1, 1.0f);
    }
  }
}

// ---- Hit testing
// ---------------------------------------------------------------------------------

bool EditorCanvas::chevron_hit(const SceneItem& it, ImVec2 m) const {
  if (!it.container || (it.kind != SceneItem::Kind::Node && it.kind != SceneItem::Kind::Frame))
    return false;
  const ImVec2 a = to_screen(it.x1 - 26, it.y0), b = to_screen(it.x1, it.y0 + kNodeHeaderHeight);
  return m.x >= a.x && m.x <= b.x && m.y >= a.y && m.y <= b.y;
}

int EditorCanvas::hit_item(ImVec2 m, bool* on_chevron) const {
  *on_chevron = false;
  const ImVec2 c = to_canvas(m);
  // Boxes are above frames; deeper frames above outer ones.
  for (auto it = scene_.boxes.rbegin(); it != scene_.boxes.rend(); ++it) {
    const SceneItem& s = scene_.items[*it];
    if (c.x >= s.x0 && c.x <= s.x1 && c.y >= s.y0 && c.y <= s.y1) {
      *on_chevron = chevron_hit(s, m);
      return *it;
    }
  }
  for (auto it = scene_.frames.rbegin(); it != scene_.frames.rend(); ++it) {
    const SceneItem& s = scene_.items[*it];
    // A frame is picked by its header; its inside belongs to its children and the canvas.
    if (c.x >= s.x0 && c.x <= s.x1 && c.y >= s.y0 && c.y <= s.y0 + kNodeHeaderHeight) {
      *on_chevron = chevron_hit(s, m);
      return *it;
    }
  }
  return -1;
}

int EditorCanvas::hit_port(ImVec2 m) const {
  const float r = std::max(kPortRadius * z_ * 1.8f, 7.0f * scale_);
  const float r2 = r * r;
  int best = -1;
  float best_d = r2;
  for (size_t i = 0; i < scene_.ports.size(); ++i) {
    const float d = dist2(port_screen(static_cast<int>(i)), m);
    if (d <= best_d) best_d = d, best = static_cast<int>(i);
  }
  return best;
}

int EditorCanvas::hit_link(ImVec2 m) const {
  const ImVec2 c = to_canvas(m);
  const float tol_px = 5.0f * scale_;
  const float tol = tol_px / z_;
  for (size_t i = 0; i < scene_.links.size(); ++i) {
    const SceneLink& l = scene_.links[i];
    if (c.x < l.bx0 - tol || c.x > l.bx1 + tol || c.y < l.by0 - tol || c.y > l.by1 + tol) continue;
    const ScenePort& a = scene_.ports[l.from];
    const ScenePort& b = scene_.ports[l.to];
    const views::LinkCurve lc = views::link_curve({a.x, a.y}, {b.x, b.y}, l.routed, l.route_y);
    for (int k = 0; k < lc.beziers; ++k) {
      const views::Vec2* p = lc.p + 3 * k;
      ImVec2 prev(p[0].x, p[0].y);
      for (int s = 1; s <= 16; ++s) {
        const ImVec2 q = bezier(p[0], p[1], p[2], p[3], static_cast<float>(s) / 16);
        // Distance from c to segment prev-q.
        const float vx = q.x - prev.x, vy = q.y - prev.y;
        const float len2 = vx * vx + vy * vy;
        float t = len2 > 0 ? ((c.x - prev.x) * vx + (c.y - prev.y) * vy) / len2 : 0;
        t = std::clamp(t, 0.0f, 1.0f);
        const ImVec2 near(prev.x + t * vx, prev.y + t * vy);
        if (dist2(near, c) <= tol * tol) return static_cast<int>(i);
        prev = q;
      }
    }
  }
  return -1;
}

std::vector<NodeId> EditorCanvas::movable_selection(const AppState& app) const {
  // Selected nodes in the scene whose enclosing frames are not selected too.
  std::vector<NodeId> out;
  for (NodeId id : app.editor.selection) {
    const int i = scene_.find(id);
    if (i < 0) continue;
    bool nested = false;
    for (int p = scene_.items[i].parent; p >= 0; p = scene_.items[p].parent)
      nested |= app.editor.selected(scene_.items[p].id);
    if (!nested) out.push_back(id);
  }
  return out;
}

// ---- Commands
// ------------------------------------------------------------------------------------

void EditorCanvas::refuse(AppState& app, const EditResult& r, NodeId node, int port) {
  Refusal& f = app.editor.refusal;
  f = {};
  f.node = node;
  f.port = port;
  f.reason = r.reason;
  f.until = ImGui::GetTime() + kRefusalSeconds;
  if (node == kNoNode) {
    const ImVec2 c = to_canvas(ImGui::GetIO().MousePos);
    f.x = c.x, f.y = c.y;
  }
  app.status = {Message::Error, r.reason};
}

bool EditorCanvas::editable(AppState& app, NodeId near_node, int port) {
  const std::string why = locked_reason(app.doc.graph(), app.editor.container);
  if (why.empty()) return true;
  EditResult r;
  r.ok = false;
  r.reason = why;
  refuse(app, r, near_node, port);
  return false;
}

void EditorCanvas::delete_selection(AppState& app) {
  EditorState& e = app.editor;
  const Graph& g = app.doc.graph();
  if (selected_link_ >= 0 && selected_link_ < static_cast<int>(scene_.links.size())) {
    const ScenePort& to = scene_.ports[scene_.links[selected_link_].to];
    const NodeId level = to.dst_group_output ? to.dst : g.node(to.dst).parent;
    if (const std::string why = locked_reason(g, level); !why.empty()) {
      EditResult r;
      r.ok = false;
      r.reason = why;
      refuse(app, r, to.dst, to.dst_port);
      return;
    }
    const EditResult r = to.dst_group_output ? app.doc.set_output(to.dst, to.dst_port, PortRef{})
                                             : app.doc.disconnect(to.dst, to.dst_port);
    if (r.ok) app.status = {Message::Info, "Deleted a link"};
    selected_link_ = -1;
    return;
  }
  if (e.selection.empty()) return;
  const std::vector<NodeId> ids(e.selection.begin(), e.selection.end());
  for (NodeId id : ids)
    if (const std::string why = locked_reason(g, g.node(id).parent); !why.empty()) {
      EditResult r;
      r.ok = false;
      r.reason = why;
      refuse(app, r, id, -1);
      return;
    }
  const EditResult r = app.doc.remove(ids);
  if (r.ok) {
    app.status = {Message::Info,
                  "Deleted " + std::to_string(ids.size()) + (ids.size() == 1 ? " node" : " nodes")};
    e.selection.clear();
  } else {
    refuse(app, r, kNoNode, -1);
  }
}

void EditorCanvas::copy_selection(AppState& app) {
  if (app.editor.selection.empty()) return;
  const std::vector<NodeId> ids(app.editor.selection.begin(), app.editor.selection.end());
  app.clipboard = app.doc.copy(ids);
  ImGui::SetClipboardText(app.clipboard.c_str());
  app.status = {Message::Info,
                "Copied " + std::to_string(ids.size()) + (ids.size() == 1 ? " node" : " nodes")};
}

void EditorCanvas::cut_selection(AppState& app) {
  if (app.editor.selection.empty()) return;
  copy_selection(app);
  app.doc.begin_group("Cut");
  delete_selection(app);
  app.doc.end_group();
}

namespace detail {
EditResult paste_at(AppState& app, const std::string& frag, float x, float y, bool absolute,
                    float dx, float dy, const std::string& label) {
  Graph parsed;
  try {
    parsed = graph_from_json(frag, "clipboard");
  } catch (const std::exception& e) {
    EditResult r;
    r.ok = false;
    r.reason = std::string("nothing to paste: ") + e.what();
    return r;
  }
  if (absolute) {
    float mx = FLT_MAX, my = FLT_MAX;
    for (NodeId id : parsed.children(kNoNode)) {
      mx = std::min(mx, parsed.node(id).x);
      my = std::min(my, parsed.node(id).y);
    }
    if (mx == FLT_MAX) mx = my = 0;
    dx = x - mx, dy = y - my;
  }
  const NodeId parent = app.editor.container;
  app.doc.begin_group(label);
  EditResult r = app.doc.paste(parent, frag, dx, dy);
  if (r.ok)
    for (NodeId id : r.created) {
      const Node& n = app.doc.graph().node(id);
      // Unique among its new siblings.
      std::string base = n.name.empty() ? n.kind : n.name;
      int same = 0;
      for (NodeId s : app.doc.graph().children(parent))
        same += app.doc.graph().node(s).name == n.name;
      if (same > 1) app.doc.rename(id, fresh_name(app.doc.graph(), parent, base));
    }
  app.doc.end_group();
  return r;
}
}  // namespace detail

void EditorCanvas::paste(AppState& app) {
  if (!editable(app, kNoNode, -1)) return;
  std::string frag;
  if (const char* text = ImGui::GetClipboardText(); text && text[0] == '{') frag = text;
  if (frag.empty()) frag = app.clipboard;
  if (frag.empty()) {
    app.status = {Message::Info, "Nothing to paste"};
    return;
  }
  EditResult r;
  if (hovered_) {
    const ImVec2 c = to_canvas(ImGui::GetIO().MousePos);
    r = paste_at(app, frag, c.x, c.y, true, 0, 0, "Paste");
  } else {
    r = paste_at(app, frag, 0, 0, false, 40, 40, "Paste");
  }
  if (!r.ok) {
    refuse(app, r, kNoNode, -1);
    return;
  }
  app.editor.selection = std::set<NodeId>(r.created.begin(), r.created.end());
  app.status = {Message::Info, "Pasted " + std::to_string(r.created.size()) +
                                   (r.created.size() == 1 ? " node" : " nodes")};
}

void EditorCanvas::duplicate(AppState& app) {
  if (app.editor.selection.empty() || !editable(app, kNoNode, -1)) return;
  // Only nodes of the shown level: a duplicate lands beside its original.
  std::vector<NodeId> ids;
  for (NodeId id : app.editor.selection)
    if (app.doc.graph().node(id).parent == app.editor.container) ids.push_back(id);
  if (ids.empty()) return;
  const std::string frag = app.doc.copy(ids);
  const EditResult r = paste_at(app, frag, 0, 0, false, 32, 32, "Duplicate");
  if (!r.ok) {
    refuse(app, r, kNoNode, -1);
    return;
  }
  app.editor.selection = std::set<NodeId>(r.created.begin(), r.created.end());
  app.status = {Message::Info, "Duplicated " + std::to_string(ids.size()) +
                                   (ids.size() == 1 ? " node" : " nodes")};
}

void EditorCanvas::select_all(AppState& app) {
  app.editor.selection.clear();
  for (NodeId id : app.doc.graph().children(app.editor.container)) app.editor.selection.insert(id);
  selected_link_ = -1;
}

void EditorCanvas::arrange(AppState& app) {
  const std::vector<Placement> where =
      views::layout_level(app.doc.graph(), app.editor.container, node_box);
  if (where.empty()) return;
  app.doc.place(where, "Arrange");
  app.editor.frame_all = true;
  app.status = {Message::Info, "Arranged " + std::to_string(where.size()) + " nodes"};
}

void EditorCanvas::rename_selected(AppState& app) {
  if (app.editor.selection.size() != 1) return;
  const NodeId id = *app.editor.selection.begin();
  const Graph& g = app.doc.graph();
  if (const std::string why = locked_reason(g, g.node(id).parent); !why.empty()) {
    EditResult r;
    r.ok = false;
    r.reason = why;
    refuse(app, r, id, -1);
    return;
  }
  rename_id_ = id;
  std::snprintf(rename_buf_, sizeof rename_buf_, "%s", g.node(id).name.c_str());
  open_rename_ = true;
}

void EditorCanvas::toggle_open_selected(AppState& app) {
  for (NodeId id : std::set<NodeId>(app.editor.selection)) {
    const Node* n = app.doc.graph().find(id);
    if (n && is_container(*n)) app.editor.set_expanded(id, !app.editor.expanded.count(id));
  }
}

void EditorCanvas::enter_selected(AppState& app) {
  if (app.editor.selection.size() != 1) return;
  const NodeId id = *app.editor.selection.begin();
  const Node* n = app.doc.graph().find(id);
  if (n && is_container(*n)) enter_level(app, id);
}

void EditorCanvas::up_level(AppState& app) {
  const NodeId c = app.editor.container;
  if (c == kNoNode) return;
  const Node* n = app.doc.graph().find(c);
  enter_level(app, n ? n->parent : kNoNode);
  app.editor.select_only(c);
}

bool EditorCanvas::escape(AppState& app) {
  if (gesture_ != Gesture::None) {
    gesture_ = Gesture::None;
    moving_.clear();
    return true;
  }
  if (app.editor.refusal.until > 0) {
    app.editor.refusal = {};
    return true;
  }
  if (!app.editor.selection.empty() || selected_link_ >= 0) {
    app.editor.selection.clear();
    selected_link_ = -1;
    return true;
  }
  if (app.editor.container != kNoNode) {
    up_level(app);
    return true;
  }
  return false;
}

EditResult EditorCanvas::add_entry(AppState& app, int entry, float x, float y) {
  const std::vector<PaletteEntry>& entries = palette_entries();
  EditResult r;
  if (entry < 0 || entry >= static_cast<int>(entries.size())) {
    r.ok = false;
    r.reason = "no such palette entry";
    return r;
  }
  const PaletteEntry& e = entries[entry];
  // Centre the new box on (x, y).
  Node probe;
  probe.kind = e.kind;
  probe.name = e.kind;
  try {
    probe.attrs = complete_attrs(op_def(e.kind), e.attrs);
  } catch (const std::exception&) {
  }
  const BoxSize box = node_box(probe);
  r = add_node(app, e.kind, e.attrs, std::round(x - box.w * 0.5f), std::round(y - box.h * 0.5f));
  if (!r.ok) {
    Refusal& f = app.editor.refusal;
    f = {};
    f.reason = r.reason;
    f.x = x, f.y = y;
    f.until = ImGui::GetTime() + kRefusalSeconds;
    app.status = {Message::Error, r.reason};
    return r;
  }
  app.editor.select_only(r.node);
  app.status = {Message::Info, "Added " + e.label + " as " + app.doc.graph().node(r.node).name};
  return r;
}

EditResult EditorCanvas::add_entry_at_center(AppState& app, int entry) {
  const ImVec2 c = to_canvas(ImVec2((min_.x + max_.x) * 0.5f, (min_.y + max_.y) * 0.5f));
  return add_entry(app, entry, c.x, c.y);
}

// ---- Input
// ---------------------------------------------------------------------------------------

void EditorCanvas::finish_link(AppState& app, int target) {
  const int start = press_port_;
  if (target < 0 || target == start || start < 0) return;
  const Graph& g = app.doc.graph();
  const ScenePort& a = scene_.ports[start];
  const ScenePort& b = scene_.ports[target];
  // Could `s` feed `d` in the graph's rules (siblings, or a group input seen from inside)?
  auto legal = [&](const ScenePort& s, const ScenePort& d) {
    if (!s.src.connected() || d.dst == kNoNode) return false;
    const NodeId level = d.dst_group_output ? d.dst : g.node(d.dst).parent;
    if (s.src.group_input) return s.src.node == level;
    return g.node(s.src.node).parent == level && (d.dst_group_output || s.src.node != d.dst);
  };
  const ScenePort* src = nullptr;
  const ScenePort* dst = nullptr;
  if (legal(a, b))
    src = &a, dst = &b;
  else if (legal(b, a))
    src = &b, dst = &a;
  else if (a.src.connected() && b.dst != kNoNode)
    src = &a, dst = &b;
  else if (b.src.connected() && a.dst != kNoNode)
    src = &b, dst = &a;
  EditResult r;
  if (!src) {
    r.ok = false;
    r.reason =
        a.left == b.left ? "connect an output to an input" : "these ports cannot be connected";
    refuse(app, r, b.dst != kNoNode ? b.dst : a.dst, b.dst != kNoNode ? b.dst_port : a.dst_port);
    return;
  }
  const NodeId level = dst->dst_group_output ? dst->dst : g.node(dst->dst).parent;
  if (const std::string why = locked_reason(g, level); !why.empty()) {
    r.ok = false;
    r.reason = why;
  } else if (dst->dst_group_output) {
    r = app.doc.set_output(dst->dst, dst->dst_port, src->src);
  } else {
    r = app.doc.connect(src->src, dst->dst, dst->dst_port);
  }
  if (!r.ok) {
    refuse(app, r, dst->dst, dst->dst_port);
    app.editor.refusal.group_output = dst->dst_group_output;
    return;
  }
  app.editor.refusal = {};
  app.status = {Message::Ok,
                "Connected " + (src->shape.empty() ? std::string("") : src->shape + " ") + "into " +
                    (g.path(dst->dst).empty() ? node_title(g.node(dst->dst)) : g.path(dst->dst))};
}

void EditorCanvas::finish_move(AppState& app) {
  const float dx = std::round(move_delta_.x), dy = std::round(move_delta_.y);
  moving_.clear();
  if (dx == 0 && dy == 0) return;
  const std::vector<NodeId> ids = movable_selection(app);
  if (ids.empty()) return;
  app.doc.move(ids, dx, dy);
}

void EditorCanvas::finish_box(AppState& app) {
  const ImVec2 m = ImGui::GetIO().MousePos;
  EditorState& e = app.editor;
  if (dist2(m, press_pos_) < 9.0f) {  // a click on empty canvas
    if (!box_additive_) e.selection.clear();
    return;
  }
  const ImVec2 a = to_canvas(press_pos_), b = to_canvas(m);
  const float x0 = std::min(a.x, b.x), x1 = std::max(a.x, b.x);
  const float y0 = std::min(a.y, b.y), y1 = std::max(a.y, b.y);
  std::vector<char> chosen(scene_.items.size(), 0);
  for (size_t i = 0; i < scene_.items.size(); ++i) {
    const SceneItem& it = scene_.items[i];
    if (it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out) continue;
    const bool inside = it.x0 >= x0 && it.x1 <= x1 && it.y0 >= y0 && it.y1 <= y1;
    const bool touches = it.x1 >= x0 && it.x0 <= x1 && it.y1 >= y0 && it.y0 <= y1;
    chosen[i] = it.kind == SceneItem::Kind::Frame ? inside : touches;
  }
  if (!box_additive_) e.selection.clear();
  for (size_t i = 0; i < scene_.items.size(); ++i) {
    if (!chosen[i]) continue;
    bool nested = false;
    for (int p = scene_.items[i].parent; p >= 0; p = scene_.items[p].parent)
      nested |= chosen[p] != 0;
    if (!nested) e.selection.insert(scene_.items[i].id);
  }
}

void EditorCanvas::handle_input(AppState& app) {
  ImGuiIO& io = ImGui::GetIO();
  EditorState& e = app.editor;
  ViewTransform& v = e.views[e.container];
  const ImVec2 m = io.MousePos;

  hover_item_ = hover_port_ = hover_link_ = -1;
  hover_chevron_ = false;
  if (hovered_ && gesture_ != Gesture::Move && gesture_ != Gesture::Pan) {
    if (z_ >= kDetailZoom * scale_) hover_port_ = hit_port(m);
    if (hover_port_ < 0) hover_item_ = hit_item(m, &hover_chevron_);
    if (hover_port_ < 0 && hover_item_ < 0) hover_link_ = hit_link(m);
  }

  // Zoom around the cursor.
  if (hovered_ && io.MouseWheel != 0 && gesture_ != Gesture::Move) {
    const ImVec2 before = to_canvas(m);
    v.zoom = std::clamp(v.zoom * std::pow(1.15f, io.MouseWheel), kMinZoom, kMaxZoom);
    z_ = v.zoom * scale_;
    v.pan_x = m.x - min_.x - before.x * z_;
    v.pan_y = m.y - min_.y - before.y * z_;
    origin_ = ImVec2(min_.x + v.pan_x, min_.y + v.pan_y);
  }

  const bool space = ImGui::IsKeyDown(ImGui::GetKeyIndex(ImGuiKey_Space)) && !io.WantTextInput;
  if (hovered_ && ImGui::IsMouseClicked(ImGuiMouseButton_Left) && gesture_ == Gesture::None) {
    press_pos_ = m;
    press_item_ = press_port_ = -1;
    press_toggle_ = false;
    if (e.refusal.until > 0) e.refusal = {};
    const bool modifier = io.KeyShift || io.KeyCtrl;
    if (space) {
      gesture_ = Gesture::Pan;
    } else if (hover_port_ >= 0) {
      gesture_ = Gesture::Link;
      press_port_ = hover_port_;
      selected_link_ = -1;
    } else if (hover_item_ >= 0 && (scene_.items[hover_item_].kind == SceneItem::Kind::Node ||
                                    scene_.items[hover_item_].kind == SceneItem::Kind::Frame)) {
      const SceneItem& it = scene_.items[hover_item_];
      selected_link_ = -1;
      if (hover_chevron_) {
        e.set_expanded(it.id, !e.expanded.count(it.id));
      } else if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left) && it.container) {
        enter_level(app, it.id);
      } else {
        press_item_ = hover_item_;
        if (modifier)
          press_toggle_ = true;
        else if (!e.selected(it.id))
          e.select_only(it.id);
        gesture_ = Gesture::Press;
      }
    } else if (hover_link_ >= 0) {
      selected_link_ = hover_link_;
      if (!modifier) e.selection.clear();
    } else {
      gesture_ = Gesture::Box;
      box_additive_ = modifier;
      selected_link_ = -1;
    }
  }
  if (hovered_ && ImGui::IsMouseClicked(ImGuiMouseButton_Middle) && gesture_ == Gesture::None)
    gesture_ = Gesture::Pan;
  if (hovered_ && ImGui::IsMouseClicked(ImGuiMouseButton_Right) && gesture_ == Gesture::None) {
    gesture_ = Gesture::RightPress;
    press_pos_ = m;
    ctx_item_ = hover_item_;
    ctx_link_ = hover_item_ < 0 && hover_port_ < 0 ? hover_link_ : -1;
    if (hover_port_ >= 0) ctx_item_ = scene_.ports[hover_port_].item;
    ctx_canvas_ = to_canvas(m);
  }

  switch (gesture_) {
    case Gesture::Press:
      if (ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
        const SceneItem& it = scene_.items[press_item_];
        if (press_toggle_ && !e.selected(it.id)) e.selection.insert(it.id);
        press_toggle_ = false;
        if (e.selected(it.id)) {
          gesture_ = Gesture::Move;
          moving_.assign(scene_.items.size(), 0);
          for (size_t i = 0; i < scene_.items.size(); ++i) {
            const SceneItem& s = scene_.items[i];
            const bool own =
                (s.kind == SceneItem::Kind::Node || s.kind == SceneItem::Kind::Frame) &&
                e.selected(s.id);
            moving_[i] = own || (s.parent >= 0 && moving_[s.parent]);
          }
          move_delta_ = ImVec2(0, 0);
        } else {
          gesture_ = Gesture::None;
        }
      } else if (ImGui::IsMouseReleased(ImGuiMouseButton_Left)) {
        const NodeId id = scene_.items[press_item_].id;
        if (press_toggle_) {
          if (e.selected(id))
            e.selection.erase(id);
          else
            e.selection.insert(id);
        } else {
          e.select_only(id);
        }
        gesture_ = Gesture::None;
      }
      break;
    case Gesture::Move:
      move_delta_ = ImVec2((m.x - press_pos_.x) / z_, (m.y - press_pos_.y) / z_);
      if (ImGui::IsMouseReleased(ImGuiMouseButton_Left)) {
        gesture_ = Gesture::None;
        finish_move(app);
      }
      break;
    case Gesture::Box:
      if (ImGui::IsMouseReleased(ImGuiMouseButton_Left)) {
        gesture_ = Gesture::None;
        finish_box(app);
      }
      break;
    case Gesture::Link:
      if (ImGui::IsMouseReleased(ImGuiMouseButton_Left)) {
        gesture_ = Gesture::None;
        finish_link(app, hit_port(m));
      }
      break;
    case Gesture::Pan:
      v.pan_x += io.MouseDelta.x;
      v.pan_y += io.MouseDelta.y;
      v.placed = true;
      origin_ = ImVec2(min_.x + v.pan_x, min_.y + v.pan_y);
      if (!io.MouseDown[0] && !io.MouseDown[1] && !io.MouseDown[2]) gesture_ = Gesture::None;
      break;
    case Gesture::RightPress:
      if (ImGui::IsMouseDragging(ImGuiMouseButton_Right)) {
        gesture_ = Gesture::Pan;
      } else if (ImGui::IsMouseReleased(ImGuiMouseButton_Right)) {
        gesture_ = Gesture::None;
        open_ctx_ = true;
        // A right click on an unselected node selects it (the menu acts on it).
        if (ctx_item_ >= 0) {
          const SceneItem& it = scene_.items[ctx_item_];
          if ((it.kind == SceneItem::Kind::Node || it.kind == SceneItem::Kind::Frame) &&
              !e.selected(it.id))
            e.select_only(it.id);
        }
        if (ctx_link_ >= 0) selected_link_ = ctx_link_;
      }
      break;
    case Gesture::None:
      break;
  }
}
// ---- Frame
// ---------------------------------------------------------------------------------------

void EditorCanvas::draw(AppState& app, const Fonts& fonts, ImVec2 size) {
  ui_fonts_ = &fonts;
  scale_ = fonts.scale > 0 ? fonts.scale : 1;
  size.x = std::max(size.x, 1.0f);
  size.y = std::max(size.y, 1.0f);
  refresh_scene(app);

  min_ = ImGui::GetCursorScreenPos();
  max_ = ImVec2(min_.x + size.x, min_.y + size.y);
  ImGui::InvisibleButton("##canvas", size,
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight |
                             ImGuiButtonFlags_MouseButtonMiddle);
  hovered_ = ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenBlockedByActiveItem) &&
             !ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId);
  if (gesture_ != Gesture::None && ImGui::IsItemActive()) hovered_ = true;

  handle_view_requests(app);
  ViewTransform& v = app.editor.views[app.editor.container];
  z_ = v.zoom * scale_;
  origin_ = ImVec2(min_.x + v.pan_x, min_.y + v.pan_y);

  // A palette entry dropped here.
  if (ImGui::BeginDragDropTarget()) {
    if (const ImGuiPayload* p = ImGui::AcceptDragDropPayload(kPalettePayload)) {
      int entry = -1;
      std::memcpy(&entry, p->Data, sizeof entry);
      const ImVec2 c = to_canvas(ImGui::GetIO().MousePos);
      add_entry(app, entry, c.x, c.y);
    }
    ImGui::EndDragDropTarget();
  }

  handle_input(app);

  ImDrawList* dl = ImGui::GetWindowDrawList();
  if (probe::enabled()) {
    const std::string level =
        scene_container_ == kNoNode ? std::string() : app.doc.graph().path(scene_container_);
    probe::fact("level", level);
    probe::Drawn d;
    d.list = d.id = "canvas";
    d.min = d.fill_min = min_;
    d.max = d.fill_max = max_;
    d.fill = palette::kCanvas;
    d.count = static_cast<int>(scene_.items.size());
    probe::drawn(std::move(d));
  }
  dl->PushClipRect(min_, max_, true);
  draw_grid(dl);
  draw_scene(dl, app);
  draw_overlays(dl, app);
  if (scene_.items.empty()) {
    const char* hint = "Empty level \xE2\x80\x94 drag blocks and ops here from the palette";
    const ImVec2 ts = ImGui::CalcTextSize(hint);
    dl->AddText(ImVec2((min_.x + max_.x - ts.x) * 0.5f, (min_.y + max_.y - ts.y) * 0.5f),
                palette::kTextDim, hint);
  }
  dl->PopClipRect();

  tooltips(app);
  context_menus(app, fonts);
  rename_popup(app);
}

}  // namespace fw::gui
