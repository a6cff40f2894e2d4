#include "app/gui/arch_table.h"

#include <unordered_map>

#include "core/registry.h"

namespace fw::gui {

namespace {

std::string shapes_str(const std::vector<Shape>& shapes) {
  std::string out;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (i) out += ", ";
    out += shape_str(shapes[i]);
  }
  return out;
}

}  // namespace

ArchTable make_arch_table(const Graph& g, const Analysis& a, std::string title) {
  ArchTable t;
  t.title = std::move(title);
  t.total_params = a.total_params;
  t.total_trainable = a.total_trainable;
  t.total_macs = a.total_macs;

  std::unordered_map<NodeId, std::string> problem_of;
  for (const Problem& p : a.problems) {
    t.problems.push_back(p);
    if (p.node != kNoNode) problem_of.emplace(p.node, p.message);  // keeps the first
  }

  std::unordered_map<NodeId, int> index_of;
  for (NodeId id : g.preorder()) {
    const Node& n = g.node(id);
    ArchRow r;
    r.id = id;
    r.name = n.name;
    r.path = g.path(id);
    r.kind = n.kind;
    if (const OpDef* def = find_op(n.kind)) {
      r.op = def->label;
      r.category = def->category;
    } else {
      r.op = n.kind;
    }
    if (const NodeInfo* info = a.of(id)) {
      r.ok = info->ok;
      r.params = info->params;
      r.macs = info->macs;
      // Nodes without outputs (the graph's "output") show what they receive.
      if (info->ok) r.shape = shapes_str(info->out.empty() ? info->in : info->out);
    }
    if (auto it = problem_of.find(id); it != problem_of.end()) r.problem = it->second;

    const int index = static_cast<int>(t.rows.size());
    auto parent = index_of.find(n.parent);
    if (n.parent != kNoNode && parent != index_of.end()) {
      r.depth = t.rows[parent->second].depth + 1;
      r.parent = parent->second;
      t.rows[parent->second].children.push_back(index);
    } else {
      t.roots.push_back(index);
    }
    index_of.emplace(id, index);
    t.rows.push_back(std::move(r));
  }

  // Mark the ancestors of every node with a problem. Rows are in pre-order, so a reverse pass sees
  // children before their parents.
  for (int i = static_cast<int>(t.rows.size()) - 1; i >= 0; --i) {
    ArchRow& r = t.rows[i];
    for (int child : r.children)
      if (!t.rows[child].problem.empty() || t.rows[child].problem_inside) r.problem_inside = true;
  }

  // Input and output shapes: what the first graph input produces and the first output receives.
  if (auto ins = g.top_level_of_kind("input"); !ins.empty()) {
    if (const NodeInfo* info = a.of(ins.front()); info && info->ok && !info->out.empty())
      t.input_shape = shape_str(info->out.front());
  }
  if (auto outs = g.top_level_of_kind("output"); !outs.empty()) {
    if (const NodeInfo* info = a.of(outs.front()); info && info->ok && !info->in.empty())
      t.output_shape = shape_str(info->in.front());
  }
  return t;
}

int row_of(const ArchTable& t, NodeId id) {
  for (size_t i = 0; i < t.rows.size(); ++i)
    if (t.rows[i].id == id) return static_cast<int>(i);
  return -1;
}

}  // namespace fw::gui
