#include "core/document.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/graph_json.h"

namespace fw {

GraphPatch diff_graphs(const Graph& before, const Graph& after) {
  GraphPatch p;
  const auto& a = before.nodes();
  const auto& b = after.nodes();
  auto ia = a.begin(), ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
      p.nodes.push_back({ia->first, ia->second, std::nullopt});
      ++ia;
    } else if (ia == a.end() || ib->first < ia->first) {
      p.nodes.push_back({ib->first, std::nullopt, ib->second});
      ++ib;
    } else {
      if (!(ia->second == ib->second)) p.nodes.push_back({ia->first, ia->second, ib->second});
      ++ia, ++ib;
    }
  }
  p.roots_before = before.roots();
  p.roots_after = after.roots();
  p.meta_before = before.meta;
  p.meta_after = after.meta;
  return p;
}

void apply_patch(Graph& g, const GraphPatch& p, bool reverse) {
  for (const GraphPatch::Entry& e : p.nodes) {
    const std::optional<Node>& s = reverse ? e.before : e.after;
    g.restore_node(e.id, s ? &*s : nullptr);
  }
  g.restore_roots(reverse ? p.roots_before : p.roots_after);
  g.meta = reverse ? p.meta_before : p.meta_after;
}

const Analysis& Document::analysis() const {
  if (!analysis_) analysis_ = analyze(graph_);
  return *analysis_;
}

void Document::touch() {
  analysis_.reset();
}

void Document::push(GraphPatch p) {
  if (p.empty()) return;
  undo_rev_.push_back(revision_);
  revision_ = next_revision_++;
  undo_.push_back(std::move(p));
  redo_.clear();
  redo_rev_.clear();
  touch();
}

template <class Fn>
EditResult Document::apply(const std::string& label, NodeId node, int port, Fn&& fn) {
  Graph before = graph_;
  EditResult r;
  r.node = node;
  r.port = port;
  try {
    fn(r);
  } catch (const Error& e) {
    graph_ = std::move(before);
    touch();
    r.ok = false;
    r.reason = e.what();
    return r;
  }
  if (!r.ok) {
    graph_ = std::move(before);
    touch();
    return r;
  }
  if (group_depth_ > 0) {  // recorded when the group ends
    touch();
    return r;
  }
  GraphPatch p = diff_graphs(before, graph_);
  p.label = label;
  push(std::move(p));
  return r;
}

void Document::begin_group(const std::string& label) {
  if (group_depth_++ == 0) {
    group_start_ = graph_;
    group_label_ = label;
  }
}

void Document::end_group() {
  FW_ASSERT(group_depth_ > 0, "end_group() without begin_group()");
  if (--group_depth_ > 0) return;
  GraphPatch p = diff_graphs(*group_start_, graph_);
  p.label = group_label_;
  group_start_.reset();
  push(std::move(p));
}

bool Document::undo() {
  if (undo_.empty() || group_depth_ > 0) return false;
  apply_patch(graph_, undo_.back(), /*reverse=*/true);
  redo_.push_back(std::move(undo_.back()));
  redo_rev_.push_back(revision_);
  undo_.pop_back();
  revision_ = undo_rev_.back();
  undo_rev_.pop_back();
  touch();
  return true;
}

bool Document::redo() {
  if (redo_.empty() || group_depth_ > 0) return false;
  apply_patch(graph_, redo_.back(), /*reverse=*/false);
  undo_.push_back(std::move(redo_.back()));
  undo_rev_.push_back(revision_);
  redo_.pop_back();
  revision_ = redo_rev_.back();
  redo_rev_.pop_back();
  touch();
  return true;
}

void Document::reset(Graph g) {
  graph_ = std::move(g);
  undo_.clear();
  redo_.clear();
  undo_rev_.clear();
  redo_rev_.clear();
  revision_ = saved_revision_ = 0;
  next_revision_ = 1;
  touch();
}

EditResult Document::replace(Graph g, const std::string& label) {
  return apply(label, kNoNode, -1, [&](EditResult&) { graph_ = std::move(g); });
}

EditResult Document::add(NodeId parent, const std::string& kind, const std::string& name,
                         Attrs attrs, float x, float y) {
  return apply("Add " + kind, kNoNode, -1, [&](EditResult& r) {
    r.node = graph_.add(parent, kind, name, std::move(attrs));
    graph_.move(r.node, x, y);
    r.created = {r.node};
  });
}

namespace {
// Problems in `after` that concern `id` or its descendants and were not in `before`.
std::vector<Problem> new_problems_at(const Graph& g, NodeId id, const Analysis& before,
                                     const Analysis& after) {
  std::set<std::string> old;
  for (const Problem& p : before.problems) old.insert(p.message);
  std::vector<Problem> out;
  for (const Problem& p : after.problems) {
    if (old.count(p.message) || p.node == kNoNode || !g.contains(p.node)) continue;
    const std::vector<NodeId> line = g.lineage(p.node);
    if (std::find(line.begin(), line.end(), id) != line.end()) out.push_back(p);
  }
  return out;
}
}  // namespace

