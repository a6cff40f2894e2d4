#include "views/scene.h"

#include <algorithm>
#include <cfloat>

#include "core/error.h"
#include "core/format.h"
#include <nlohmann/json.hpp>
#include "views/graph_style.h"
#include "views/node_geometry.h"
#include "views/text_metrics.h"

namespace fw::views {

namespace {

constexpr Font kTitleFont{FontFace::SansBold, kNodeTitleSize};
constexpr Font kBodyFont{FontFace::Sans, kNodeBodySize};
constexpr Font kMonoFont{FontFace::Mono, kNodeMonoSize};
constexpr Font kBadgeFont{FontFace::SansBold, kBadgeSize};
constexpr const char* kDiamond = "\xE2\x97\x86";  // ◆

std::string shapes_text(const std::vector<Shape>& shapes) {
  std::string out;
  for (const Shape& s : shapes) {
    if (s.empty()) continue;
    if (!out.empty()) out += ", ";
    out += shape_text(s);
  }
  return out;
}

const Shape* shape_at(const std::vector<Shape>& v, int i) {
  return i >= 0 && i < static_cast<int>(v.size()) && !v[i].empty() ? &v[i] : nullptr;
}

struct Placed {
  NodeId id;
  float x, y;
  BoxSize size;
};

class Builder {
 public:
  Builder(const Graph& g, const Analysis& a, const std::set<NodeId>& open, Scene& s)
      : g_(g), a_(a), open_(open), s_(s) {
    for (const Problem& p : a.problems) {
      if (p.node == kNoNode || !g.contains(p.node)) continue;
      problem_[p.node] = true;
      if (p.port >= 0) problem_port_.insert({p.node, p.port});
      for (NodeId anc = g.node(p.node).parent; anc != kNoNode; anc = g.node(anc).parent)
        inside_[anc] = true;
    }
    count_choices(g);
  }

  // The search space's choices per node, read from graph.meta "search_space" (the file's
  // "choices": [{"node": ...}], nas/space.h; views do not depend on nas/). A malformed space:
  // no badges (the inspector says what is wrong).
  void count_choices(const Graph& g) {
    if (!g.meta.has("search_space")) return;
    const AttrValue& v = g.meta.get("search_space");
    if (!std::holds_alternative<std::string>(v)) return;
    const nlohmann::json j = nlohmann::json::parse(std::get<std::string>(v), nullptr, false);
    if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array()) return;
    for (const nlohmann::json& c : j["choices"])
      if (c.is_object() && c.contains("node") && c["node"].is_string()) ++choices_[c["node"].get<std::string>()];
  }

  void build(NodeId container) {
    const std::vector<Placed>& lv = level(container, /*normalize=*/false);
    emit_level(container, lv, 0, 0, -1, 0);
    if (container != kNoNode) boundary(container);
    for (size_t i = 0; i < s_.items.size(); ++i) {
      const SceneItem& it = s_.items[i];
      if (i == 0) {
        s_.bx0 = it.x0, s_.by0 = it.y0, s_.bx1 = it.x1, s_.by1 = it.y1;
      } else {
        s_.bx0 = std::min(s_.bx0, it.x0), s_.by0 = std::min(s_.by0, it.y0);
        s_.bx1 = std::max(s_.bx1, it.x1), s_.by1 = std::max(s_.by1, it.y1);
      }
      (it.kind == SceneItem::Kind::Frame ? s_.frames : s_.boxes).push_back(static_cast<int>(i));
    }
    std::stable_sort(s_.frames.begin(), s_.frames.end(),
                     [&](int a, int b) { return s_.items[a].depth < s_.items[b].depth; });
    links(container, -1);
    route();
  }

 private:
  bool is_open(const Node& n) const { return open_.count(n.id) && is_container(n); }

  BoxSize measure(const Node& n) {
    const BoxSize box = node_box(n);
    if (!is_open(n)) return box;
    float w = 0, h = 0;
    for (const Placed& p : level(n.id, true)) {
      w = std::max(w, p.x + p.size.w);
      h = std::max(h, p.y + p.size.h);
    }
    return {std::max(box.w, w + 2 * kFramePadX),
            std::max(box.h, kNodeHeaderHeight + h + 2 * kFramePadY)};
  }

