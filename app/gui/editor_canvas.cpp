#include "app/gui/editor_canvas.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "app/gui/format.h"
#include "app/gui/layout.h"
#include "app/gui/node_geometry.h"
#include "app/gui/ui_probe.h"
#include "app/panels/palette.h"
#include "core/error.h"
#include "core/graph_json.h"

namespace fw::gui {

namespace {

constexpr float kMinZoom = 0.04f, kMaxZoom = 3.0f;
constexpr float kLinkLabelSize = 11.5f;
constexpr float kDetailZoom = 0.2f;    // below: boxes only (no text, ports, rounding)
constexpr float kFullZoom = 0.8f;      // from here: every line of a node; below: title and shape,
                                       // drawn larger than the zoom (semantic zoom)
constexpr float kReadableZoom = 0.55f; // a level is first shown at least this close
constexpr double kRefusalSeconds = 6.0;

ImU32 with_alpha(ImU32 c, float a) {
  return (c & ~IM_COL32_A_MASK) | (static_cast<ImU32>(a * 255.0f) << IM_COL32_A_SHIFT);
}

ImU32 mix(ImU32 a, ImU32 b, float t) {  // a*(1-t) + b*t
  auto ch = [&](int shift) {
    const float x = static_cast<float>((a >> shift) & 0xFF), y = static_cast<float>((b >> shift) & 0xFF);
    return static_cast<ImU32>(x + (y - x) * t + 0.5f) << shift;
  };
  return ch(IM_COL32_R_SHIFT) | ch(IM_COL32_G_SHIFT) | ch(IM_COL32_B_SHIFT) | (0xFFu << IM_COL32_A_SHIFT);
}

float dist2(ImVec2 a, ImVec2 b) { return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y); }

ImVec2 bezier(ImVec2 p0, ImVec2 p1, ImVec2 p2, ImVec2 p3, float t) {
  const float u = 1 - t;
  const float a = u * u * u, b = 3 * u * u * t, c = 3 * u * t * t, d = t * t * t;
  return ImVec2(a * p0.x + b * p1.x + c * p2.x + d * p3.x, a * p0.y + b * p1.y + c * p2.y + d * p3.y);
}

int segments_for(ImVec2 a, ImVec2 b) {
  const float len = std::sqrt(dist2(a, b));
  return std::clamp(static_cast<int>(len / 14.0f), 3, 24);
}

}  // namespace

// ---- Transform and geometry ----------------------------------------------------------------------

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

// ---- Scene and view ------------------------------------------------------------------------------

void EditorCanvas::refresh_scene(AppState& app, const Fonts& fonts) {
  fonts_ = {fonts.canvas_bold, fonts.canvas_regular, fonts.canvas_mono};
  const EditorState& e = app.editor;
  if (scene_doc_ == &app.doc && scene_revision_ == app.doc.revision() &&
      scene_container_ == e.container && scene_expanded_ == e.expanded_version)
    return;
  // Canvas text is measured at its canvas-unit size.
  SceneFonts measure = fonts_;
  scene_ = build_scene(app.doc.graph(), app.doc.analysis(), e.container, e.expanded, measure);
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
  const float margin = 48 * scale_;
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

// ---- Hit testing ---------------------------------------------------------------------------------

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
    const LinkCurve lc = link_curve(ImVec2(a.x, a.y), ImVec2(b.x, b.y), l.routed, l.route_y);
    for (int k = 0; k < lc.beziers; ++k) {
      const ImVec2* p = lc.p + 3 * k;
      ImVec2 prev = p[0];
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

// ---- Commands ------------------------------------------------------------------------------------

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
    app.status = {Message::Info, "Deleted " + std::to_string(ids.size()) +
                                     (ids.size() == 1 ? " node" : " nodes")};
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
  app.status = {Message::Info, "Copied " + std::to_string(ids.size()) +
                                   (ids.size() == 1 ? " node" : " nodes")};
}

void EditorCanvas::cut_selection(AppState& app) {
  if (app.editor.selection.empty()) return;
  copy_selection(app);
  app.doc.begin_group("Cut");
  delete_selection(app);
  app.doc.end_group();
}

namespace {
// Paste `frag` under the shown level with its top-left root at (x, y); roots renamed so that
// names stay unique among their new siblings. One undo step.
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
      for (NodeId s : app.doc.graph().children(parent)) same += app.doc.graph().node(s).name == n.name;
      if (same > 1) app.doc.rename(id, fresh_name(app.doc.graph(), parent, base));
    }
  app.doc.end_group();
  return r;
}
}  // namespace

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
  const std::vector<Placement> where = layout_level(app.doc.graph(), app.editor.container, node_box);
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
    if (n && !n->children.empty()) app.editor.set_expanded(id, !app.editor.expanded.count(id));
  }
}

