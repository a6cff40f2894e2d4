// Automatic layout (views/layout.h) and the graph picture's scene (views/scene.h).
#include <gtest/gtest.h>

#include <map>

#include "core/analysis.h"
#include "core/templates.h"
#include "views/layout.h"
#include "views/scene.h"

using fw::Graph;
using fw::kNoNode;
using fw::NodeId;

namespace {

bool overlap(const fw::Node& a, const fw::Node& b) {
  const fw::views::BoxSize sa = fw::views::node_box(a), sb = fw::views::node_box(b);
  return a.x < b.x + sb.w && b.x < a.x + sa.w && a.y < b.y + sb.h && b.y < a.y + sa.h;
}

void check_level(const Graph& g, NodeId parent) {
  const std::vector<NodeId>& kids = g.children(parent);
  for (size_t i = 0; i < kids.size(); ++i)
    for (size_t j = i + 1; j < kids.size(); ++j)
      EXPECT_FALSE(overlap(g.node(kids[i]), g.node(kids[j])))
          << g.path(kids[i]) << " overlaps " << g.path(kids[j]);
  // Edges run left to right.
  for (NodeId id : kids)
    for (const fw::PortRef& r : g.node(id).inputs) {
      if (r.connected() && !r.group_input) {
        EXPECT_LT(g.node(r.node).x, g.node(id).x) << g.path(r.node) << " -> " << g.path(id);
      }
    }
  for (NodeId id : kids)
    if (!g.node(id).children.empty()) check_level(g, id);
}

}  // namespace

TEST(ViewsLayout, TemplatesArriveUnplacedAndGetLaidOutLeftToRightWithoutOverlaps) {
  for (const char* name : {"poolformer_s12", "caformer_s18", "vit_tiny_patch16_224"}) {
    SCOPED_TRACE(name);
    Graph g = fw::build_template(name);
    EXPECT_TRUE(fw::views::level_needs_layout(g, kNoNode));
    fw::views::apply_placements(g, fw::views::layout_unplaced(g, kNoNode, fw::views::node_box));
    for (const auto& [id, n] : g.nodes()) EXPECT_FALSE(fw::views::level_needs_layout(g, id));
    EXPECT_FALSE(fw::views::level_needs_layout(g, kNoNode));
    check_level(g, kNoNode);
  }
}

TEST(ViewsLayout, ResidualBranchesShareColumnsAndTheLevelStartsAtTheOrigin) {
  Graph g = fw::build_template("poolformer_s12", {{3, 64, 64}, 10});
  const NodeId block = g.find_path("stages.0.blocks.0");
  const std::vector<fw::Placement> p = fw::views::layout_level(g, block, fw::views::node_box);
  ASSERT_EQ(p.size(), g.node(block).children.size());
  float min_x = 1e9f, min_y = 1e9f;
  for (const fw::Placement& q : p) min_x = std::min(min_x, q.x), min_y = std::min(min_y, q.y);
  EXPECT_FLOAT_EQ(min_x, 0);
  EXPECT_FLOAT_EQ(min_y, 0);
  // A chain with residual adds: every node on one row.
  for (const fw::Placement& q : p) EXPECT_NEAR(q.y, p.front().y, 1.0f) << g.path(q.id);
}

TEST(ViewsLayout, SurvivesCyclesAndIsolatedNodes) {
  Graph g;
  const NodeId a = g.add(kNoNode, "relu", "a");
  const NodeId b = g.add(kNoNode, "relu", "b");
  g.add(kNoNode, "relu", "alone");
  g.connect({a, 0}, b, 0);
  g.connect({b, 0}, a, 0);  // a cycle: analysis reports it; layout must still place everything
  const std::vector<fw::Placement> p = fw::views::layout_level(g, kNoNode, fw::views::node_box);
  ASSERT_EQ(p.size(), 3u);
  fw::views::apply_placements(g, p);
  for (NodeId x : g.children(kNoNode))
    for (NodeId y : g.children(kNoNode))
      if (x < y) {
        EXPECT_FALSE(overlap(g.node(x), g.node(y)));
      }
}

