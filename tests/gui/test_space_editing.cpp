// The search space edited on the graph (issue #12), driven like a user drives it
// (tests/gui/ui_driver.h): the inspector's ◆ toggles and value fields, the space panel that the
// inspector shows when nothing is selected, the badge on the node's box, undo and the project file.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "app/gui/app_state.h"
#include "app/panels/space_panel.h"
#include "core/templates.h"
#include "nas/space.h"
#include "tests/gui/ui_driver.h"
#include "views/canvas.h"
#include "views/graph_diagram.h"
#include "views/graph_style.h"
#include "views/node_geometry.h"
#include "views/scene.h"

namespace fs = std::filesystem;
namespace k = fw::gui::testing;
namespace probe = fw::gui::probe;
using fw::AttrValue;
using fw::NodeId;
using fw::SearchSpace;
using fw::SpaceChoice;
using fw::gui::testing::UiDriver;

namespace {

struct SpaceUi {
  UiDriver ui;
  NodeId stage = fw::kNoNode;

  SpaceUi() {
    ImGui::GetIO().DisplaySize = ImVec2(1600, 1500);  // every row of a stage's inspector shows
    fw::gui::load_graph(ui.app, fw::build_template("poolformer_s12"), fw::gui::Source::Template, "",
                        "poolformer_s12");
    ui.frame(2);
    stage = ui.app.doc.graph().find_path("stages.1");
    fw::gui::reveal_node(ui.app, stage);  // enters "stages", selects stages.1
    ui.frame(3);
  }
  SearchSpace space() const { return fw::graph_space(ui.app.doc.graph()); }
  void click(const std::string& key) {
    const ImVec2 p = ui.at(key);
    ASSERT_GT(p.x, 0) << key << " was not drawn";
    ui.click(p);
    ui.frame(2);
  }
  // Types `text` into a choice's values field and presses Enter.
  void set_values(const std::string& attr, const std::string& text) {
    click("choice:" + attr + ":values");  // selects the whole text (AutoSelectAll)
    ui.type(text);
    ui.key(k::kKeyEnter);
    ui.frame(2);
  }
  // Nothing selected: the inspector shows the space panel.
  void show_panel() {
    ui.app.editor.selection.clear();
    ui.frame(3);
  }
  std::string panel_size() const {
    const probe::Drawn* d = probe::find("space", "size");
    return d ? d->text : "<not drawn>";
  }
};

SpaceChoice choice(const std::string& node, const std::string& attr,
                   std::vector<AttrValue> values) {
  return SpaceChoice{node, attr, std::move(values)};
}

}  // namespace

TEST(SpaceUi, MakingDepthAChoiceAndTypingItsValuesStoresTheSpace) {
  SpaceUi s;
  ASSERT_EQ(probe::fact_or("inspector"), "stages.1");
  EXPECT_TRUE(s.space().empty());
  s.click("choice:toggle:depth");
  // A choice starts from the current value (depth 2).
  SearchSpace want;
  want.choices = {choice("stages.1", "depth", {int64_t(2)})};
  EXPECT_EQ(s.space(), want);
  EXPECT_EQ(s.ui.app.doc.undo_label(), "Make stages.1.depth a choice");
  s.set_values("depth", "1, 2,3");
  want.choices[0].values = {int64_t(1), int64_t(2), int64_t(3)};
  EXPECT_EQ(s.space(), want);
  const probe::Drawn* row = probe::find("choice", "stages.1.depth");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->text, "1, 2, 3");
  const probe::Drawn* attr = probe::find("attr", "depth");
  ASSERT_NE(attr, nullptr);
  EXPECT_TRUE(attr->has("choice"));
  // The base graph is unchanged: a choice is not an attribute edit.
  EXPECT_EQ(s.ui.app.doc.graph().node(s.stage).attrs.i("depth"), 2);

  s.show_panel();
  EXPECT_EQ(probe::fact_or("inspector.mode"), "level");
  EXPECT_EQ(s.panel_size(), "3");
  const probe::Drawn* listed = probe::find("choice", "space:stages.1.depth");
  ASSERT_NE(listed, nullptr);
  EXPECT_EQ(listed->text, "1, 2, 3");
}

