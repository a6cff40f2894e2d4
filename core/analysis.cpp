#include "core/analysis.h"

#include <algorithm>
#include <map>
#include <queue>
#include <unordered_set>

#include "core/error.h"

namespace fw {

namespace {

// Children of `parent` in a topological order of the sibling edges: Kahn's algorithm taking the
// earliest ready child (in children order) first, so children already in a topological order
// keep it. Linear in the edges (up to a log factor), whatever order the children are listed in.
// Nodes on or behind a cycle are left out and returned in `cyclic`.
std::vector<NodeId> topo_order(const Graph& g, NodeId parent, std::vector<NodeId>* cyclic) {
  const std::vector<NodeId>& kids = g.children(parent);
  const int n = static_cast<int>(kids.size());
  std::unordered_map<NodeId, int> index;
  index.reserve(kids.size());
  for (int i = 0; i < n; ++i) index.emplace(kids[i], i);
  std::vector<int> waiting(n, 0);            // unfinished sibling inputs
  std::vector<std::vector<int>> readers(n);  // siblings reading each child's outputs
  for (int i = 0; i < n; ++i)
    for (const PortRef& r : g.node(kids[i]).inputs) {
      if (!r.connected() || r.group_input) continue;
      if (auto it = index.find(r.node); it != index.end()) {
        ++waiting[i];
        readers[it->second].push_back(i);
      }
    }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i)
    if (waiting[i] == 0) ready.push(i);
  std::vector<NodeId> order;
  order.reserve(kids.size());
  while (!ready.empty()) {
    const int i = ready.top();
    ready.pop();
    order.push_back(kids[i]);
    for (int r : readers[i])
      if (--waiting[r] == 0) ready.push(r);
  }
  if (cyclic)
    for (int i = 0; i < n; ++i)
      if (waiting[i] > 0) cyclic->push_back(kids[i]);
  return order;
}

std::string port_name(const OpDef* def, int port, bool output) {
  if (def) {
    const auto& names = output ? def->outputs : def->inputs;
    if (port >= 0 && port < int(names.size())) return "'" + names[port] + "'";
  }
  return std::to_string(port);
}

class Analyzer {
 public:
  Analyzer(const Graph& g, Analysis& a) : g_(g), a_(a) {}

  void run() {
    if (g_.top_level_of_kind("input").empty()) problem(kNoNode, -1, "graph: has no input node");
    if (g_.top_level_of_kind("output").empty()) problem(kNoNode, -1, "graph: has no output node");
    level(kNoNode, {}, true);
    // Parameters in state_dict order: leaves in pre-order, each in its ParamsFn order.
    for (NodeId id : g_.preorder()) {
      auto it = params_.find(id);
      if (it == params_.end()) continue;
      for (ParamInfo& p : it->second) {
        a_.total_params = add_sat(a_.total_params, numel_sat(p.shape));
        if (p.trainable) a_.total_trainable = add_sat(a_.total_trainable, numel_sat(p.shape));
        a_.params.push_back(std::move(p));
      }
    }
    std::map<std::string, NodeId> seen;
    for (const ParamInfo& p : a_.params) {
      auto [it, fresh] = seen.emplace(p.name, p.node);
      if (!fresh)
        problem(p.node, -1,
                g_.path(p.node) + ": parameter name '" + p.name +
                    "' is already used by another node; rename one of them");
    }
    bool reported = false;  // a child's overflow was reported at that child
    for (NodeId id : g_.children(kNoNode)) {
      const NodeInfo& ni = a_.info[id];
      reported = reported || ni.macs == kCountOverflow || ni.params == kCountOverflow;
      a_.total_macs = add_sat(a_.total_macs, ni.macs);
    }
    if (!reported) {
      if (a_.total_macs == kCountOverflow)
        problem(kNoNode, -1, "graph: MAC count exceeds 9.2e18 (int64)");
      if (a_.total_params == kCountOverflow)
        problem(kNoNode, -1, "graph: parameter count exceeds 9.2e18 (int64)");
    }
  }

