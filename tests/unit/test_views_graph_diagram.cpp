// The graph picture (views/graph_diagram.h), read back from a RecordingCanvas: what the export
// draws of a level.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/templates.h"
#include "views/graph_diagram.h"
#include "views/graph_style.h"
#include "views/layout.h"
#include "views/node_geometry.h"

using fw::Graph;
using fw::kNoNode;
using fw::NodeId;
using fw::views::RecordingCanvas;

namespace {

// Texts drawn inside each group (nested groups count for the innermost one only).
std::map<std::string, std::vector<std::string>> texts_by_group(const RecordingCanvas& rec) {
  std::map<std::string, std::vector<std::string>> out;
  std::vector<std::string> open;
  for (const RecordingCanvas::Command& c : rec.commands()) {
    if (c.op == RecordingCanvas::Op::Begin) {
      open.push_back(c.text);
      out[c.text];
    } else if (c.op == RecordingCanvas::Op::End) {
      open.pop_back();
    } else if (c.op == RecordingCanvas::Op::Text) {
      out[open.empty() ? "" : open.back()].push_back(c.text);
    }
  }
  return out;
}

// The shape a link into `to` (input `port`, or the level's output `port`) carries, by the graph:
// its producer's output shape, or the level's own input shape for a group input.
std::string expected_label(const fw::Analysis& a, NodeId level, const fw::PortRef& r) {
  const fw::NodeInfo* info = a.of(r.group_input ? level : r.node);
  if (!info) return "";
  const std::vector<fw::Shape>& shapes = r.group_input ? info->in : info->out;
  return r.port < static_cast<int>(shapes.size()) ? fw::views::shape_text(shapes[r.port]) : "";
}

// `drawn` is `full`, or as much of it as fits followed by "…".
bool fitted(const std::string& drawn, const std::string& full) {
  static const std::string kEllipsis = "\xE2\x80\xA6";
  if (drawn == full) return true;
  return drawn.size() > kEllipsis.size() &&
         drawn.compare(drawn.size() - kEllipsis.size(), kEllipsis.size(), kEllipsis) == 0 &&
         full.rfind(drawn.substr(0, drawn.size() - kEllipsis.size()), 0) == 0;
}

struct Case {
  const char* templ;
  const char* level;  // "" = the model
};

}  // namespace

TEST(ViewsGraphDiagram, APictureOfALevelDrawsEveryChildsTitleAndEveryLinksShape) {
  for (const Case c :
       {Case{"poolformer_s12", ""}, Case{"poolformer_s12", "stages.1"}, Case{"caformer_s18", ""},
        Case{"caformer_s18", "stages.2"}, Case{"caformer_s18", "stages.2.blocks.0"}}) {
    SCOPED_TRACE(std::string(c.templ) + " / '" + c.level + "'");
    Graph g = fw::build_template(c.templ);
    fw::views::apply_placements(g, fw::views::layout_unplaced(g, kNoNode, fw::views::node_box));
    const fw::Analysis a = fw::analyze(g);
    const NodeId level = *c.level ? g.find_path(c.level) : kNoNode;
    ASSERT_TRUE(level == kNoNode || g.contains(level));

    const fw::views::Picture p = fw::views::graph_picture(g, a, level);
    EXPECT_EQ(p.background, fw::views::graph_palette::kCanvas);
    RecordingCanvas rec;
    p.draw(rec, fw::views::Transform{});
    const auto texts = texts_by_group(rec);

    // Every child as a box titled with its name, at full detail: its op line too.
    const std::vector<NodeId>& kids = g.children(level);
    ASSERT_FALSE(kids.empty());
    for (NodeId id : kids) {
      const std::string group = "node:" + g.path(id);
      ASSERT_TRUE(texts.count(group)) << group << " not drawn";
      const std::vector<std::string>& t = texts.at(group);
      ASSERT_GE(t.size(), 2u) << group;
      EXPECT_EQ(t[0], fw::views::node_title(g.node(id))) << group;
      const std::string sub = fw::views::node_subtitle(g.node(id));
      EXPECT_TRUE(
          std::any_of(t.begin() + 1, t.end(), [&](const std::string& x) { return fitted(x, sub); }))
          << group << ": no op line '" << sub << "'";
    }
    if (level != kNoNode) {
      EXPECT_TRUE(texts.count("node:<in>"));
      EXPECT_TRUE(texts.count("node:<out>"));
    }

    // Every edge of the level as a link; labelled with the shape it carries where the label
    // fits between the boxes (as on screen), and that shape written somewhere in the picture
    // in any case (the producer's shape line).
    std::multiset<std::string> expected;
    for (NodeId id : kids)
      for (const fw::PortRef& r : g.node(id).inputs)
        if (r.connected()) expected.insert(expected_label(a, level, r));
    if (level != kNoNode)
      for (const fw::PortRef& r : g.node(level).outputs)
        if (r.connected()) expected.insert(expected_label(a, level, r));
    int links = 0;
    for (const auto& [group, t] : texts) {
      if (group.rfind("link:", 0) != 0) continue;
      ++links;
      ASSERT_LE(t.size(), 1u) << group;
      if (!t.empty()) {
        EXPECT_TRUE(expected.count(t[0])) << group << ": '" << t[0] << "'";
      }
    }
    EXPECT_EQ(static_cast<size_t>(links), expected.size());
    EXPECT_EQ(expected.count(""), 0u);
    const std::vector<std::string> all = rec.texts();
    for (const std::string& shape : expected)
      EXPECT_NE(std::find(all.begin(), all.end(), shape), all.end()) << "shape " << shape;

    // Everything lies on the picture.
    for (const RecordingCanvas::Command& cmd : rec.commands())
      for (fw::views::Vec2 q : cmd.points) {
        EXPECT_GE(q.x, 0);
        EXPECT_GE(q.y, 0);
        EXPECT_LE(q.x, p.size.x);
        EXPECT_LE(q.y, p.size.y);
      }

    // Full detail at any scale: the same texts, sizes scaled.
    RecordingCanvas twice;
    p.draw(twice, fw::views::Transform{{10, 20}, 2});
    EXPECT_EQ(twice.texts(), rec.texts());
    ASSERT_EQ(twice.commands().size(), rec.commands().size());
    for (size_t i = 0; i < rec.commands().size(); ++i)
      if (rec.commands()[i].op == RecordingCanvas::Op::Text) {
        EXPECT_NEAR(twice.commands()[i].font.size, 2 * rec.commands()[i].font.size, 1e-3);
      }
  }
}