TEST(SpaceUi, TokenMixerCheckboxesMultiplyTheSubnetsAndUndoRedoEachEdit) {
  SpaceUi s;
  s.click("choice:toggle:depth");
  s.set_values("depth", "1,2,3");
  s.click("choice:toggle:token_mixer");
  ASSERT_EQ(s.space().choices.size(), 2u);
  EXPECT_EQ(s.space().choices[1].values, (std::vector<AttrValue>{std::string("pooling")}));
  s.click("choice:token_mixer:attention");
  const SearchSpace six = s.space();
  EXPECT_EQ(six.choices[1],
            choice("stages.1", "token_mixer", {std::string("pooling"), std::string("attention")}));
  EXPECT_EQ(six.size(), 6);
  s.show_panel();
  EXPECT_EQ(s.panel_size(), "6");

  // Ctrl+Z undoes the last edit (attention added), Ctrl+Shift+Z redoes it.
  s.ui.key('Z', true);
  s.ui.frame(2);
  EXPECT_EQ(s.space().size(), 3);
  EXPECT_EQ(s.space().choices[1].values, (std::vector<AttrValue>{std::string("pooling")}));
  EXPECT_EQ(s.panel_size(), "3");
  s.ui.key('Z', true, true);
  s.ui.frame(2);
  EXPECT_EQ(s.space(), six);
  EXPECT_EQ(s.panel_size(), "6");
  // Undo all the way: no space left in the graph.
  while (s.ui.app.doc.undo()) {
  }
  EXPECT_FALSE(s.ui.app.doc.graph().meta.has(fw::kSearchSpaceMeta));
}

TEST(SpaceUi, AValueOutsideTheLimitsIsRefusedWithTheReasonAndNothingStored) {
  SpaceUi s;
  s.click("choice:toggle:depth");
  s.set_values("depth", "1,2,3");
  const SearchSpace before = s.space();
  const int64_t rev = s.ui.app.doc.revision();
  s.set_values("depth", "0,1");
  EXPECT_EQ(s.space(), before);
  EXPECT_EQ(s.ui.app.doc.revision(), rev);
  const probe::Drawn* err = probe::find("choice_error", "stages.1.depth");
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->text, "search space: stages.1.depth: value 0 is outside 1..256");
  EXPECT_EQ(s.ui.app.status.text, err->text);
  // A word that is not a number is refused too; so is an empty list.
  s.set_values("depth", "two");
  EXPECT_EQ(s.space(), before);
  ASSERT_NE(probe::find("choice_error", "stages.1.depth"), nullptr);
  EXPECT_NE(probe::find("choice_error", "stages.1.depth")->text.find("'two' is not an int"),
            std::string::npos);
  // A float attribute: its own limits (mlp_ratio 0.25..16).
  s.click("choice:toggle:mlp_ratio");
  s.set_values("mlp_ratio", "2, 4, 32");
  ASSERT_EQ(s.space().choices.size(), 2u);
  EXPECT_EQ(s.space().choices[1].values, (std::vector<AttrValue>{4.0}));
  ASSERT_NE(probe::find("choice_error", "stages.1.mlp_ratio"), nullptr);
  s.set_values("mlp_ratio", "2, 4");
  EXPECT_EQ(s.space().choices[1].values, (std::vector<AttrValue>{2.0, 4.0}));
  EXPECT_EQ(probe::find("choice_error", "stages.1.mlp_ratio"), nullptr);
  // The last option of a checkbox choice cannot be unticked: the toggle removes the choice.
  s.click("choice:toggle:token_mixer");
  const SearchSpace three = s.space();
  s.click("choice:token_mixer:pooling");
  EXPECT_EQ(s.space(), three);
  ASSERT_NE(probe::find("choice_error", "stages.1.token_mixer"), nullptr);
  s.click("choice:toggle:token_mixer");
  EXPECT_EQ(s.space().find("stages.1", "token_mixer"), -1);
}