  // Children of `parent` at their stored positions (normalized: the top-left child at 0, 0),
  // pushed aside by open siblings.
  const std::vector<Placed>& level(NodeId parent, bool normalize) {
    auto it = levels_.find(parent);
    if (it != levels_.end()) return it->second;
    std::vector<Placed> out;
    const std::vector<NodeId>& kids = g_.children(parent);
    out.reserve(kids.size());
    float mx = FLT_MAX, my = FLT_MAX;
    for (NodeId id : kids) {
      const Node& n = g_.node(id);
      out.push_back({id, n.x, n.y, measure(n)});
      mx = std::min(mx, n.x);
      my = std::min(my, n.y);
    }
    if (!normalize || out.empty()) mx = my = 0;
    std::vector<Placed> orig = out;
    for (Placed& p : out) p.x -= mx, p.y -= my;
    for (size_t e = 0; e < orig.size(); ++e) {
      const Node& en = g_.node(orig[e].id);
      if (!is_open(en)) continue;
      const BoxSize box = node_box(en);
      const float extra_w = orig[e].size.w - box.w, extra_h = orig[e].size.h - box.h;
      for (size_t o = 0; o < orig.size(); ++o) {
        if (o == e) continue;
        const BoxSize ob = node_box(g_.node(orig[o].id));
        if (orig[o].x > orig[e].x + box.w * 0.5f) {
          out[o].x += extra_w;
        } else if (orig[o].y > orig[e].y && orig[o].x < orig[e].x + box.w &&
                   orig[o].x + ob.w > orig[e].x) {
          out[o].y += extra_h;
        }
      }
    }
    return levels_.emplace(parent, std::move(out)).first->second;
  }

  int add_item(SceneItem item) {
    s_.items.push_back(std::move(item));
    return static_cast<int>(s_.items.size()) - 1;
  }

  void add_port(ScenePort p) { s_.ports.push_back(std::move(p)); }

