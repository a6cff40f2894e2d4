// Architecture JSON: Formwork's documented, versioned text form of a graph (core/FORMAT.md).
//
// - graph_to_json(g) / graph_from_json(text, what) round-trip a graph exactly: ids, names,
//   kinds, attributes (ints stay ints, floats stay floats), edges, hierarchy, positions, meta.
// - Loading checks what it can without shapes: format tag and version (a newer version is refused
//   with its number), known op kinds, attribute types and limits, port counts, references to
//   existing nodes, parents before children, nesting depth and positions (the limits below). Every error names `what` (the file) and the node.
//   Shape problems are left to analyze().
#pragma once
#include <string>

#include "core/graph.h"

namespace fw {

constexpr int kGraphFormatVersion = 1;
// Limits a file is checked against: groups nested deeper than this (the templates nest 4 deep)
// and editor positions farther from the origin are refused when the file is read.
constexpr int kMaxGraphDepth = 256;
constexpr double kMaxPosition = 1e7;

std::string graph_to_json(const Graph& g, int indent = 1);
Graph graph_from_json(const std::string& text, const std::string& what);

// Files: read_graph_file throws fw::Error naming the path; write_graph_file is atomic.
Graph read_graph_file(const std::string& path);
void write_graph_file(const std::string& path, const Graph& g);

}  // namespace fw
