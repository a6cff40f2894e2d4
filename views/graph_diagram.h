// The editor's picture of one level of the graph (views/scene.h: layout, boxes, ports, links,
// colours by op family) drawn through a Canvas. The editor canvas (app/gui/editor_canvas) draws
// every frame with draw_graph_scene() over ImGui; `formwork export --diagram graph` and File →
// Export diagram draw graph_picture() over Qt. Same function, same picture.
//
// - draw_graph_scene() draws everything a node looks like: open groups' frames, then the links
//   with their shape labels, then the boxes (headers, titles, op lines, shapes, parameter counts,
//   the problem badge, the search-space choices badge) and their ports. The editor's own layers
//   (grid, box selection, the link being dragged, a refusal at its port, tooltips) are not part of
//   it.
// - Semantic zoom, by GraphDrawState::zoom: below kDetailZoom plain boxes (no text, ports or
//   rounding); below kFullZoom the title and the shape, drawn larger than the zoom would make
//   them; from kFullZoom every line. Link labels from kLabelZoom, where they fit between the
//   boxes or along an arc's straight run (every_label: all of them).
// - Sizes scale with transform.scale; content_scale (the UI's HiDPI factor) sets the least size
//   of the text and gaps that must stay readable when zoomed out.
#pragma once
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/graph.h"
#include "views/canvas.h"
#include "views/scene.h"

namespace fw::views {

inline constexpr float kDetailZoom = 0.2f;  // below: boxes only (no text, ports, rounding)
inline constexpr float kFullZoom = 0.8f;    // from here: every line of a node; below: title and
                                            // shape, drawn larger than the zoom (semantic zoom)
inline constexpr float kLabelZoom = 0.3f;   // link labels from here
inline constexpr float kLinkLabelSize = 11.5f;

// An item as drawn, in output units: its rectangle and the colour painted solid (opaque) over
// fill_min..fill_max (its header, or the whole box).
struct ItemDrawn {
  Vec2 min, max, fill_min, fill_max;
  Color fill = kNone;
  Vec2 badge_min, badge_max;  // the choices badge (kAccent text), where one is drawn; else empty
};

struct GraphDrawState {
  Transform transform;  // scene units -> output units
  float zoom = 1;       // level of detail (the editor's zoom; 1: 100 %)
  float content_scale = 1;
  // The output rectangle shown: items and links wholly outside it are not drawn. Empty
  // (view_max <= view_min): everything is drawn.
  Vec2 view_min, view_max;
  const std::set<NodeId>* selection = nullptr;  // drawn in the accent colour, with their links
  int selected_link = -1, hover_link = -1;      // scene link indices, drawn in the accent colour
  int hover_port = -1, pressed_port = -1;       // scene port indices, drawn larger and in accent
  // Items being dragged (per item, nonzero: moving; nullptr: none) are drawn moved by
  // move_offset (scene units), their links straight between the moved ports.
  const std::vector<char>* moving = nullptr;
  Vec2 move_offset;
  bool every_label = false;  // a label on every link, also where it is wider than the gap
  // Called for each item drawn (after culling), in drawing order.
  std::function<void(int item, const ItemDrawn&)> drawn;
};

void draw_graph_scene(Canvas& c, const Scene& s, const GraphDrawState& st);

// The whole level at full detail, in the editor's colours: the scene of `level` with no group
// open in place, drawn by draw_graph_scene() at zoom 1 (content scale: the picture's scale) with
// every link labelled. Its size is the bounds of the items and links plus kPictureMargin on each
// side, its background the editor's canvas colour; problems are marked as the editor marks them.
// The picture keeps its own copy of the scene.
Picture graph_picture(const Graph& g, const Analysis& a, NodeId level);

inline constexpr float kPictureMargin = 40;  // scene units
// Where graph_picture() puts a scene: scene units -> picture units (scale 1; the bounds of the
// items and links start at kPictureMargin).
Transform picture_transform(const Scene& s);

}  // namespace fw::views