  void emit_level(NodeId parent, const std::vector<Placed>& lv, float ox, float oy, int parent_item,
                  int depth) {
    for (const Placed& p : lv) {
      const Node& n = g_.node(p.id);
      const OpDef* def = find_op(n.kind);
      const NodeInfo* info = a_.of(n.id);
      SceneItem it;
      it.kind = is_open(n) ? SceneItem::Kind::Frame : SceneItem::Kind::Node;
      it.id = n.id;
      it.parent = parent_item;
      it.depth = depth;
      it.x0 = ox + p.x, it.y0 = oy + p.y;
      it.x1 = it.x0 + p.size.w, it.y1 = it.y0 + p.size.h;
      it.color = category_color(def ? def->category : "");
      it.container = is_container(n);
      it.problem = problem_.count(n.id) != 0;
      it.problem_inside = inside_.count(n.id) != 0;
      const float inner = p.size.w - 2 * kNodePadding;
      float title_room = inner - (it.container ? 22 : 0);
      if (!choices_.empty()) {
        const auto ch = choices_.find(g_.path(n.id));
        if (ch != choices_.end()) {
          it.choices = ch->second;
          it.badge = std::string(kDiamond) + std::to_string(ch->second);
          it.badge_w = text_width(it.badge, kBadgeFont) + 2 * kBadgePad;
          title_room -= it.badge_w + 6;
        }
      }
      if (it.kind == SceneItem::Kind::Frame) {
        it.title = fit_text(node_title(n), kTitleFont, title_room * 0.5f);
        const float used = text_width(it.title, kTitleFont);
        it.subtitle = fit_text(node_subtitle(n), kBodyFont, title_room - used - 14);
      } else {
        it.title = fit_text(node_title(n), kTitleFont, title_room);
        it.subtitle = fit_text(node_subtitle(n), kBodyFont, inner);
      }
      it.group = "node:" + g_.path(n.id);
      if (info) {
        const std::vector<Shape>& shown = info->out.empty() ? info->in : info->out;
        it.shape = fit_text(shapes_text(shown), kMonoFont, inner);
        if (info->params > 0) it.params = format_si(info->params) + " params";
      }
      it.port_begin = static_cast<int>(s_.ports.size());
      it.inputs = def ? static_cast<int>(def->inputs.size()) : static_cast<int>(n.inputs.size());
      it.outputs = def ? static_cast<int>(def->outputs.size()) : 0;
      const int index = add_item(std::move(it));
      s_.item_of[n.id] = index;
      const SceneItem& item = s_.items[index];
      const bool frame = item.kind == SceneItem::Kind::Frame;
      for (int i = 0; i < item.inputs; ++i) {
        ScenePort pt;
        pt.item = index, pt.left = true, pt.index = i;
        pt.x = item.x0, pt.y = item.y0 + node_port_y(i);
        pt.name = def && i < static_cast<int>(def->inputs.size()) ? def->inputs[i] : "";
        if (const Shape* s = info ? shape_at(info->in, i) : nullptr) pt.shape = shape_text(*s);
        pt.dst = n.id, pt.dst_port = i;
        if (frame) pt.src = PortRef{n.id, i, true};  // seen from inside
        pt.connected = i < static_cast<int>(n.inputs.size()) && n.inputs[i].connected();
        pt.problem = problem_port_.count({n.id, i}) != 0;
        add_port(std::move(pt));
      }
      for (int k = 0; k < item.outputs; ++k) {
        ScenePort pt;
        pt.item = index, pt.left = false, pt.index = k;
        pt.x = item.x1, pt.y = item.y0 + node_port_y(k);
        pt.name = def ? def->outputs[k] : "";
        if (const Shape* s = info ? shape_at(info->out, k) : nullptr) pt.shape = shape_text(*s);
        pt.src = PortRef{n.id, k, false};
        if (frame) pt.dst = n.id, pt.dst_port = k, pt.dst_group_output = true;
        add_port(std::move(pt));
      }
      if (frame)
        emit_level(n.id, level(n.id, true), item.x0 + kFramePadX,
                   item.y0 + kNodeHeaderHeight + kFramePadY, index, depth + 1);
    }
    (void)parent;
  }

  // The shown group's own inputs (left) and outputs (right).
  void boundary(NodeId c) {
    const Node& n = g_.node(c);
    const OpDef* def = find_op(n.kind);
    const NodeInfo* info = a_.of(c);
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    bool any = false;
    for (const SceneItem& it : s_.items) {
      if (!any) x0 = it.x0, y0 = it.y0, x1 = it.x1, y1 = it.y1;
      x0 = std::min(x0, it.x0), y0 = std::min(y0, it.y0);
      x1 = std::max(x1, it.x1), y1 = std::max(y1, it.y1);
      any = true;
    }
    const float cy = (y0 + y1) * 0.5f;
    const Color color = category_color(def ? def->category : "");
    for (int side = 0; side < 2; ++side) {
      const bool in = side == 0;
      const int count = def ? static_cast<int>(in ? def->inputs.size() : def->outputs.size()) : 0;
      SceneItem it;
      it.kind = in ? SceneItem::Kind::In : SceneItem::Kind::Out;
      it.id = c;
      it.color = color;
      it.title = in ? "input" : "output";
      it.group = in ? "node:<in>" : "node:<out>";
      const float h = node_port_y(std::max(count, 1) - 1) + kNodeRowHeight * 0.5f + 8;
      it.x0 = in ? x0 - kBoundaryGap - kBoundaryWidth : x1 + kBoundaryGap;
      it.x1 = it.x0 + kBoundaryWidth;
      it.y0 = cy - h * 0.5f;
      it.y1 = it.y0 + h;
      if (info) it.shape = shapes_text(in ? info->in : info->out);
      it.port_begin = static_cast<int>(s_.ports.size());
      (in ? it.outputs : it.inputs) = count;
      const int index = add_item(std::move(it));
      (in ? s_.in_item : s_.out_item) = index;
      const SceneItem& item = s_.items[index];
      for (int i = 0; i < count; ++i) {
        ScenePort pt;
        pt.item = index, pt.left = !in, pt.index = i;
        pt.x = in ? item.x1 : item.x0;
        pt.y = item.y0 + node_port_y(i);
        pt.name = in ? def->inputs[i] : def->outputs[i];
        if (const Shape* s = info ? shape_at(in ? info->in : info->out, i) : nullptr)
          pt.shape = shape_text(*s);
        if (in)
          pt.src = PortRef{c, i, true};
        else
          pt.dst = c, pt.dst_port = i, pt.dst_group_output = true;
        add_port(std::move(pt));
      }
    }
  }

