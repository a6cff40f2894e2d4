// The architecture as the node list shows it: one row per graph node, in module order, with its
// analysis (output shape, parameters, MACs) and problems. Built from core only (no ImGui), so it is
// tested without a window.
//
// - Rows are in depth-first pre-order (Graph::preorder): parents before children, children in
//   module registration order. `depth` is the nesting level (0: top level).
// - A composite's params and MACs include its descendants (core/analysis.h); the totals are the
//   graph's, not sums over rows.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/graph.h"

namespace fw::gui {

struct ArchRow {
  NodeId id = kNoNode;
  int depth = 0;
  std::string name;      // module-path segment; may be empty (op lives on its parent's path)
  std::string path;      // full module path: "stages.0.blocks.1.mlp.fc1"
  std::string kind;      // OpDef id: "conv2d"
  std::string op;        // OpDef label: "Conv2d" (the id when unknown to the registry)
  std::string category;  // OpDef category: "conv", "norm", ... (colour of the op chip)
  std::string shape;     // output shape(s) per sample, "64x56x56" (input shapes for a node
                         // without outputs); "" when not inferred
  int64_t params = 0;
  int64_t macs = 0;
  bool ok = false;              // shapes inferred
  std::string problem;          // first problem reported on this node, "" if none
  bool problem_inside = false;  // a descendant has a problem (the tree opens down to it)
  int parent = -1;              // row index of the parent; -1 at the top level
  std::vector<int> children;    // row indices of the children
};

struct ArchTable {
  std::string title;  // what was opened: template name or file name
  std::vector<ArchRow> rows;
  std::vector<int> roots;    // row indices of the top-level nodes
  std::string input_shape;   // shape of the first graph input, "3x224x224"
  std::string output_shape;  // shape fed to the first graph output, "1000"
  int64_t total_params = 0;
  int64_t total_trainable = 0;
  int64_t total_macs = 0;
  std::vector<Problem> problems;  // every problem, as analyze() reports it
};

ArchTable make_arch_table(const Graph& g, const Analysis& a, std::string title);

// Row index of a node; -1 if it has none.
int row_of(const ArchTable& t, NodeId id);

}  // namespace fw::gui
