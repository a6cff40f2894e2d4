// The node list's model and panel, without a window: make_arch_table on real templates, the number
// formats, and the panel driven through ImGui frames with no renderer (STYLE.md: panels run
// headless).
#include <gtest/gtest.h>
#include <imgui.h>

#include "app/gui/arch_table.h"
#include "core/format.h"
#include "app/gui/style.h"
#include "app/panels/node_list.h"
#include "core/analysis.h"
#include "core/templates.h"

namespace {

using fw::gui::ArchRow;
using fw::gui::ArchTable;

ArchTable table_of(const fw::Graph& g, const std::string& title) {
  return fw::gui::make_arch_table(g, fw::analyze(g), title);
}

const ArchRow* row_at(const ArchTable& t, const std::string& path) {
  for (const ArchRow& r : t.rows)
    if (r.path == path) return &r;
  return nullptr;
}

TEST(GuiArchTable, PoolFormerS12) {
  const fw::Graph g = fw::build_template("poolformer_s12");
  const fw::Analysis a = fw::analyze(g);
  const ArchTable t = fw::gui::make_arch_table(g, a, "poolformer_s12");

  EXPECT_EQ(t.title, "poolformer_s12");
  EXPECT_EQ(t.rows.size(), g.size());
  EXPECT_EQ(t.total_params, 11915176);
  EXPECT_EQ(t.total_macs, 1812267008);
  EXPECT_EQ(t.input_shape, "3x224x224");
  EXPECT_EQ(t.output_shape, "1000");
  EXPECT_TRUE(t.problems.empty());

  // Pre-order: every child comes after its parent, one level deeper; roots are at depth 0.
  size_t reachable = 0;
  for (int root : t.roots) EXPECT_EQ(t.rows[root].depth, 0);
  for (size_t i = 0; i < t.rows.size(); ++i) {
    for (int c : t.rows[i].children) {
      EXPECT_GT(c, static_cast<int>(i));
      EXPECT_EQ(t.rows[c].depth, t.rows[i].depth + 1);
    }
    reachable += t.rows[i].children.size();
  }
  EXPECT_EQ(reachable + t.roots.size(), t.rows.size());

  const ArchRow* fc1 = row_at(t, "stages.0.blocks.0.mlp.fc1");
  ASSERT_NE(fc1, nullptr);
  EXPECT_EQ(fc1->name, "fc1");
  EXPECT_EQ(fc1->shape, "256x56x56");
  EXPECT_EQ(fc1->params, 64 * 256 + 256);             // 1x1 conv with bias
  EXPECT_EQ(fc1->macs, int64_t{256} * 56 * 56 * 64);  // C_out*H*W*C_in
  EXPECT_TRUE(fc1->ok);
  EXPECT_FALSE(fc1->op.empty());
  EXPECT_FALSE(fc1->category.empty());

  const ArchRow* stem = row_at(t, "stem");
  ASSERT_NE(stem, nullptr);
  EXPECT_EQ(stem->params, 9472);
  EXPECT_FALSE(stem->children.empty());

  // The graph output shows what it receives.
  bool saw_output = false;
  for (const ArchRow& r : t.rows)
    if (r.kind == "output") {
      saw_output = true;
      EXPECT_EQ(r.shape, "1000");
    }
  EXPECT_TRUE(saw_output);
}

TEST(GuiArchTable, ProblemsAreShownOnTheNodeAndItsAncestors) {
  fw::Graph g = fw::build_template("poolformer_s12");
  const fw::NodeId fc = g.find_path("head.fc");
  ASSERT_NE(fc, fw::kNoNode);
  g.set_attr(fc, "in_features", int64_t{320});
  const ArchTable t = table_of(g, "broken");

  ASSERT_FALSE(t.problems.empty());
  const ArchRow* r = row_at(t, "head.fc");
  ASSERT_NE(r, nullptr);
  EXPECT_NE(r->problem.find("head.fc"), std::string::npos) << r->problem;
  const ArchRow* head = row_at(t, "head");
  ASSERT_NE(head, nullptr);
  EXPECT_TRUE(head->problem_inside);
  const ArchRow* stem = row_at(t, "stem");
  ASSERT_NE(stem, nullptr);
  EXPECT_FALSE(stem->problem_inside);
}

TEST(GuiNodeList, AutoOpenDepthKeepsTheTreeShort) {
  const ArchTable t = table_of(fw::build_template("poolformer_s12"), "poolformer_s12");
  const int level = fw::gui::auto_open_depth(t, 60);
  int visible = 0;
  for (const ArchRow& r : t.rows) visible += r.depth <= level;
  EXPECT_GE(level, 1);
  EXPECT_LE(visible, 60);
  int deeper = 0;
  for (const ArchRow& r : t.rows) deeper += r.depth <= level + 1;
  EXPECT_GT(deeper, 60);
}

// Runs the panel for a few frames in an ImGui context with no renderer.
class HeadlessImGui : public ::testing::Test {
 protected:
  void SetUp() override {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(1280, 800);
    io.DeltaTime = 1.0f / 60;
    fonts_ = fw::gui::load_fonts(1.0f);
    fw::gui::apply_style(1.0f);
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);  // builds the atlas; no texture upload
  }
  void TearDown() override { ImGui::DestroyContext(); }

  // Returns the vertex count of the last frame.
  int frames(const ArchTable& t, fw::gui::NodeListState& s, int n) {
    int vertices = 0;
    for (int i = 0; i < n; ++i) {
      ImGui::NewFrame();
      ImGui::SetNextWindowPos(ImVec2(0, 0));
      ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
      ImGui::Begin("test", nullptr, ImGuiWindowFlags_NoDecoration);
      fw::gui::draw_node_list(t, s, fonts_);
      ImGui::End();
      ImGui::Render();
      vertices = ImGui::GetDrawData()->TotalVtxCount;
    }
    return vertices;
  }

  fw::gui::Fonts fonts_;
};

TEST_F(HeadlessImGui, DrawsTreeFilterAndExpandAll) {
  const ArchTable t = table_of(fw::build_template("caformer_s18"), "caformer_s18");
  fw::gui::NodeListState s;
  const int tree = frames(t, s, 3);
  EXPECT_GT(tree, 1000);
  EXPECT_EQ(s.open_depth, fw::gui::auto_open_depth(t));

  s.expand_all = 1;
  EXPECT_GT(frames(t, s, 2), 0);

  std::snprintf(s.filter.InputBuf, sizeof s.filter.InputBuf, "attn");
  s.filter.Build();
  EXPECT_GT(frames(t, s, 2), 0);

  const ArchTable broken = [] {
    fw::Graph g = fw::build_template("poolformer_s12");
    g.set_attr(g.find_path("head.fc"), "in_features", int64_t{320});
    return table_of(g, "broken");
  }();
  // The first problem's node is revealed (tree opened down to it) and selected.
  fw::gui::NodeListState s2;
  EXPECT_GT(frames(broken, s2, 3), 0);
  ASSERT_FALSE(broken.problems.empty());
  EXPECT_EQ(s2.selected, broken.problems.front().node);
  EXPECT_EQ(s2.reveal, fw::kNoNode);
}

}  // namespace