  // The port a PortRef reads from, at the level of group `level_node` drawn as `level_item`.
  int source_port(const PortRef& r, int level_item) const {
    if (r.group_input) {
      const int item = level_item >= 0 ? level_item : s_.in_item;
      if (item < 0) return -1;
      const SceneItem& it = s_.items[item];
      return r.port < (level_item >= 0 ? it.inputs : it.outputs) ? it.port_begin + r.port : -1;
    }
    const int item = s_.find(r.node);
    if (item < 0) return -1;
    const SceneItem& it = s_.items[item];
    return r.port < it.outputs ? it.port_begin + it.inputs + r.port : -1;
  }

  // "<item path>:in<k>" for a left port, ":out<k>" for a right one.
  std::string port_id(int port) const {
    const ScenePort& p = s_.ports[port];
    const std::string& group = s_.items[p.item].group;  // "node:<path>"
    return group.substr(5) + (p.left ? ":in" : ":out") + std::to_string(p.index);
  }

  void link(int from, int to, int level_item, const std::string& label) {
    if (from < 0 || to < 0) return;
    SceneLink l;
    l.from = from, l.to = to, l.level = level_item, l.label = label;
    l.problem = s_.ports[to].problem;
    l.group = "link:" + port_id(from) + ">" + port_id(to);
    s_.ports[from].connected = s_.ports[to].connected = true;
    s_.links.push_back(std::move(l));
  }

  std::string label_of(const PortRef& r, NodeId level_node) const {
    const NodeInfo* info = a_.of(r.group_input ? level_node : r.node);
    if (!info) return "";
    const Shape* s = shape_at(r.group_input ? info->in : info->out, r.port);
    return s ? shape_text(*s) : "";
  }

  void links(NodeId level_node, int level_item) {
    for (NodeId id : g_.children(level_node)) {
      const Node& n = g_.node(id);
      const int item = s_.find(id);
      if (item < 0) continue;
      const SceneItem& it = s_.items[item];
      for (int i = 0; i < static_cast<int>(n.inputs.size()) && i < it.inputs; ++i) {
        const PortRef& r = n.inputs[i];
        if (r.connected())
          link(source_port(r, level_item), it.port_begin + i, level_item, label_of(r, level_node));
      }
      if (it.kind == SceneItem::Kind::Frame) links(id, item);
    }
    // The group's outputs, fed from inside.
    if (level_node == kNoNode) return;
    const Node& g = g_.node(level_node);
    const int out_item = level_item >= 0 ? level_item : s_.out_item;
    if (out_item < 0) return;
    const SceneItem& oi = s_.items[out_item];
    for (int k = 0; k < static_cast<int>(g.outputs.size()); ++k) {
      const PortRef& r = g.outputs[k];
      if (!r.connected()) continue;
      const int to = level_item >= 0 ? oi.port_begin + oi.inputs + k : oi.port_begin + k;
      if (level_item < 0 && k >= oi.inputs) continue;
      if (level_item >= 0 && k >= oi.outputs) continue;
      link(source_port(r, level_item), to, level_item, label_of(r, level_node));
    }
  }