TEST(SpaceUi, ABoolChoiceStartsWithBothValues) {
  SpaceUi s;
  s.click("choice:toggle:mlp_bias");
  ASSERT_EQ(s.space().choices.size(), 1u);
  EXPECT_EQ(s.space().choices[0].values, (std::vector<AttrValue>{false, true}));
  s.click("choice:mlp_bias:true");
  EXPECT_EQ(s.space().choices[0].values, (std::vector<AttrValue>{false}));
}

TEST(SpaceUi, TheBadgeIsDrawnOnTheNodeWithChoicesOnScreenAndInTheExport) {
  SpaceUi s;
  s.click("choice:toggle:depth");
  s.click("choice:toggle:token_mixer");
  s.ui.frame(2);
  const probe::Drawn* badge = probe::find("badge", "stages.1");
  ASSERT_NE(badge, nullptr);
  EXPECT_EQ(badge->count, 2);
  EXPECT_EQ(badge->text,
            "\xE2\x97\x86"
            "2");
  EXPECT_EQ(probe::find("badge", "stages.0"), nullptr);
  // Inside the node's box, in its header.
  const probe::Drawn* node = probe::find("node", "stages.1");
  ASSERT_NE(node, nullptr);
  EXPECT_GE(badge->min.x, node->min.x);
  EXPECT_LE(badge->max.x, node->max.x);
  EXPECT_GE(badge->min.y, node->min.y);
  EXPECT_LE(badge->max.y, node->min.y + fw::views::kNodeHeaderHeight + 1);

  // The scene carries it, and the exported picture draws it (its text, in the accent colour).
  const fw::Graph& g = s.ui.app.doc.graph();
  const NodeId level = g.find_path("stages");
  const fw::views::Scene scene = fw::views::build_scene(g, s.ui.app.doc.analysis(), level, {});
  const int item = scene.find(s.stage);
  ASSERT_GE(item, 0);
  EXPECT_EQ(scene.items[size_t(item)].choices, 2);
  EXPECT_EQ(scene.items[size_t(scene.find(g.find_path("stages.0")))].choices, 0);
  fw::views::RecordingCanvas rec;
  fw::views::graph_picture(g, s.ui.app.doc.analysis(), level).draw(rec, {{0, 0}, 1});
  int badges = 0;
  for (const auto& c : rec.commands())
    if (c.op == fw::views::RecordingCanvas::Op::Text && c.text ==
                                                            "\xE2\x97\x86"
                                                            "2") {
      ++badges;
      EXPECT_EQ(c.fill, fw::views::graph_palette::kAccent);
    }
  EXPECT_EQ(badges, 1);

  // Removing the choices removes the badge.
  s.click("choice:toggle:depth");
  s.click("choice:toggle:token_mixer");
  s.ui.frame(2);
  EXPECT_EQ(probe::find("badge", "stages.1"), nullptr);
}