// 2,000 nodes are laid out in layers: every node right of the nodes that feed it. (How long that
// takes is measured by tests/bench/editor_bench.cpp, "layout+load" of the same generated level.)
TEST(ViewsLayout, LargeLevelsAreLaidOutInLayers) {
  // 20 rows of 100, each fed by the previous column (and a neighbour row).
  Graph g;
  const NodeId in =
      g.add(kNoNode, "input", "input",
            {{"channels", int64_t(8)}, {"height", int64_t(4)}, {"width", int64_t(4)}});
  std::vector<NodeId> prev(20, in);
  std::vector<std::pair<NodeId, NodeId>> edges;
  for (int col = 0; col < 100; ++col)
    for (int row = 0; row < 20; ++row) {
      std::string name = "n";
      name += std::to_string(col * 20 + row);
      const NodeId n = g.add(kNoNode, "add", name);
      g.connect({prev[row], 0}, n, 0);
      g.connect({prev[(row + 1) % 20], 0}, n, 1);
      edges.push_back({prev[row], n});
      edges.push_back({prev[(row + 1) % 20], n});
      prev[row] = n;
    }
  const std::vector<fw::Placement> p = fw::views::layout_level(g, kNoNode, fw::views::node_box);
  ASSERT_EQ(p.size(), g.size());
  std::map<NodeId, float> x;
  for (const fw::Placement& q : p) x[q.id] = q.x;
  ASSERT_EQ(x.size(), g.size());
  for (auto [from, to] : edges) EXPECT_LT(x.at(from), x.at(to)) << from << " -> " << to;
}

TEST(ViewsScene, ALevelHasItsChildrenBoundaryPortsAndOneLinkPerEdge) {
  Graph g = fw::build_template("poolformer_s12", {{3, 64, 64}, 10});
  fw::views::apply_placements(g, fw::views::layout_unplaced(g, kNoNode, fw::views::node_box));
  const fw::Analysis a = fw::analyze(g);
  const NodeId block = g.find_path("stages.0.blocks.0");
  const fw::views::Scene s = fw::views::build_scene(g, a, block, {});
  EXPECT_EQ(s.item_of.size(), g.node(block).children.size());
  ASSERT_GE(s.in_item, 0);
  ASSERT_GE(s.out_item, 0);
  size_t edges = 0;
  for (NodeId id : g.node(block).children)
    for (const fw::PortRef& r : g.node(id).inputs) edges += r.connected();
  edges += g.node(block).outputs[0].connected();
  EXPECT_EQ(s.links.size(), edges);
  // Links carry the producer's shape; the residual from the block input arcs over the boxes.
  bool routed = false;
  for (const fw::views::SceneLink& l : s.links) {
    EXPECT_EQ(l.label,
              "64\xC3\x97"
              "16\xC3\x97"
              "16");
    routed |= l.routed;
  }
  EXPECT_TRUE(routed);
  // The boundary input is a producer seen from inside; the output a consumer.
  const fw::views::SceneItem& in = s.items[s.in_item];
  EXPECT_TRUE(s.ports[in.port_begin].src.group_input);
  const fw::views::SceneItem& out = s.items[s.out_item];
  EXPECT_TRUE(s.ports[out.port_begin].dst_group_output);
}

TEST(ViewsScene, OpenGroupsPushTheirSiblingsAside) {
  Graph g = fw::build_template("poolformer_s12", {{3, 64, 64}, 10});
  fw::views::apply_placements(g, fw::views::layout_unplaced(g, kNoNode, fw::views::node_box));
  const fw::Analysis a = fw::analyze(g);
  std::set<NodeId> open;
  for (const auto& [id, n] : g.nodes())
    if (!n.children.empty()) open.insert(id);
  const fw::views::Scene s = fw::views::build_scene(g, a, kNoNode, open);
  EXPECT_EQ(s.items.size(), g.size());
  // Items of one level never overlap; children lie inside their frame.
  for (size_t i = 0; i < s.items.size(); ++i)
    for (size_t j = i + 1; j < s.items.size(); ++j) {
      const auto& p = s.items[i];
      const auto& q = s.items[j];
      if (p.parent != q.parent) continue;
      EXPECT_TRUE(p.x1 <= q.x0 || q.x1 <= p.x0 || p.y1 <= q.y0 || q.y1 <= p.y0)
          << p.title << " overlaps " << q.title;
    }
  for (const auto& it : s.items) {
    if (it.parent < 0) continue;
    const auto& f = s.items[it.parent];
    EXPECT_TRUE(it.x0 >= f.x0 && it.x1 <= f.x1 && it.y0 >= f.y0 && it.y1 <= f.y1) << it.title;
  }
}
