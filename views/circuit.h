// Neural circuit diagrams (V. Abbott, "Neural Circuit Diagrams", TMLR 2024) generated from the
// graph at any level; conventions in ../shared/design/CIRCUITS.md. build_circuit() lays the
// diagram out (wires per axis with their sizes, operation boxes, glyphs, blocks) as plain data a
// test can check; circuit_picture() draws it through a Canvas.
#pragma once
#include "core/analysis.h"
#include "core/graph.h"
#include "views/canvas.h"

namespace fw::views {

struct Circuit;  // views/circuit_model.h

// The diagram of `level` (a group/composite: its children; an op: that op alone).
Picture circuit_picture(const Graph& g, const Analysis& a, NodeId level);

}  // namespace fw::views