EditResult Document::connect(PortRef src, NodeId dst, int dst_port) {
  return apply("Connect", dst, dst_port, [&](EditResult& r) {
    const Analysis before = analysis();
    graph_.connect(src, dst, dst_port);
    const Analysis after = analyze(graph_);
    // With no other input connected, a problem at `dst` itself can only come from this edge,
    // even when its message is the one the edge it replaced caused (a second wrong source).
    const std::vector<PortRef>& ins = graph_.node(dst).inputs;
    bool others = false;
    for (size_t i = 0; i < ins.size(); ++i) others = others || (int(i) != dst_port && ins[i].connected());
    if (!others)
      for (const Problem& p : after.problems)
        if (p.node == dst && (p.port == -1 || p.port == dst_port) &&
            p.message.find("is not connected") == std::string::npos &&
            p.message.find("cycle") == std::string::npos) {
          r.ok = false;
          r.reason = p.message;
          return;
        }
    for (const Problem& p : new_problems_at(graph_, dst, before, after)) {
      // Unconnected ports elsewhere inside are not this edge's fault.
      if (p.message.find("is not connected") != std::string::npos && p.node != dst) continue;
      r.ok = false;
      r.reason = p.message;
      return;
    }
    for (const Problem& p : after.problems)
      if (p.message.find("cycle") != std::string::npos &&
          before.problems.end() == std::find_if(before.problems.begin(), before.problems.end(),
                                                [&](const Problem& q) { return q.message == p.message; })) {
        r.ok = false;
        r.reason = "this connection would make a cycle";
        return;
      }
  });
}

EditResult Document::disconnect(NodeId dst, int dst_port) {
  return apply("Disconnect", dst, dst_port, [&](EditResult&) { graph_.disconnect(dst, dst_port); });
}

EditResult Document::set_output(NodeId group, int out_port, PortRef src) {
  return apply("Set output", group, -1,
               [&](EditResult&) { graph_.set_output(group, out_port, src); });
}

EditResult Document::set_attr(NodeId id, const std::string& name, AttrValue value) {
  return apply("Set " + name, id, -1, [&](EditResult&) { graph_.set_attr(id, name, std::move(value)); });
}

EditResult Document::rename(NodeId id, const std::string& name) {
  return apply("Rename", id, -1, [&](EditResult&) {
    if (name.find('.') != std::string::npos)
      throw Error("a node name cannot contain '.' (it separates module-path segments)");
    graph_.rename(id, name);
  });
}

EditResult Document::set_meta(const std::string& key, const std::optional<AttrValue>& value,
                              const std::string& label) {
  return apply(label, kNoNode, -1, [&](EditResult&) {
    if (value)
      graph_.meta.set(key, *value);
    else
      graph_.meta.erase(key);
  });
}

EditResult Document::move(const std::vector<NodeId>& ids, float dx, float dy) {
  return apply("Move", ids.empty() ? kNoNode : ids.front(), -1, [&](EditResult&) {
    for (NodeId id : ids) {
      const Node& n = graph_.node(id);
      graph_.move(id, n.x + dx, n.y + dy);
    }
  });
}

EditResult Document::place(const std::vector<Placement>& where, const std::string& label) {
  return apply(label, where.empty() ? kNoNode : where.front().id, -1, [&](EditResult&) {
    for (const Placement& p : where) graph_.move(p.id, p.x, p.y);
  });
}

EditResult Document::remove(const std::vector<NodeId>& ids) {
  return apply("Delete", ids.empty() ? kNoNode : ids.front(), -1, [&](EditResult&) {
    for (NodeId id : ids)
      if (graph_.contains(id)) graph_.remove(id);  // a descendant of an earlier one is gone already
  });
}

std::string Document::copy(const std::vector<NodeId>& ids) const {
  // The selection, minus nodes whose ancestor is selected too, plus all descendants.
  std::set<NodeId> sel(ids.begin(), ids.end());
  std::vector<NodeId> tops;
  for (NodeId id : ids) {
    if (!graph_.contains(id)) continue;
    bool nested = false;
    for (NodeId a : graph_.lineage(id)) nested |= a != id && sel.count(a);
    if (!nested) tops.push_back(id);
  }
  Graph frag;
  std::set<NodeId> inside;
  std::function<void(NodeId, NodeId)> take = [&](NodeId id, NodeId parent) {
    Node n = graph_.node(id);
    n.parent = parent;
    inside.insert(id);
    std::vector<NodeId> kids = n.children;
    frag.insert_raw(n);
    for (NodeId c : kids) take(c, id);
  };
  for (NodeId id : tops) take(id, kNoNode);
  // Drop edges that leave the fragment.
  for (NodeId id : inside) {
    Node n = frag.node(id);
    for (PortRef& r : n.inputs)
      if (r.connected() && !inside.count(r.node)) r = {};
    for (PortRef& r : n.outputs)
      if (r.connected() && !inside.count(r.node)) r = {};
    frag.restore_node(id, &n);
  }
  return graph_to_json(frag, -1);
}

EditResult Document::paste(NodeId parent, const std::string& fragment, float dx, float dy) {
  return apply("Paste", kNoNode, -1, [&](EditResult& r) {
    const Graph frag = graph_from_json(fragment, "clipboard");
    if (parent != kNoNode && op_def(graph_.node(parent).kind).cls == OpClass::Leaf)
      throw Error("cannot paste inside a " + graph_.node(parent).kind);
    std::map<NodeId, NodeId> remap;
    NodeId next = graph_.next_id();
    for (NodeId id : frag.preorder()) remap[id] = next++;
    auto map_ref = [&](PortRef ref) {
      if (ref.connected()) ref.node = remap.at(ref.node);
      return ref;
    };
    for (NodeId id : frag.preorder()) {
      Node n = frag.node(id);
      n.id = remap.at(id);
      n.parent = n.parent == kNoNode ? parent : remap.at(n.parent);
      for (PortRef& ref : n.inputs) ref = map_ref(ref);
      for (PortRef& ref : n.outputs) ref = map_ref(ref);
      if (frag.node(id).parent == kNoNode) {
        n.x += dx;
        n.y += dy;
        r.created.push_back(n.id);
      }
      graph_.insert_raw(std::move(n));
    }
    r.node = r.created.empty() ? kNoNode : r.created.front();
  });
}

}  // namespace fw