 private:
  void problem(NodeId id, int port, std::string msg) {
    a_.problems.push_back(Problem{id, port, std::move(msg)});
  }
  // Counts saturate at kCountOverflow: the node where one first does is a problem (its parents
  // saturate too, without another line).
  void check_counts(NodeId id, const NodeInfo& info, bool reported) {
    if (reported) return;
    if (info.macs == kCountOverflow)
      problem(id, -1, where(id) + ": MAC count exceeds 9.2e18 (int64)");
    if (info.params == kCountOverflow)
      problem(id, -1, where(id) + ": parameter count exceeds 9.2e18 (int64)");
  }
  std::string where(NodeId id) const {
    std::string p = g_.path(id);
    return p.empty() ? g_.node(id).kind : p;
  }

  // Infers the children of `parent` given the shapes arriving at its input ports.
  void level(NodeId parent, const std::vector<Shape>& group_in, bool group_in_ok) {
    std::vector<NodeId> cyclic;
    std::vector<NodeId> order = topo_order(g_, parent, &cyclic);
    if (!cyclic.empty()) {
      std::string names;
      for (NodeId id : cyclic) names += (names.empty() ? "" : ", ") + where(id);
      problem(cyclic.front(), -1, where(cyclic.front()) + ": is part of a cycle (" + names + ")");
      for (NodeId id : cyclic) a_.info[id];
    }
    for (NodeId id : order) node(id, group_in, group_in_ok);
  }

  void node(NodeId id, const std::vector<Shape>& group_in, bool group_in_ok) {
    const Node& n = g_.node(id);
    NodeInfo& info = a_.info[id];
    const OpDef* def = find_op(n.kind);
    if (!def) {
      problem(id, -1, where(id) + ": unknown op kind '" + n.kind + "'");
      return;
    }
    bool ok = true;
    info.in.assign(n.inputs.size(), Shape{});
    for (int i = 0; i < int(n.inputs.size()); ++i) {
      const PortRef& r = n.inputs[i];
      if (!r.connected()) {
        problem(id, i, where(id) + ": input " + port_name(def, i, false) + " is not connected");
        ok = false;
        continue;
      }
      if (r.group_input) {
        if (!group_in_ok || r.port >= int(group_in.size())) {
          ok = false;
          continue;
        }
        info.in[i] = group_in[r.port];
      } else {
        const NodeInfo& src = a_.info[r.node];
        if (!src.ok || r.port >= int(src.out.size())) {
          ok = false;
          continue;
        }
        info.in[i] = src.out[r.port];
      }
    }
    if (def->cls == OpClass::Leaf) {
      if (!ok) return;
      try {
        info.out = def->infer(n.attrs, info.in);
        if (def->params) {
          std::vector<ParamInfo>& list = params_[id];
          const std::string base = g_.path(id);
          for (const ParamSpec& p : def->params(n.attrs, info.in)) {
            ParamInfo pi{base.empty() ? p.name : base + "." + p.name,
                         p.shape,
                         p.init,
                         p.value,
                         p.trainable,
                         id};
            info.params = add_sat(info.params, numel_sat(p.shape));
            list.push_back(std::move(pi));
          }
        }
        if (def->macs) info.macs = def->macs(n.attrs, info.in, info.out);
        check_counts(id, info, false);
        info.ok = true;
      } catch (const Error& e) {
        problem(id, -1, where(id) + ": " + e.what());
      }
      return;
    }
    // Group or composite: infer the inside, then read the outputs.
    level(id, info.in, ok);
    bool child_overflow = false;
    for (NodeId c : n.children) {
      const NodeInfo& ci = a_.info[c];
      child_overflow = child_overflow || ci.params == kCountOverflow || ci.macs == kCountOverflow;
      info.params = add_sat(info.params, ci.params);
      info.macs = add_sat(info.macs, ci.macs);
    }
    check_counts(id, info, child_overflow);
    if (!ok) return;
    info.out.assign(n.outputs.size(), Shape{});
    bool out_ok = true;
    for (int i = 0; i < int(n.outputs.size()); ++i) {
      const PortRef& r = n.outputs[i];
      if (!r.connected()) {
        problem(id, -1,
                where(id) + ": output " + port_name(def, i, true) +
                    " is not connected to anything inside");
        out_ok = false;
      } else if (r.group_input) {
        info.out[i] = info.in[r.port];
      } else {
        const NodeInfo& src = a_.info[r.node];
        if (!src.ok || r.port >= int(src.out.size())) {
          out_ok = false;
          continue;
        }
        info.out[i] = src.out[r.port];
      }
    }
    info.ok = out_ok;
  }

