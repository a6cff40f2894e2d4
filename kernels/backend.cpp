// Backend lookup and value location (backend.h).
#include "kernels/backend.h"

#include <algorithm>

#include "core/error.h"
#include "core/graph.h"
#include "core/sysmem.h"
#include "kernels/cuda/backends.h"

namespace fw {

uint64_t op_seed(uint64_t run_seed, int op) {
  uint64_t z = run_seed + 0x9E3779B97F4A7C15ull * uint64_t(op + 1);  // splitmix64 of the pair
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::vector<const Backend*> backends() {
  std::vector<const Backend*> all{&cpu_backend()};
  if (const Backend* cuda = gpu::cuda_backend()) all.push_back(cuda);
  return all;
}

const Backend* find_backend(std::string_view name) {
  for (const Backend* b : backends())
    if (b->name() == name) return b;
  return nullptr;
}

MemoryNeed memory_need(const Executor& ex, const Analysis* a, int64_t batch, const RunOptions& opts,
                       bool optimiser) {
  MemoryNeed m;
  m.activations = ex.planned_peak_bytes(batch, opts);
  const FlatGraph& fg = ex.flat();
  for (int o : fg.inputs)
    for (const Shape& s : fg.ops[o].out_shapes) {
      long double b = 4.0L * static_cast<long double>(batch);
      for (int64_t d : s) b *= static_cast<long double>(d);
      m.activations += b;
    }
  if (!a) return m;
  for (const ParamInfo& p : a->params) {
    long double b = 4;
    for (int64_t d : p.shape) b *= static_cast<long double>(d);
    m.weights += b;
    if (optimiser && p.trainable) m.training += 3 * b;
  }
  return m;
}

void require_memory(const MemoryNeed& need, const std::string& what, const std::string& hint) {
  if (!exceeds_memory(need.total())) return;
  std::string msg = what + " would need " + format_bytes(need.total()) + ": " +
                    format_bytes(need.activations) + " of activations";
  if (need.training > 0) msg += " and gradients";
  if (need.weights > 0) msg += ", " + format_bytes(need.weights) + " of weights";
  if (need.training > 0)
    msg += ", " + format_bytes(need.training) + " of gradients and optimiser state";
  msg += " (" + memory_limit_text() + ")";
  if (!hint.empty()) msg += "; " + hint;
  throw Error(msg);
}

namespace {

int op_of_node(const FlatGraph& fg, NodeId id) {
  for (int i = 0; i < int(fg.ops.size()); ++i)
    if (fg.ops[i].node == id) return i;
  return -1;
}

ValueRef resolve_output(const Graph& g, const FlatGraph& fg, NodeId id, int port,
                        const std::string& path);

// The value feeding PortRef r of a consumer node.
ValueRef resolve_ref(const Graph& g, const FlatGraph& fg, const PortRef& r,
                     const std::string& path) {
  if (!r.connected()) throw Error(path + ": is not connected to a value");
  if (r.group_input) {
    const Node& group = g.node(r.node);
    if (r.port < 0 || r.port >= int(group.inputs.size()))
      throw Error(path + ": refers to a missing group input");
    return resolve_ref(g, fg, group.inputs[r.port], path);
  }
  return resolve_output(g, fg, r.node, r.port, path);
}

ValueRef resolve_output(const Graph& g, const FlatGraph& fg, NodeId id, int port,
                        const std::string& path) {
  const Node& n = g.node(id);
  const OpDef& def = op_def(n.kind);
  if (def.cls == OpClass::Leaf) {
    const int op = op_of_node(fg, id);
    if (op < 0) throw Error(path + ": node is not executed (an output node?)");
    if (port < 0 || port >= int(fg.ops[op].out_shapes.size()))
      throw Error(path + ": has no output " + std::to_string(port));
    return {op, port};
  }
  if (port < 0 || port >= int(n.outputs.size()))
    throw Error(path + ": has no output " + std::to_string(port));
  return resolve_ref(g, fg, n.outputs[port], path);
}

}  // namespace

ValueRef find_value(const Graph& g, const FlatGraph& fg, const std::string& path, int port) {
  const NodeId id = g.find_path(path);
  if (id == kNoNode) throw Error("no node '" + path + "'");
  return resolve_output(g, fg, id, port, path);
}

std::vector<int> find_ops(const Graph& g, const FlatGraph& fg, const std::string& path,
                          std::string_view kind) {
  const NodeId id = g.find_path(path);
  if (id == kNoNode) throw Error("no node '" + path + "'");
  std::vector<int> ops;
  for (int i = 0; i < int(fg.ops.size()); ++i) {
    if (!fg.ops[i].def || fg.ops[i].def->id != kind) continue;
    const std::vector<NodeId> line = g.lineage(fg.ops[i].node);
    if (std::find(line.begin(), line.end(), id) != line.end()) ops.push_back(i);
  }
  return ops;
}

}  // namespace fw
