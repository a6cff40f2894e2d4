#include "core/graph.h"

#include <algorithm>
#include <functional>

#include "core/error.h"

namespace fw {

namespace {
std::string node_label(const Node& n) { return "node " + std::to_string(n.id) + " (" + n.kind + ")"; }
}  // namespace

NodeId Graph::add(NodeId parent, const std::string& kind, const std::string& name, Attrs attrs) {
  const OpDef& def = op_def(kind);
  if (parent != kNoNode) {
    const Node& p = node(parent);
    if (op_def(p.kind).cls == OpClass::Leaf)
      throw Error("cannot add '" + name + "' inside " + node_label(p) + ": it is not a group");
  }
  Node n;
  n.id = next_id_++;
  n.parent = parent;
  n.name = name;
  n.kind = kind;
  n.attrs = complete_attrs(def, attrs);
  n.inputs.resize(def.inputs.size());
  if (def.cls != OpClass::Leaf) n.outputs.resize(def.outputs.size());
  const NodeId id = n.id;
  nodes_.emplace(id, std::move(n));
  (parent == kNoNode ? roots_ : nodes_.at(parent).children).push_back(id);
  if (def.cls == OpClass::Composite) {
    try {
      def.build(*this, id);
    } catch (...) {
      remove(id);  // leave the graph as it was
      throw;
    }
  }
  return id;
}

void Graph::insert_raw(Node n) {
  if (n.id <= kNoNode) throw Error("node id " + std::to_string(n.id) + " is not positive");
  if (nodes_.count(n.id)) throw Error("duplicate node id " + std::to_string(n.id));
  if (n.parent != kNoNode && !nodes_.count(n.parent))
    throw Error("node " + std::to_string(n.id) + " names parent " + std::to_string(n.parent) +
                ", which does not exist (parents must come before children)");
  n.children.clear();
  const NodeId id = n.id;
  const NodeId parent = n.parent;
  next_id_ = std::max(next_id_, id + 1);
  nodes_.emplace(id, std::move(n));
  (parent == kNoNode ? roots_ : nodes_.at(parent).children).push_back(id);
}

void Graph::connect(PortRef src, NodeId dst, int dst_port) {
  Node& d = node_mut(dst);
  if (dst_port < 0 || dst_port >= int(d.inputs.size()))
    throw Error(path(dst) + ": has no input port " + std::to_string(dst_port));
  if (!src.connected()) {
    d.inputs[dst_port] = {};
    return;
  }
  const Node& s = node(src.node);
  if (src.group_input) {
    if (d.parent != src.node)
      throw Error(path(dst) + ": can only read the inputs of its own group");
    if (src.port < 0 || src.port >= int(s.inputs.size()))
      throw Error(path(src.node) + ": group has no input port " + std::to_string(src.port));
  } else {
    if (src.node == dst) throw Error(path(dst) + ": cannot feed its own input");
    if (s.parent != d.parent)
      throw Error("cannot connect " + path(src.node) + " to " + path(dst) +
                  ": they are in different groups");
    const size_t n_out = op_def(s.kind).outputs.size();
    if (src.port < 0 || src.port >= int(n_out))
      throw Error(path(src.node) + ": has no output port " + std::to_string(src.port));
  }
  d.inputs[dst_port] = src;
}

void Graph::disconnect(NodeId dst, int dst_port) { connect(PortRef{}, dst, dst_port); }

void Graph::set_output(NodeId group, int out_port, PortRef src) {
  Node& g = node_mut(group);
  if (out_port < 0 || out_port >= int(g.outputs.size()))
    throw Error(path(group) + ": has no output port " + std::to_string(out_port));
  if (src.connected()) {
    if (src.group_input) {
      if (src.node != group) throw Error(path(group) + ": output must come from inside");
    } else if (node(src.node).parent != group) {
      throw Error(path(group) + ": output must come from one of its children");
    }
  }
  g.outputs[out_port] = src;
}

void Graph::remove_children(NodeId id) {
  Node& n = node_mut(id);
  std::vector<NodeId> kids = n.children;
  for (NodeId c : kids) remove(c);
}

void Graph::remove(NodeId id) {
  const Node& n = node(id);
  const NodeId parent = n.parent;
  std::vector<NodeId> kids = n.children;
  for (NodeId c : kids) remove(c);
  // Detach consumers among the siblings and the parent's outputs.
  std::vector<NodeId>& siblings = parent == kNoNode ? roots_ : node_mut(parent).children;
  siblings.erase(std::remove(siblings.begin(), siblings.end(), id), siblings.end());
  for (NodeId s : siblings)
    for (PortRef& r : nodes_.at(s).inputs)
      if (!r.group_input && r.node == id) r = {};
  if (parent != kNoNode)
    for (PortRef& r : nodes_.at(parent).outputs)
      if (!r.group_input && r.node == id) r = {};
  nodes_.erase(id);
}

void Graph::set_attr(NodeId id, const std::string& name, AttrValue value) {
  Node& n = node_mut(id);
  const OpDef& def = op_def(n.kind);
  if (!def.attr(name)) throw Error(path(id) + ": " + n.kind + " has no attribute '" + name + "'");
  Attrs a = n.attrs;
  a.set(name, std::move(value));
  Attrs old = n.attrs;
  n.attrs = complete_attrs(def, a);
  if (def.cls != OpClass::Composite) return;
  try {
    rebuild(id);
  } catch (...) {
    node_mut(id).attrs = std::move(old);  // the new value cannot be built: keep the old one
    rebuild(id);
    throw;
  }
}

void Graph::rebuild(NodeId id) {
  const OpDef& def = op_def(node(id).kind);
  if (def.cls != OpClass::Composite) return;
  remove_children(id);
  for (PortRef& r : node_mut(id).outputs) r = {};
  def.build(*this, id);
}

void Graph::rename(NodeId id, const std::string& name) { node_mut(id).name = name; }

void Graph::move(NodeId id, float x, float y) {
  Node& n = node_mut(id);
  n.x = x;
  n.y = y;
}

const Node& Graph::node(NodeId id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) throw Error("no node with id " + std::to_string(id));
  return it->second;
}