  const Graph& g_;
  Analysis& a_;
  std::unordered_map<NodeId, std::vector<ParamInfo>> params_;
};

}  // namespace

const NodeInfo* Analysis::of(NodeId id) const {
  auto it = info.find(id);
  return it == info.end() ? nullptr : &it->second;
}

Analysis analyze(const Graph& g) {
  Analysis a;
  Analyzer(g, a).run();
  return a;
}

void require_valid(const Analysis& a) {
  if (!a.ok()) {
    std::string msg = a.problems.front().message;
    if (a.problems.size() > 1)
      msg += " (and " + std::to_string(a.problems.size() - 1) + " more problem" +
             (a.problems.size() > 2 ? "s" : "") + ")";
    throw Error(msg);
  }
}

FlatGraph flatten(const Graph& g, const Analysis& a) {
  FW_ASSERT(a.ok(), "flatten() needs a valid graph: check analyze(g).ok() first");
  FlatGraph fg;
  std::unordered_map<NodeId, std::vector<int>> param_index;
  for (int i = 0; i < int(a.params.size()); ++i) param_index[a.params[i].node].push_back(i);

  std::function<std::vector<ValueRef>(NodeId, const std::vector<ValueRef>&)> level =
      [&](NodeId parent, const std::vector<ValueRef>& group_in) {
        std::unordered_map<NodeId, std::vector<ValueRef>> vals;
        auto resolve = [&](const PortRef& r) {
          return r.group_input ? group_in.at(r.port) : vals.at(r.node).at(r.port);
        };
        for (NodeId id : topo_order(g, parent, nullptr)) {
          const Node& n = g.node(id);
          const OpDef& def = op_def(n.kind);
          std::vector<ValueRef> in;
          for (const PortRef& r : n.inputs) in.push_back(resolve(r));
          if (def.cls != OpClass::Leaf) {
            vals[id] = level(id, in);
            continue;
          }
          if (n.kind == "output") {
            fg.outputs.push_back(in.at(0));
            continue;
          }
          const NodeInfo& info = a.info.at(id);
          FlatOp op;
          op.node = id;
          op.def = &def;
          op.attrs = &n.attrs;
          op.inputs = std::move(in);
          op.in_shapes = info.in;
          op.out_shapes = info.out;
          if (auto it = param_index.find(id); it != param_index.end()) op.params = it->second;
          op.path = g.path(id);
          const int idx = int(fg.ops.size());
          if (n.kind == "input") fg.inputs.push_back(idx);
          std::vector<ValueRef> outs;
          for (int p = 0; p < int(info.out.size()); ++p) outs.push_back({idx, p});
          vals[id] = std::move(outs);
          fg.ops.push_back(std::move(op));
        }
        std::vector<ValueRef> outs;
        if (parent != kNoNode)
          for (const PortRef& r : g.node(parent).outputs) outs.push_back(resolve(r));
        return outs;
      };
  level(kNoNode, {});
  return fg;
}

}  // namespace fw