TEST(SpaceUi, ThePanelRemovesChoicesRevealsTheirNodeAndEditsConstraints) {
  SpaceUi s;
  s.click("choice:toggle:depth");
  s.click("choice:toggle:token_mixer");
  s.show_panel();
  // A click on a choice selects its node.
  s.click("space:choice:stages.1.token_mixer");
  ASSERT_EQ(s.ui.app.editor.selection.size(), 1u);
  EXPECT_EQ(*s.ui.app.editor.selection.begin(), s.stage);
  EXPECT_EQ(probe::fact_or("inspector"), "stages.1");
  s.show_panel();
  // Constraints: a positive number with a suffix; a negative one is refused.
  s.click("space:limit:params_max");
  s.ui.type("1.5M");
  s.ui.key(k::kKeyEnter);
  s.ui.frame(2);
  ASSERT_TRUE(s.space().constraints.params_max.has_value());
  EXPECT_EQ(*s.space().constraints.params_max, 1.5e6);
  s.click("space:limit:latency_ms_max");
  s.ui.type("-3");
  s.ui.key(k::kKeyEnter);
  s.ui.frame(2);
  EXPECT_FALSE(s.space().constraints.latency_ms_max.has_value());
  const probe::Drawn* err = probe::find("space", "error");
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->text, "search space: constraint latency_ms_max must be a positive number, got -3");
  // Clearing a field removes the constraint.
  s.click("space:limit:params_max");
  s.ui.key(k::kKeyBackspace);
  s.ui.key(k::kKeyEnter);
  s.ui.frame(2);
  EXPECT_FALSE(s.space().constraints.params_max.has_value());
  // The × removes a choice (one undo step).
  s.click("space:remove:stages.1.depth");
  ASSERT_EQ(s.space().choices.size(), 1u);
  EXPECT_EQ(s.space().choices[0].attr, "token_mixer");
  EXPECT_EQ(s.panel_size(), "1");
  s.ui.key('Z', true);
  s.ui.frame(2);
  EXPECT_EQ(s.space().choices.size(), 2u);
}

TEST(SpaceUi, SavingAndReopeningTheProjectKeepsTheSpace) {
  const std::string dir = k::temp_dir("space");
  const std::string path = dir + "/space.formwork";
  SearchSpace saved;
  {
    SpaceUi s;
    s.click("choice:toggle:depth");
    s.set_values("depth", "1,2,3");
    s.click("choice:toggle:token_mixer");
    s.click("choice:token_mixer:attention");
    saved = s.space();
    ASSERT_EQ(saved.size(), 6);
    ASSERT_TRUE(fw::gui::save_as(s.ui.app, path)) << s.ui.app.error;
    EXPECT_FALSE(s.ui.app.doc.dirty());
  }
  UiDriver again;
  ASSERT_TRUE(fw::gui::open_spec(again.app, path)) << again.app.error;
  again.frame(2);
  EXPECT_EQ(fw::graph_space(again.app.doc.graph()), saved);
  EXPECT_EQ(fw::gui::space_of(again.app.doc).error, "");
  fw::gui::enter_level(again.app, again.app.doc.graph().find_path("stages"));
  again.frame(3);
  ASSERT_NE(probe::find("badge", "stages.1"), nullptr);
  EXPECT_EQ(probe::find("badge", "stages.1")->count, 2);
  fs::remove_all(dir);
}

TEST(SpacePanel, FormatsCountsAndLimits) {
  EXPECT_EQ(fw::gui::subnet_count_text(6), "6");
  EXPECT_EQ(fw::gui::subnet_count_text(12288), "12,288");
  EXPECT_EQ(fw::gui::subnet_count_text(1e6), "1,000,000 (1.00 M)");
  EXPECT_EQ(fw::gui::subnet_count_text(3.5e18), "3.5e+18");
  EXPECT_EQ(fw::gui::limit_text(1.5e6), "1.5M");
  EXPECT_EQ(fw::gui::limit_text(20.0), "20");
  EXPECT_EQ(fw::gui::limit_text(1234567.0), "1234567");
  EXPECT_EQ(fw::gui::limit_text(std::nullopt), "");
  std::optional<double> v;
  EXPECT_TRUE(fw::gui::parse_limit("500M", &v));
  EXPECT_EQ(v, 5e8);
  EXPECT_TRUE(fw::gui::parse_limit(" 1,000 ", &v));
  EXPECT_EQ(v, 1000.0);
  EXPECT_TRUE(fw::gui::parse_limit("", &v));
  EXPECT_FALSE(v.has_value());
  EXPECT_FALSE(fw::gui::parse_limit("lots", &v));
  EXPECT_EQ(fw::gui::parse_value_list("1, 2.5,,x"),
            (std::vector<AttrValue>{int64_t(1), 2.5, std::string("x")}));
}
