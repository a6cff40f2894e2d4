// Automatic layout of one level of the graph (the children of a group), left to right, in the
// layered ("Sugiyama") style. Knows nothing about windows or fonts: sizes come from a callback
// (node_box() for the editor and the export).
//
// - layout_level(): layers by longest path from the sources (a source that only feeds later
//   nodes moves next to its first consumer), orders each layer by barycentre sweeps to reduce
//   crossings, then places layers in columns and nodes in each column as close as the spacing
//   allows to the mean height of their neighbours, so chains run straight. Edges through the
//   group's own inputs count as coming from the left. Cycles do not break it (their back edges
//   are ignored). Returns one Placement (top-left corner) per child, in children order; the
//   level's bounding box starts at (0, 0).
// - level_needs_layout(): true when at least two children share one position, which is how a
//   template, a rebuilt composite or a graph written by another tool arrives (all at 0, 0).
// - layout_unplaced(): layout_level() for `root` and every group below it that needs a layout.
#pragma once
#include <functional>
#include <vector>

#include "core/document.h"
#include "core/graph.h"
#include "views/node_geometry.h"

namespace fw::views {

struct LayoutOptions {
  float layer_gap = 56;  // between columns
  float node_gap = 36;   // between nodes of one column
};

using SizeFn = std::function<BoxSize(const Node&)>;

std::vector<Placement> layout_level(const Graph& g, NodeId container, const SizeFn& size,
                                    const LayoutOptions& opts = {});
bool level_needs_layout(const Graph& g, NodeId container);
std::vector<Placement> layout_unplaced(const Graph& g, NodeId root, const SizeFn& size,
                                       const LayoutOptions& opts = {});

// Applies placements straight to a graph (before it goes into a Document: opening a file).
void apply_placements(Graph& g, const std::vector<Placement>& where);

}  // namespace fw::views