void EditorCanvas::enter_selected(AppState& app) {
  if (app.editor.selection.size() != 1) return;
  const NodeId id = *app.editor.selection.begin();
  const Node* n = app.doc.graph().find(id);
  if (n && !n->children.empty()) enter_level(app, id);
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

// ---- Input ---------------------------------------------------------------------------------------

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
    r.reason = a.left == b.left ? "connect an output to an input" : "these ports cannot be connected";
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
  app.status = {Message::Ok, "Connected " + (src->shape.empty() ? std::string("") : src->shape + " ") +
                                 "into " + (g.path(dst->dst).empty() ? node_title(g.node(dst->dst))
                                                                     : g.path(dst->dst))};
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
    for (int p = scene_.items[i].parent; p >= 0; p = scene_.items[p].parent) nested |= chosen[p] != 0;
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
            const bool own = (s.kind == SceneItem::Kind::Node || s.kind == SceneItem::Kind::Frame) &&
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

// ---- Drawing -------------------------------------------------------------------------------------

void EditorCanvas::draw_grid(ImDrawList* dl) const {
  dl->AddRectFilled(min_, max_, palette::kCanvas);
  float step = 32 * z_;
  if (step < 10) step *= 5;  // only the major lines when zoomed out
  if (step < 10) return;
  const float major = 32 * 5 * z_;
  auto lines = [&](float s, ImU32 col) {
    const float x_start = origin_.x + std::ceil((min_.x - origin_.x) / s) * s;
    for (float x = x_start; x < max_.x; x += s) dl->AddLine(ImVec2(x, min_.y), ImVec2(x, max_.y), col);
    const float y_start = origin_.y + std::ceil((min_.y - origin_.y) / s) * s;
    for (float y = y_start; y < max_.y; y += s) dl->AddLine(ImVec2(min_.x, y), ImVec2(max_.x, y), col);
  };
  if (step < major * 0.99f) lines(step, palette::kGridMinor);
  if (major >= 10) lines(major, palette::kGridMajor);
}

void EditorCanvas::draw_ports(ImDrawList* dl, const SceneItem& it, ImVec2 off) const {
  (void)off;
  if (z_ < kDetailZoom * scale_) return;
  const float r = std::max(kPortRadius * z_, 2.5f);
  for (int i = 0; i < it.inputs + it.outputs; ++i) {
    const int index = it.port_begin + i;
    const ScenePort& p = scene_.ports[index];
    const ImVec2 c = port_screen(index);
    if (c.x < min_.x - r || c.x > max_.x + r || c.y < min_.y - r || c.y > max_.y + r) continue;
    const bool hot = index == hover_port_ || (gesture_ == Gesture::Link && index == press_port_);
    const ImU32 col = p.problem ? palette::kError : hot ? palette::kAccent : palette::kPort;
    if (p.connected) {
      dl->AddCircleFilled(c, hot ? r * 1.35f : r, col, 12);
    } else {
      dl->AddCircleFilled(c, r, palette::kNodeBody, 12);
      dl->AddCircle(c, hot ? r * 1.35f : r, col, 12, std::max(1.2f, 1.4f * z_));
    }
  }
}

void EditorCanvas::draw_frame(ImDrawList* dl, const SceneItem& it, ImVec2 off, bool selected) const {
  const ImVec2 a = to_screen(it.x0, it.y0), b = to_screen(it.x1, it.y1);
  const ImVec2 p0(a.x + off.x, a.y + off.y), p1(b.x + off.x, b.y + off.y);
  const float rounding = 8 * z_;
  const float header = kNodeHeaderHeight * z_;
  dl->AddRectFilled(p0, p1, with_alpha(mix(palette::kCanvas, it.color, 0.05f), 0.92f), rounding);
  dl->AddRectFilled(p0, ImVec2(p1.x, p0.y + header), mix(palette::kNodeBody, it.color, 0.28f),
                    rounding, ImDrawFlags_RoundCornersTop);
  ImU32 border = with_alpha(it.color, 0.55f);
  float th = std::max(1.0f, 1.3f * z_);
  if (it.problem || it.problem_inside) border = it.problem ? palette::kError : palette::kWarning;
  if (selected) border = palette::kAccent, th = std::max(1.5f, 2.2f * z_);
  dl->AddRect(p0, p1, border, rounding, 0, th);
  if (z_ >= kDetailZoom * scale_) {
    const float tsize = std::clamp(kNodeTitleSize * z_, std::min(10.0f * scale_, header * 0.9f), 40.0f);
    const float ty = p0.y + (header - tsize) * 0.5f;
    const float tx = p0.x + kNodePadding * z_;
    const ImVec4 clip(p0.x, p0.y, p1.x - 22 * z_, p0.y + header);
    dl->AddText(fonts_.bold, tsize, ImVec2(tx, ty), palette::kText, it.title.c_str(), nullptr, 0, &clip);
    const float tw = fonts_.bold->CalcTextSizeA(tsize, FLT_MAX, 0, it.title.c_str()).x;
    const float ssize = kNodeBodySize * z_;
    if (ssize >= 8 * scale_)
      dl->AddText(fonts_.regular, ssize, ImVec2(tx + tw + 12 * z_, p0.y + (header - ssize) * 0.5f),
                  palette::kTextDim, it.subtitle.c_str(), nullptr, 0, &clip);
    dl->AddText(fonts_.regular, tsize, ImVec2(p1.x - 20 * z_, ty), palette::kTextDim,
                "\xE2\x96\xBE");  // ▾
  }
  draw_ports(dl, it, off);
}

void EditorCanvas::draw_box(ImDrawList* dl, const SceneItem& it, ImVec2 off, bool selected,
                            const AppState& app) const {
  (void)app;
  const ImVec2 a = to_screen(it.x0, it.y0), b = to_screen(it.x1, it.y1);
  const ImVec2 p0(a.x + off.x, a.y + off.y), p1(b.x + off.x, b.y + off.y);
  const bool boundary = it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out;
  if (z_ < kDetailZoom * scale_) {  // far away: plain boxes
    dl->AddRectFilled(p0, p1, selected ? palette::kAccent : mix(palette::kNodeBody, it.color, 0.45f));
    if (it.problem) dl->AddRect(p0, p1, palette::kError, 0, 0, 1.5f);
    return;
  }
  const bool full = z_ >= kFullZoom * scale_;
  const float rounding = 6 * z_;
  const float header = kNodeHeaderHeight * z_;
  if (it.container && !boundary) {  // a stack: there is more inside
    const float d = 4 * z_;
    dl->AddRectFilled(ImVec2(p0.x + d, p0.y + d), ImVec2(p1.x + d, p1.y + d),
                      mix(palette::kNodeBody, palette::kCanvas, 0.4f), rounding);
    dl->AddRect(ImVec2(p0.x + d, p0.y + d), ImVec2(p1.x + d, p1.y + d), palette::kNodeBorder,
                rounding, 0, std::max(1.0f, z_));
  }
  if (boundary) {
    dl->AddRectFilled(p0, p1, palette::kHeader, rounding);
  } else if (full) {
    dl->AddRectFilled(p0, p1, palette::kNodeBody, rounding);
    dl->AddRectFilled(p0, ImVec2(p1.x, p0.y + header), mix(palette::kNodeBody, it.color, 0.30f),
                      rounding, ImDrawFlags_RoundCornersTop);
  } else {
    dl->AddRectFilled(p0, p1, mix(palette::kNodeBody, it.color, 0.22f), rounding);
  }
  dl->AddRectFilled(p0, ImVec2(p0.x + 3.5f * z_, p1.y), it.color, rounding,
                    ImDrawFlags_RoundCornersLeft);
  ImU32 border = palette::kNodeBorder;
  float th = std::max(1.0f, z_);
  if (it.problem_inside) border = palette::kWarning, th = std::max(1.2f, 1.5f * z_);
  if (it.problem) border = palette::kError, th = std::max(1.5f, 2.0f * z_);
  if (selected) border = palette::kAccent, th = std::max(1.5f, 2.2f * z_);
  dl->AddRect(p0, p1, border, rounding, 0, th);

  const ImVec4 clip(p0.x, p0.y, p1.x, p1.y);
  const float pad = std::max(kNodePadding * z_, 4.0f);
  const ImU32 shape_col = it.problem ? palette::kError : palette::kText;
  const char* shape = it.shape.empty() ? "?" : it.shape.c_str();
  if (boundary) {
    const float tsize = std::max(kNodeTitleSize * z_, std::min(10.0f * scale_, (p1.y - p0.y) * 0.4f));
    dl->AddText(fonts_.bold, tsize, ImVec2(p0.x + pad, p0.y + (header - tsize) * 0.5f),
                palette::kTextDim, it.title.c_str(), nullptr, 0, &clip);
    // The shape beside each port.
    const float msize = std::max(kNodeMonoSize * z_, 9.0f * scale_);
    for (int i = 0; i < it.inputs + it.outputs; ++i) {
      const ScenePort& p = scene_.ports[it.port_begin + i];
      const ImVec2 c = port_screen(it.port_begin + i);
      const float w = fonts_.mono->CalcTextSizeA(msize, FLT_MAX, 0, p.shape.c_str()).x;
      const float x = p.left ? c.x + pad : c.x - pad - w;
      dl->AddText(fonts_.mono, msize, ImVec2(x, c.y - msize * 0.5f), palette::kText, p.shape.c_str(),
                  nullptr, 0, &clip);
    }
  } else if (full) {
    const float tsize = kNodeTitleSize * z_;
    const float ty = p0.y + (header - tsize) * 0.5f;
    dl->AddText(fonts_.bold, tsize, ImVec2(p0.x + pad, ty), palette::kText, it.title.c_str(), nullptr,
                0, &clip);
    if (it.container)
      dl->AddText(fonts_.regular, tsize, ImVec2(p1.x - 20 * z_, ty), palette::kTextDim,
                  "\xE2\x96\xB8");  // ▸
    const float bsize = kNodeBodySize * z_, msize = kNodeMonoSize * z_;
    const float row = kNodeRowHeight * z_;
    const float line1 = p0.y + header + 4 * z_ + (row - bsize) * 0.5f;
    const float line2 = line1 + row;
    dl->AddText(fonts_.regular, bsize, ImVec2(p0.x + pad, line1), palette::kTextDim,
                it.subtitle.c_str(), nullptr, 0, &clip);
    dl->AddText(fonts_.mono, msize, ImVec2(p0.x + pad, line2), shape_col, shape, nullptr, 0, &clip);
    if (!it.params.empty()) {
      const float sw = fonts_.mono->CalcTextSizeA(msize, FLT_MAX, 0, shape).x;
      const float pw = fonts_.regular->CalcTextSizeA(bsize, FLT_MAX, 0, it.params.c_str()).x;
      const float px = p1.x - pad - pw;
      if (px > p0.x + pad + sw + 10 * z_)
        dl->AddText(fonts_.regular, bsize, ImVec2(px, line2 + (msize - bsize) * 0.5f),
                    palette::kTextDim, it.params.c_str());
    }
  } else {
    // Semantic zoom: the title (then as much of the op line as fits) and the shape, larger
    // than the zoom would make them.
    const float h = p1.y - p0.y;
    const float tsize = std::min(std::max(kNodeTitleSize * z_ * 1.5f, 10.0f * scale_), h * 0.34f);
    const float msize = std::min(std::max(kNodeMonoSize * z_ * 1.35f, 9.0f * scale_), h * 0.3f);
    if (tsize >= 6.0f) {
      const float gap = (h - tsize - msize) / 3;
      const ImVec2 tp(p0.x + pad, p0.y + gap);
      dl->AddText(fonts_.bold, tsize, tp, palette::kText, it.title.c_str(), nullptr, 0, &clip);
      const float tw = fonts_.bold->CalcTextSizeA(tsize, FLT_MAX, 0, it.title.c_str()).x;
      if (tp.x + tw + 8 * scale_ < p1.x - pad)
        dl->AddText(fonts_.regular, tsize * 0.9f, ImVec2(tp.x + tw + 6 * scale_, tp.y + tsize * 0.06f),
                    palette::kTextDim, it.subtitle.c_str(), nullptr, 0, &clip);
      if (msize >= 6.0f)
        dl->AddText(fonts_.mono, msize, ImVec2(p0.x + pad, p0.y + gap * 2 + tsize),
                    it.problem ? palette::kError : palette::kText, shape, nullptr, 0, &clip);
    }
  }
  if (it.problem) {  // a badge at the top-right corner
    const float r = std::max(6.5f * z_, 4.0f);
    const ImVec2 c(p1.x - 2 * z_, p0.y + 2 * z_);
    dl->AddCircleFilled(c, r, palette::kError, 16);
    if (r >= 5)
      dl->AddText(fonts_.bold, r * 1.5f, ImVec2(c.x - r * 0.22f, c.y - r * 0.78f), palette::kBackground, "!");
  }
  draw_ports(dl, it, off);
}

void EditorCanvas::draw_links(ImDrawList* dl, const AppState& app) const {
  const ImVec2 v0 = to_canvas(min_), v1 = to_canvas(max_);
  const bool labels = z_ >= 0.3f * scale_;
  const float lsize = std::max(kLinkLabelSize * z_, 9.0f * scale_);
  const float th = std::max(1.0f, 1.6f * z_), th_hot = std::max(1.6f, 2.6f * z_);
  for (size_t i = 0; i < scene_.links.size(); ++i) {
    const SceneLink& l = scene_.links[i];
    const ScenePort& a = scene_.ports[l.from];
    const ScenePort& b = scene_.ports[l.to];
    const bool moved = gesture_ == Gesture::Move &&
                       ((a.item < static_cast<int>(moving_.size()) && moving_[a.item]) ||
                        (b.item < static_cast<int>(moving_.size()) && moving_[b.item]));
    if (!moved && (l.bx1 < v0.x || l.bx0 > v1.x || l.by1 < v0.y || l.by0 > v1.y)) continue;
    const SceneItem& ia = scene_.items[a.item];
    const SceneItem& ib = scene_.items[b.item];
    const bool hot = static_cast<int>(i) == selected_link_ || static_cast<int>(i) == hover_link_ ||
                     ((ia.kind == SceneItem::Kind::Node || ia.kind == SceneItem::Kind::Frame) &&
                      app.editor.selected(ia.id)) ||
                     ((ib.kind == SceneItem::Kind::Node || ib.kind == SceneItem::Kind::Frame) &&
                      app.editor.selected(ib.id));
    const ImU32 col = l.problem ? palette::kError : hot ? palette::kAccent : palette::kLink;
    LinkCurve c;
    if (moved) {
      const ImVec2 sa = port_screen(l.from), sb = port_screen(l.to);
      c = link_curve(to_canvas(sa), to_canvas(sb), false, 0);
    } else {
      c = link_curve(ImVec2(a.x, a.y), ImVec2(b.x, b.y), l.routed, l.route_y);
    }
    ImVec2 s[10];
    const int n = c.beziers == 1 ? 4 : 10;
    for (int k = 0; k < n; ++k) s[k] = to_screen(c.p[k].x, c.p[k].y);
    if (c.beziers == 1) {
      dl->AddBezierCubic(s[0], s[1], s[2], s[3], col, hot ? th_hot : th, segments_for(s[0], s[3]));
    } else {
      dl->PathLineTo(s[0]);
      dl->PathBezierCubicCurveTo(s[1], s[2], s[3], segments_for(s[0], s[3]));
      dl->PathLineTo(s[6]);
      dl->PathBezierCubicCurveTo(s[7], s[8], s[9], segments_for(s[6], s[9]));
      dl->PathStroke(col, 0, hot ? th_hot : th);
    }
    if (labels && !l.label.empty()) {
      const ImVec2 mid = to_screen(c.mid().x, c.mid().y);
      const ImVec2 ts = fonts_.mono->CalcTextSizeA(lsize, FLT_MAX, 0, l.label.c_str());
      // Only where it fits: between the boxes, or along an arc's straight run.
      const float span = c.beziers == 3 ? s[6].x - s[3].x : std::fabs(s[n - 1].x - s[0].x);
      if (span > ts.x + 20 * scale_) {
        const float px = 4 * scale_, py = 1.5f * scale_;
        const ImVec2 q0(mid.x - ts.x * 0.5f - px, mid.y - ts.y * 0.5f - py);
        const ImVec2 q1(mid.x + ts.x * 0.5f + px, mid.y + ts.y * 0.5f + py);
        dl->AddRectFilled(q0, q1, with_alpha(palette::kCanvas, 0.92f), 3 * scale_);
        dl->AddRect(q0, q1, hot ? palette::kAccent : with_alpha(palette::kLink, 0.6f), 3 * scale_);
        dl->AddText(fonts_.mono, lsize, ImVec2(q0.x + px, q0.y + py),
                    hot ? palette::kText : palette::kTextDim, l.label.c_str());
      }
    }
  }
}

void EditorCanvas::draw_overlays(ImDrawList* dl, AppState& app) {
  drawn_refusal_.clear();
  const ImVec2 m = ImGui::GetIO().MousePos;
  if (gesture_ == Gesture::Box) {
    const ImVec2 a(std::min(press_pos_.x, m.x), std::min(press_pos_.y, m.y));
    const ImVec2 b(std::max(press_pos_.x, m.x), std::max(press_pos_.y, m.y));
    dl->AddRectFilled(a, b, with_alpha(palette::kAccent, 0.10f));
    dl->AddRect(a, b, with_alpha(palette::kAccent, 0.8f));
  }
  if (gesture_ == Gesture::Link && press_port_ >= 0) {
    const ScenePort& p = scene_.ports[press_port_];
    const ImVec2 s = port_screen(press_port_);
    ImVec2 t = m;
    if (hover_port_ >= 0) t = port_screen(hover_port_);
    const ImVec2 from = p.left ? t : s, to = p.left ? s : t;
    const LinkCurve c = link_curve(to_canvas(from), to_canvas(to), false, 0);
    dl->AddBezierCubic(to_screen(c.p[0].x, c.p[0].y), to_screen(c.p[1].x, c.p[1].y),
                       to_screen(c.p[2].x, c.p[2].y), to_screen(c.p[3].x, c.p[3].y),
                       palette::kAccent, std::max(1.6f, 2.4f * z_));
  }
  // The last refusal, at its port.
  Refusal& f = app.editor.refusal;
  if (f.until > 0 && ImGui::GetTime() > f.until) f = {};
  if (f.until > 0 && !f.reason.empty()) {
    ImVec2 at = to_screen(f.x, f.y);
    const int item = f.node != kNoNode ? scene_.find(f.node) : -1;
    if (item >= 0) {
      const SceneItem& it = scene_.items[item];
      at = to_screen(it.x0, it.y0 + kNodeHeaderHeight * 0.5f);
      if (f.port >= 0) {
        const int index = f.group_output ? it.port_begin + it.inputs + f.port : it.port_begin + f.port;
        if (index < it.port_begin + it.inputs + it.outputs) at = port_screen(index);
      }
    } else if (f.node != kNoNode && f.node == scene_container_ && scene_.out_item >= 0) {
      const SceneItem& it = scene_.items[scene_.out_item];
      at = port_screen(it.port_begin + std::max(0, std::min(f.port, it.inputs - 1)));
    }
    ImFont* font = ui_fonts_ && ui_fonts_->regular ? ui_fonts_->regular : ImGui::GetFont();
    const float size = font->FontSize;
    const float wrap = 340 * scale_;
    const std::string text = "\xE2\x9A\xA0 " + f.reason;  // ⚠
    const ImVec2 ts = font->CalcTextSizeA(size, FLT_MAX, wrap, text.c_str());
    const float pad = 8 * scale_;
    ImVec2 q0(at.x - 12 * scale_, at.y + 12 * scale_);
    q0.x = std::clamp(q0.x, min_.x + 4, std::max(min_.x + 4, max_.x - ts.x - 2 * pad - 4));
    q0.y = std::clamp(q0.y, min_.y + 4, std::max(min_.y + 4, max_.y - ts.y - 2 * pad - 4));
    const ImVec2 q1(q0.x + ts.x + 2 * pad, q0.y + ts.y + 2 * pad);
    dl->AddLine(at, ImVec2(q0.x + 12 * scale_, q0.y), palette::kError, 1.5f * scale_);
    dl->AddCircleFilled(at, 4 * scale_, palette::kError);
    dl->AddRectFilled(q0, q1, mix(palette::kBackground, palette::kError, 0.16f), 5 * scale_);
    dl->AddRect(q0, q1, palette::kError, 5 * scale_, 0, 1.2f * scale_);
    dl->AddText(font, size, ImVec2(q0.x + pad, q0.y + pad), palette::kText, text.c_str(), nullptr,
                wrap);
    drawn_refusal_ = f.reason;
  }
}

void EditorCanvas::tooltips(const AppState& app) const {
  if (!hovered_ || gesture_ != Gesture::None || ImGui::IsPopupOpen(nullptr, ImGuiPopupFlags_AnyPopupId))
    return;
  const Graph& g = app.doc.graph();
  const Fonts* f = ui_fonts_;
  if (hover_port_ >= 0) {
    const ScenePort& p = scene_.ports[hover_port_];
    const SceneItem& it = scene_.items[p.item];
    const bool inside_view = it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out;
    ImGui::BeginTooltip();
    const char* role = inside_view ? (p.left ? "group output" : "group input")
                                   : (p.left ? "input" : "output");
    ImGui::Text("%s '%s'", role, p.name.c_str());
    if (f) ImGui::PushFont(f->mono);
    ImGui::TextUnformatted(p.shape.empty() ? "shape unknown" : p.shape.c_str());
    if (f) ImGui::PopFont();
    if (!p.connected) ImGui::TextDisabled("not connected \xE2\x80\x94 drag to a port to connect");
    ImGui::EndTooltip();
    return;
  }
  if (hover_link_ >= 0) {
    const SceneLink& l = scene_.links[hover_link_];
    ImGui::BeginTooltip();
    if (f) ImGui::PushFont(f->mono);
    ImGui::TextUnformatted(l.label.empty() ? "shape unknown" : l.label.c_str());
    if (f) ImGui::PopFont();
    ImGui::TextDisabled("click to select, Del to delete");
    ImGui::EndTooltip();
    return;
  }
  if (hover_item_ < 0 || hover_chevron_) {
    if (hover_chevron_) {
      ImGui::BeginTooltip();
      ImGui::TextUnformatted(app.editor.expanded.count(scene_.items[hover_item_].id)
                                 ? "Close in place (E)"
                                 : "Open in place (E); double-click to enter");
      ImGui::EndTooltip();
    }
    return;
  }
  const SceneItem& it = scene_.items[hover_item_];
  if (it.kind == SceneItem::Kind::In || it.kind == SceneItem::Kind::Out) return;
  const Node* n = g.find(it.id);
  if (!n) return;
  const OpDef* def = find_op(n->kind);
  const NodeInfo* info = app.doc.analysis().of(it.id);
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 32);
  if (f) ImGui::PushFont(f->mono);
  const std::string path = g.path(it.id);
  ImGui::TextUnformatted(path.empty() ? node_title(*n).c_str() : path.c_str());
  if (f) ImGui::PopFont();
  ImGui::TextDisabled("%s (%s)", def ? def->label.c_str() : n->kind.c_str(), n->kind.c_str());
  if (info) {
    for (size_t k = 0; k < info->out.size(); ++k)
      ImGui::Text("output %s", info->out[k].empty() ? "?" : shape_text(info->out[k]).c_str());
    ImGui::Text("%s params \xC2\xB7 %s MACs", format_count(info->params).c_str(),
                format_si(info->macs).c_str());
  }
  if (it.container) ImGui::TextDisabled("%zu children \xC2\xB7 double-click to enter", n->children.size());
  for (const Problem& p : app.doc.analysis().problems)
    if (p.node == it.id) {
      ImGui::PushStyleColor(ImGuiCol_Text, palette::kError);
      ImGui::TextUnformatted(("\xE2\x9A\xA0 " + p.message).c_str());
      ImGui::PopStyleColor();
    }
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

// ---- Menus ---------------------------------------------------------------------------------------

void EditorCanvas::context_menus(AppState& app, const Fonts& fonts) {
  if (open_ctx_) {
    open_ctx_ = false;
    ctx_filter_[0] = '\0';
    if (ctx_link_ >= 0)
      ImGui::OpenPopup("##link_menu");
    else if (ctx_item_ >= 0 && (scene_.items[ctx_item_].kind == SceneItem::Kind::Node ||
                                scene_.items[ctx_item_].kind == SceneItem::Kind::Frame))
      ImGui::OpenPopup("##node_menu");
    else
      ImGui::OpenPopup("##canvas_menu");
  }
  const bool locked = !locked_reason(app.doc.graph(), app.editor.container).empty();
  if (ImGui::BeginPopup("##node_menu")) {
    const int n_sel = static_cast<int>(app.editor.selection.size());
    const SceneItem* it = ctx_item_ >= 0 && ctx_item_ < static_cast<int>(scene_.items.size())
                              ? &scene_.items[ctx_item_] : nullptr;
    if (it && it->container) {
      if (ImGui::MenuItem("Enter", "Enter")) enter_level(app, it->id);
      const bool open = app.editor.expanded.count(it->id) != 0;
      if (ImGui::MenuItem(open ? "Close in place" : "Open in place", "E"))
        app.editor.set_expanded(it->id, !open);
      ImGui::Separator();
    }
    if (ImGui::MenuItem("Rename\xE2\x80\xA6", "F2", false, n_sel == 1 && !locked)) rename_selected(app);
    if (ImGui::MenuItem("Duplicate", "Ctrl+D", false, !locked)) duplicate(app);
    probe::note("menu:duplicate");
    if (ImGui::MenuItem("Copy", "Ctrl+C")) copy_selection(app);
    if (ImGui::MenuItem("Delete", "Del", false, !locked)) delete_selection(app);
    probe::note("menu:delete");
    if (locked) ImGui::TextDisabled("Built by its block: edit the block's attributes");
    ImGui::EndPopup();
  }
  if (ImGui::BeginPopup("##link_menu")) {
    if (ctx_link_ >= 0 && ctx_link_ < static_cast<int>(scene_.links.size())) {
      ImGui::PushFont(fonts.mono);
      ImGui::TextDisabled("%s", scene_.links[ctx_link_].label.c_str());
      ImGui::PopFont();
    }
    const bool del = ImGui::MenuItem("Delete link", "Del", false, !locked);
    probe::note("menu:delete_link");
    if (del) {
      selected_link_ = ctx_link_;
      delete_selection(app);
    }
    ImGui::EndPopup();
  }
  if (ImGui::BeginPopup("##canvas_menu")) {
    if (ImGui::BeginMenu("Add node here", !locked)) {
      if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 14);
      ImGui::InputTextWithHint("##add_filter", "Search", ctx_filter_, sizeof ctx_filter_);
      const std::vector<PaletteEntry>& entries = palette_entries();
      const float swatch = ImGui::GetFontSize() * 0.7f;
      auto item = [&](size_t i) {
        palette_swatch(entries[i].category, swatch);
        if (ImGui::MenuItem(entries[i].label.c_str())) {
          add_entry(app, static_cast<int>(i), ctx_canvas_.x, ctx_canvas_.y);
          ImGui::CloseCurrentPopup();
        }
      };
      if (ctx_filter_[0]) {
        int shown = 0;
        for (size_t i = 0; i < entries.size() && shown < 30; ++i)
          if (palette_matches(entries[i], ctx_filter_)) item(i), ++shown;
        if (!shown) ImGui::TextDisabled("Nothing matches");
      } else {
        for (const std::string& section : palette_sections())
          if (ImGui::BeginMenu(section.c_str())) {
            for (size_t i = 0; i < entries.size(); ++i)
              if (entries[i].section == section) item(i);
            ImGui::EndMenu();
          }
      }
      ImGui::EndMenu();
    }
    const bool can_paste = !app.clipboard.empty() ||
                           (ImGui::GetClipboardText() && ImGui::GetClipboardText()[0] == '{');
    if (ImGui::MenuItem("Paste here", "Ctrl+V", false, can_paste && !locked)) {
      const std::string frag = app.clipboard;
      const EditResult r = paste_at(app, frag.empty() ? ImGui::GetClipboardText() : frag,
                                    ctx_canvas_.x, ctx_canvas_.y, true, 0, 0, "Paste");
      if (r.ok) app.editor.selection = std::set<NodeId>(r.created.begin(), r.created.end());
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Select all", "Ctrl+A")) select_all(app);
    if (ImGui::MenuItem("Arrange this level", "Ctrl+L")) arrange(app);
    if (ImGui::MenuItem("Frame all", "F")) app.editor.frame_all = true;
    if (ImGui::MenuItem("Up one level", "Esc", false, app.editor.container != kNoNode)) up_level(app);
    ImGui::EndPopup();
  }
}

void EditorCanvas::rename_popup(AppState& app) {
  if (open_rename_) {
    open_rename_ = false;
    ImGui::OpenPopup("Rename node");
  }
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetFontSize() * 22, 0));
  if (ImGui::BeginPopupModal("Rename node", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextDisabled("The name is the node's module-path segment (parameter names follow it).");
    if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
    ImGui::SetNextItemWidth(-FLT_MIN);
    const bool enter = ImGui::InputText("##name", rename_buf_, sizeof rename_buf_,
                                        ImGuiInputTextFlags_EnterReturnsTrue);
    if (ImGui::Button("Rename") || enter) {
      const EditResult r = app.doc.rename(rename_id_, rename_buf_);
      if (!r.ok)
        refuse(app, r, rename_id_, -1);
      else
        app.status = {Message::Info, std::string("Renamed to ") + rename_buf_};
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel") || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape)))
      ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

// ---- Frame ---------------------------------------------------------------------------------------

void EditorCanvas::draw(AppState& app, const Fonts& fonts, ImVec2 size) {
  ui_fonts_ = &fonts;
  scale_ = fonts.scale > 0 ? fonts.scale : 1;
  size.x = std::max(size.x, 1.0f);
  size.y = std::max(size.y, 1.0f);
  refresh_scene(app, fonts);

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
  dl->PushClipRect(min_, max_, true);
  draw_grid(dl);
  const ImVec2 v0 = to_canvas(min_), v1 = to_canvas(max_);
  auto visible = [&](const SceneItem& it, ImVec2 off) {
    const float ox = off.x / z_, oy = off.y / z_;
    return !(it.x1 + ox < v0.x || it.x0 + ox > v1.x || it.y1 + oy < v0.y || it.y0 + oy > v1.y);
  };
  for (int i : scene_.frames) {
    const SceneItem& it = scene_.items[i];
    const ImVec2 off = offset_of(i);
    if (visible(it, off)) draw_frame(dl, it, off, app.editor.selected(it.id));
  }
  draw_links(dl, app);
  for (int i : scene_.boxes) {
    const SceneItem& it = scene_.items[i];
    const ImVec2 off = offset_of(i);
    const bool sel = it.kind != SceneItem::Kind::In && it.kind != SceneItem::Kind::Out &&
                     app.editor.selected(it.id);
    if (visible(it, off)) draw_box(dl, it, off, sel, app);
  }
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