Node& Graph::node_mut(NodeId id) {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) throw Error("no node with id " + std::to_string(id));
  return it->second;
}

const Node* Graph::find(NodeId id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

const std::vector<NodeId>& Graph::children(NodeId parent) const {
  return parent == kNoNode ? roots_ : node(parent).children;
}

std::string Graph::path(NodeId id) const {
  std::string out;
  for (NodeId a : lineage(id)) {
    const std::string& nm = node(a).name;
    if (nm.empty()) continue;
    if (!out.empty()) out += '.';
    out += nm;
  }
  return out;
}

NodeId Graph::find_path(const std::string& p) const {
  for (NodeId id : preorder())
    if (path(id) == p) return id;
  return kNoNode;
}

std::vector<NodeId> Graph::lineage(NodeId id) const {
  std::vector<NodeId> out;
  for (NodeId a = id; a != kNoNode; a = node(a).parent) out.push_back(a);
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<NodeId> Graph::top_level_of_kind(const std::string& kind) const {
  std::vector<NodeId> out;
  for (NodeId id : roots_)
    if (node(id).kind == kind) out.push_back(id);
  return out;
}

std::vector<NodeId> Graph::preorder() const {
  std::vector<NodeId> out;
  out.reserve(nodes_.size());
  std::function<void(const std::vector<NodeId>&)> walk = [&](const std::vector<NodeId>& ids) {
    for (NodeId id : ids) {
      out.push_back(id);
      walk(node(id).children);
    }
  };
  walk(roots_);
  return out;
}

std::vector<std::pair<NodeId, int>> Graph::consumers(NodeId id, int port) const {
  std::vector<std::pair<NodeId, int>> out;
  const Node& n = node(id);
  for (NodeId s : children(n.parent)) {
    const Node& c = node(s);
    for (int i = 0; i < int(c.inputs.size()); ++i)
      if (!c.inputs[i].group_input && c.inputs[i].node == id && c.inputs[i].port == port)
        out.push_back({s, i});
  }
  return out;
}

void Graph::restore_node(NodeId id, const Node* state) {
  if (!state) {
    nodes_.erase(id);
    return;
  }
  nodes_[id] = *state;
  next_id_ = std::max(next_id_, id + 1);
}

bool Graph::operator==(const Graph& o) const {
  return nodes_ == o.nodes_ && roots_ == o.roots_ && meta == o.meta;
}

}  // namespace fw
