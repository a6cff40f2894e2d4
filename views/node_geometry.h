// How big a node is in the graph picture, and what it says, without a font or a window: the
// automatic layout (views/layout.h) and the scene (views/scene.h) both read it, so a laid-out
// graph never overlaps when drawn.
//
// - Units are scene units (the editor's canvas units): pixels at zoom 1 and content scale 1.
//   Node positions (Node::x, y) are the top-left corner of this box, relative to the node's own
//   level (its siblings).
// - Widths come from an estimate of the text (DejaVu Sans metrics), clamped to
//   [kNodeMinWidth, kNodeMaxWidth]; the scene ellipsizes what does not fit.
// - Ports sit on the left (inputs) and right (outputs) edges, one row each, starting at
//   node_port_y(0) below the top.
#pragma once
#include <string>

#include "core/graph.h"

namespace fw::views {

struct BoxSize {
  float w = 0, h = 0;
};

inline constexpr float kNodeHeaderHeight = 28;
inline constexpr float kNodeRowHeight = 20;
inline constexpr float kNodeMinWidth = 164;
inline constexpr float kNodeMaxWidth = 320;
inline constexpr float kNodePadding = 10;   // text inset from the sides
inline constexpr float kNodeBodyLines = 2;  // op line and shape line
inline constexpr float kPortRadius = 5;
// Text sizes in the picture, in scene units (scaled by the zoom when drawn).
inline constexpr float kNodeTitleSize = 15;
inline constexpr float kNodeBodySize = 13.5f;
inline constexpr float kNodeMonoSize = 13;

// The title: the node's name, or its op's label when it has none.
std::string node_title(const Node& n);
// The op line: op label and the attributes that tell nodes apart ("Conv2d · 3→64 · 7×7 /4").
std::string node_subtitle(const Node& n);
// "64×56×56"; "" for an empty shape.
std::string shape_text(const Shape& s);

BoxSize node_box(const Node& n);
// A group or composite: it has (or can have) children, so it can be entered or opened in place.
bool is_container(const Node& n);
// Offset of port row `index` from the node's top.
inline float node_port_y(int index) {
  return kNodeHeaderHeight + kNodeRowHeight * (0.5f + static_cast<float>(index)) + 4;
}

}  // namespace fw::views
