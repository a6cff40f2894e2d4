// Analysis of a graph: validation, shape inference, parameters and cost model.
//
// - analyze(graph) never throws on a bad graph: it returns every problem found, each naming the
//   node (module path) and the reason — a cycle, an unconnected port, a shape mismatch such as
//   "stages.2.blocks.0.mlp.fc1: expects 320 channels, gets 128" — and the shapes, parameters and
//   MACs of every node it could infer.
// - Shapes are per sample (no batch): [C, H, W] feature maps, [N, C] tokens, [C] vectors.
// - MACs (multiply-accumulates per sample) count: conv2d C_out*H_out*W_out*C_in/groups*kh*kw;
//   linear tokens*in*out; attention's two matmuls 2*heads*N^2*head_dim; random token mixing C*N^2.
//   Biases, norms, activations, pooling, softmax, scales and adds count 0.
// - Parameters are listed in state_dict order with their full names.
// - Counts never wrap: a parameter or MAC count that would exceed int64 saturates at
//   kCountOverflow (core/tensor.h) and is a problem on the node where it first does
//   ("stage.conv0: MAC count exceeds 9.2e18 (int64)"), so require_valid refuses the graph.
// - flatten() turns a valid graph into the list of leaf ops that a backend runs, in a topological
//   order, with group boundaries resolved.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "core/graph.h"

namespace fw {

struct ParamInfo {
  std::string name;  // "stages.0.blocks.0.mlp.fc1.weight"
  Shape shape;
  InitKind init = InitKind::Zeros;
  double value = 0;
  bool trainable = true;
  NodeId node = kNoNode;  // owning leaf node
};

struct NodeInfo {
  std::vector<Shape> in, out;  // per port; empty shape where unknown
  int64_t params = 0;          // this node and its descendants
  int64_t macs = 0;
  bool ok = false;             // shapes inferred
};

struct Problem {
  NodeId node = kNoNode;
  int port = -1;        // input port concerned, or -1
  std::string message;  // full line: "stages.2.blocks.0.mlp.fc1: expects 320 channels, gets 128"
};

struct Analysis {
  std::unordered_map<NodeId, NodeInfo> info;
  std::vector<ParamInfo> params;  // state_dict order
  std::vector<Problem> problems;
  int64_t total_params = 0;
  int64_t total_trainable = 0;
  int64_t total_macs = 0;

  bool ok() const { return problems.empty(); }
  const NodeInfo* of(NodeId id) const;
};

Analysis analyze(const Graph& g);
// Throws fw::Error with the first problem's message when `a` has problems.
void require_valid(const Analysis& a);

// ---- Execution order --------------------------------------------------------------------------
struct ValueRef {
  int op = -1;   // index into FlatGraph::ops
  int port = 0;  // its output port
  bool operator==(const ValueRef& o) const = default;
};

struct FlatOp {
  NodeId node = kNoNode;
  const OpDef* def = nullptr;
  const Attrs* attrs = nullptr;          // points into the graph: keep the graph alive
  std::vector<ValueRef> inputs;
  std::vector<Shape> in_shapes, out_shapes;
  std::vector<int> params;               // indices into Analysis::params, in ParamsFn order
  std::string path;                      // module path (for messages and layer lookup)
};

struct FlatGraph {
  std::vector<FlatOp> ops;      // topological order; "input" ops first in graph order
  std::vector<int> inputs;      // indices of the "input" ops
  std::vector<ValueRef> outputs;  // what each "output" node receives
};

// Requires a.ok(). The graph and analysis must outlive the result.
FlatGraph flatten(const Graph& g, const Analysis& a);

}  // namespace fw