  // Arcs over boxes in the way, and bounding boxes.
  void route() {
    // Items of each level, for the obstacle search.
    std::unordered_map<int, std::vector<int>> by_level;
    for (size_t i = 0; i < s_.items.size(); ++i)
      by_level[s_.items[i].parent].push_back(static_cast<int>(i));
    for (SceneLink& l : s_.links) {
      const ScenePort& a = s_.ports[l.from];
      const ScenePort& b = s_.ports[l.to];
      if (b.x - a.x > 2 * kNodeMinWidth) {
        const float lo = std::min(a.y, b.y) - 8, hi = std::max(a.y, b.y) + 8;
        float top = FLT_MAX;
        for (int i : by_level[l.level]) {
          if (i == a.item || i == b.item) continue;
          const SceneItem& it = s_.items[i];
          if (it.x1 < a.x + 4 || it.x0 > b.x - 4 || it.y1 < lo || it.y0 > hi) continue;
          top = std::min(top, it.y0);
        }
        if (top != FLT_MAX) {
          l.routed = true;
          l.route_y = top - 22;
        }
      }
      const LinkCurve c = link_curve({a.x, a.y}, {b.x, b.y}, l.routed, l.route_y);
      const int n = c.beziers == 1 ? 4 : 10;
      l.bx0 = l.bx1 = c.p[0].x;
      l.by0 = l.by1 = c.p[0].y;
      for (int i = 1; i < n; ++i) {
        l.bx0 = std::min(l.bx0, c.p[i].x), l.bx1 = std::max(l.bx1, c.p[i].x);
        l.by0 = std::min(l.by0, c.p[i].y), l.by1 = std::max(l.by1, c.p[i].y);
      }
    }
  }

  const Graph& g_;
  const Analysis& a_;
  const std::set<NodeId>& open_;
  Scene& s_;
  std::unordered_map<NodeId, std::vector<Placed>> levels_;
  std::unordered_map<NodeId, bool> problem_, inside_;
  std::set<std::pair<NodeId, int>> problem_port_;
  std::unordered_map<std::string, int> choices_;  // module path -> choices on that node
};

}  // namespace

Scene build_scene(const Graph& g, const Analysis& a, NodeId container,
                  const std::set<NodeId>& open_in_place) {
  Scene s;
  Builder(g, a, open_in_place, s).build(container);
  return s;
}

LinkCurve link_curve(Vec2 from, Vec2 to, bool routed, float route_y) {
  LinkCurve c;
  const float dx = to.x - from.x;
  if (!routed) {
    // Forward links bend gently; backward ones loop out and back.
    const float d = dx > 0 ? std::clamp(dx * 0.5f, 24.0f, 160.0f)
                           : std::clamp(-dx * 0.5f + 60.0f, 60.0f, 220.0f);
    c.p[0] = from;
    c.p[1] = Vec2{from.x + d, from.y};
    c.p[2] = Vec2{to.x - d, to.y};
    c.p[3] = to;
    return c;
  }
  // Rise within the gap after the producer, run straight above the boxes, drop before the
  // consumer.
  const float r = std::min(56.0f, dx / 3);
  c.beziers = 3;
  c.p[0] = from;
  c.p[1] = Vec2{from.x + r * 0.55f, from.y};
  c.p[2] = Vec2{from.x + r * 0.45f, route_y};
  c.p[3] = Vec2{from.x + r, route_y};
  c.p[6] = Vec2{to.x - r, route_y};
  c.p[4] = Vec2{c.p[3].x + (c.p[6].x - c.p[3].x) / 3, route_y};
  c.p[5] = Vec2{c.p[3].x + (c.p[6].x - c.p[3].x) * 2 / 3, route_y};
  c.p[7] = Vec2{to.x - r * 0.45f, route_y};
  c.p[8] = Vec2{to.x - r * 0.55f, to.y};
  c.p[9] = to;
  return c;
}

Vec2 LinkCurve::mid() const {
  if (beziers == 3) return Vec2{(p[3].x + p[6].x) * 0.5f, p[3].y};
  // The cubic at t = 1/2.
  return Vec2{(p[0].x + 3 * p[1].x + 3 * p[2].x + p[3].x) * 0.125f,
              (p[0].y + 3 * p[1].y + 3 * p[2].y + p[3].y) * 0.125f};
}

}  // namespace fw::views
