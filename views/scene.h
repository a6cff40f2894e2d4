// The graph picture's scene: one level of the graph (the children of the shown group) turned into
// boxes, ports and links in scene units (the editor's canvas units: pixels at zoom 1), with every
// string the picture draws already made and fitted (views/text_metrics.h). The editor builds it
// once per document revision / level / set of groups open in place, so a frame only transforms,
// culls and draws it (views/graph_diagram.h draw_graph_scene); the export builds it once.
//
// - Items: a collapsed node is a box (node_geometry.h); a group open in place is a frame whose
//   children are laid out inside it (their stored positions, relative to each other), recursively.
//   Siblings right of or below an open frame are pushed aside by its extra size, so nothing
//   overlaps. Inside a group, two boundary items show the group's own inputs (left) and
//   outputs (right).
// - Ports know what they can be in a connection: a producer (PortRef, possibly a group input seen
//   from inside) and/or a consumer (a node input, or a group output seen from inside). A frame's
//   edge ports are both, which is how a link crosses into an open group.
// - A link that would cross boxes of its own level arcs over them (routed, route_y).
// - Group ids for the canvas (views/canvas.h): "node:<module path>" ("node:<in>", "node:<out>"
//   for the boundary items), "link:<from port>><to port>" with ports named "<item path>:in<k>"
//   (left edge) or "<item path>:out<k>" (right edge): "link:stem:out0>stages:in0".
// - A node that carries choices of the graph's search space (nas/space.h) has a badge, "◆2" for
//   two choices, in its header; a malformed space stored in the graph marks nothing.
#pragma once
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/analysis.h"
#include "core/graph.h"
#include "views/canvas.h"

namespace fw::views {

inline constexpr float kFramePadX = 52;       // inner margin of an open group, left and right
inline constexpr float kFramePadY = 34;       // inner margin, top (room for arcs) and bottom
inline constexpr float kBoundaryWidth = 104;  // the shown group's input/output items
inline constexpr float kBoundaryGap = 60;     // between them and the children
inline constexpr float kBadgeSize = 12;       // the choices badge's text (bold)
inline constexpr float kBadgePad = 5;         // its inner margin, left and right

struct SceneItem {
  enum class Kind : uint8_t { Node, Frame, In, Out };
  Kind kind = Kind::Node;
  NodeId id = kNoNode;  // In/Out: the shown group
  int parent = -1;      // index of the enclosing frame item; -1 at the shown level
  int depth = 0;
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;         // scene units
  Color color = 0;                              // category colour
  std::string title, subtitle, shape, params;   // fitted to the box
  std::string group;                            // canvas group id
  int port_begin = 0, inputs = 0, outputs = 0;  // left ports, then right ports
  bool container = false;                       // has children: can be entered or opened in place
  bool problem = false;                         // a problem names this node
  bool problem_inside = false;
  int choices = 0;    // search-space choices on this node (graph.meta "search_space", nas/space.h)
  std::string badge;  // "◆2" when it has choices: drawn in the header, left of the chevron
  float badge_w = 0;  // the badge's width (scene units; its text at kBadgeFont plus padding)
};

struct ScenePort {
  int item = -1;
  bool left = true;  // on the item's left edge
  int index = 0;     // port number on its node
  float x = 0, y = 0;
  std::string name, shape;
  PortRef src;           // as a producer (src.connected(): can be one)
  NodeId dst = kNoNode;  // as a consumer: node whose input (or group output) it is
  int dst_port = -1;
  bool dst_group_output = false;  // dst's output `dst_port`, fed from inside
  bool connected = false;
  bool problem = false;
};

struct SceneLink {
  int from = -1, to = -1;  // ports
  int level = -1;          // frame item whose children it joins; -1: the shown level
  bool routed = false;
  float route_y = 0;
  float bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;  // bounding box of the curve
  std::string label;                         // shape carried
  std::string group;                         // canvas group id
  bool problem = false;                      // the consumer's port has a problem
};

struct Scene {
  std::vector<SceneItem> items;
  std::vector<ScenePort> ports;
  std::vector<SceneLink> links;
  std::vector<int> frames;                   // frame items, outermost first
  std::vector<int> boxes;                    // the other items
  float bx0 = 0, by0 = 0, bx1 = 0, by1 = 0;  // bounds of all items
  std::unordered_map<NodeId, int> item_of;   // node -> its item (not In/Out)
  int in_item = -1, out_item = -1;

  int find(NodeId id) const {
    auto it = item_of.find(id);
    return it == item_of.end() ? -1 : it->second;
  }
};

Scene build_scene(const Graph& g, const Analysis& a, NodeId container,
                  const std::set<NodeId>& open_in_place);

// Control points of a link's curve: one cubic p0..p3, or when routed three: up (p0..p3), across
// (p3..p6, straight) and down (p6..p9). Same units as the arguments.
struct LinkCurve {
  Vec2 p[10];
  int beziers = 1;
  Vec2 mid() const;  // where the label goes
};
LinkCurve link_curve(Vec2 from, Vec2 to, bool routed, float route_y);

}  // namespace fw::views
