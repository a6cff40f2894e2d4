// The node list's model and panel, without a window: make_arch_table on real templates, the number
// formats, and the panel driven through ImGui frames with no renderer (STYLE.md: panels run
// headless).
#include <gtest/gtest.h>
#include <imgui.h>

#include <cctype>
#include <functional>
#include <string>
#include <vector>

#include "app/gui/arch_table.h"
#include "app/gui/style.h"
#include "app/gui/ui_probe.h"
#include "app/panels/node_list.h"
#include "core/analysis.h"
#include "core/format.h"
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
  // The table shows the analysis's totals (which tests/python/test_template_sizes.py checks
  // against the PyTorch model).
  EXPECT_EQ(t.total_params, a.total_params);
  EXPECT_EQ(t.total_macs, a.total_macs);
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

// The rows of a tree open down to the depth where `open(row)` says so, in the order the tree shows
// them (each row, then its children when it is open).
std::vector<std::string> tree_order(const ArchTable& t,
                                    const std::function<bool(const ArchRow&)>& open) {
  std::vector<std::string> out;
  std::function<void(int)> visit = [&](int i) {
    out.push_back(t.rows[i].path);
    if (open(t.rows[i]))
      for (int c : t.rows[i].children) visit(c);
  };
  for (int root : t.roots) visit(root);
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// `drawn` is the start of `all`: the rows from the top, as many as the table had room for.
void expect_top_of(const std::vector<std::string>& drawn, const std::vector<std::string>& all) {
  ASSERT_LE(drawn.size(), all.size());
  EXPECT_EQ(drawn, std::vector<std::string>(all.begin(), all.begin() + long(drawn.size())));
}

// Runs the panel for a few frames in an ImGui context with no renderer; the UI probe reports the
// rows each frame drew.
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
    fw::gui::probe::enable(true);
  }
  void TearDown() override {
    fw::gui::probe::enable(false);
    fw::gui::probe::clear();
    ImGui::DestroyContext();
  }

  // Returns the module paths of the rows the last frame drew (not those scrolled out of sight).
  std::vector<std::string> frames(const ArchTable& t, fw::gui::NodeListState& s, int n) {
    for (int i = 0; i < n; ++i) {
      fw::gui::probe::begin_frame();
      ImGui::NewFrame();
      ImGui::SetNextWindowPos(ImVec2(0, 0));
      ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
      ImGui::Begin("test", nullptr, ImGuiWindowFlags_NoDecoration);
      fw::gui::draw_node_list(t, s, fonts_);
      ImGui::End();
      ImGui::Render();
    }
    return fw::gui::probe::ids("outline");
  }

  fw::gui::Fonts fonts_;
};

TEST_F(HeadlessImGui, DrawsTreeFilterAndExpandAll) {
  const ArchTable t = table_of(fw::build_template("caformer_s18"), "caformer_s18");
  fw::gui::NodeListState s;
  // The tree opened to the automatic depth, from the top: as many rows as fit (the table is
  // 800 px tall), the rest scrolled out of sight.
  const std::vector<std::string> tree = frames(t, s, 3);
  EXPECT_EQ(s.open_depth, fw::gui::auto_open_depth(t));
  const int depth = s.open_depth;
  const std::vector<std::string> opened =
      tree_order(t, [&](const ArchRow& r) { return r.depth < depth; });
  EXPECT_GE(tree.size(), 25u);
  EXPECT_LT(tree.size(), opened.size());  // more than fits: the table scrolls
  expect_top_of(tree, opened);
  const fw::gui::probe::Drawn* stages = fw::gui::probe::find("outline", "stages");
  ASSERT_NE(stages, nullptr);
  EXPECT_TRUE(stages->has("open"));

  // Expand all: every group open, so the first rows go down to the leaves.
  s.expand_all = 1;
  const std::vector<std::string> all = frames(t, s, 2);
  const std::vector<std::string> everything = tree_order(t, [](const ArchRow&) { return true; });
  expect_top_of(all, everything);
  EXPECT_GE(all.size(), 25u);
  EXPECT_NE(all, tree);
  bool deeper = false;  // a row below the automatic depth
  for (const std::string& path : all) {
    const ArchRow* r = row_at(t, path);
    ASSERT_NE(r, nullptr) << path;
    deeper |= r->depth > depth;
  }
  EXPECT_TRUE(deeper);

  // A filter: a flat list of the matching rows only (by module path or op).
  std::snprintf(s.filter.InputBuf, sizeof s.filter.InputBuf, "attention");
  s.filter.Build();
  const std::vector<std::string> filtered = frames(t, s, 2);
  std::vector<std::string> matching;
  for (const ArchRow& r : t.rows)
    if (lower(r.path).find("attention") != std::string::npos ||
        lower(r.op).find("attention") != std::string::npos)  // ImGuiTextFilter ignores case
      matching.push_back(r.path);
  ASSERT_FALSE(matching.empty());
  expect_top_of(filtered, matching);
  EXPECT_FALSE(filtered.empty());

  const ArchTable broken = [] {
    fw::Graph g = fw::build_template("poolformer_s12");
    g.set_attr(g.find_path("head.fc"), "in_features", int64_t{320});
    return table_of(g, "broken");
  }();
  // The first problem's node is revealed (tree opened down to it, scrolled to) and selected.
  fw::gui::NodeListState s2;
  frames(broken, s2, 3);
  ASSERT_FALSE(broken.problems.empty());
  EXPECT_EQ(s2.selected, broken.problems.front().node);
  EXPECT_EQ(s2.reveal, fw::kNoNode);
  const fw::gui::probe::Drawn* fc = fw::gui::probe::find("outline", "head.fc");
  ASSERT_NE(fc, nullptr) << "head.fc is not among the rows drawn";
  EXPECT_TRUE(fc->has("selected"));
  EXPECT_TRUE(fc->has("problem"));
  const fw::gui::probe::Drawn* head = fw::gui::probe::find("outline", "head");
  ASSERT_NE(head, nullptr);
  EXPECT_TRUE(head->has("open"));
}

}  // namespace
