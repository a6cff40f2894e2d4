// The editor's picture of one level of the graph (views/scene.h: layout, boxes, ports, links,
// colours by op family) drawn through a Canvas. The editor canvas (app/gui/editor_canvas) draws
// every frame with draw_graph_scene() over ImGui; `formwork export --diagram graph` and File →
// Export diagram draw graph_picture() over Qt. Same function, same picture.
#pragma once
#include <set>
#include <string>

#include "core/analysis.h"
#include "core/graph.h"
#include "views/canvas.h"

namespace fw::views {

// The whole level at full detail, in the editor's colours: its size is the scene's bounds plus
// a margin. Problems are marked as the editor marks them.
Picture graph_picture(const Graph& g, const Analysis& a, NodeId level);

}  // namespace fw::views
