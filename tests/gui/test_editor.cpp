// The editor driven like a user drives it: synthetic mouse and keyboard through ImGui frames with
// no renderer (tests/gui/ui_driver.h), checked against the document underneath.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "app/panels/palette.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/project_store.h"
#include "core/templates.h"
#include "tests/gui/ui_driver.h"
#include "views/layout.h"

namespace fs = std::filesystem;
using fw::Graph;
using fw::kNoNode;
using fw::NodeId;
using fw::gui::Action;
using fw::gui::testing::UiDriver;
namespace k = fw::gui::testing;

namespace {

// input [3,8,8] -> conv (3->16, 3x3, pad 1) -> output; plus a free conv expecting 16 channels.
struct Small {
  Graph g;
  NodeId input, conv, output, conv16;
};

Small small_graph() {
  Small s;
  s.input = s.g.add(kNoNode, "input", "input",
                    {{"channels", int64_t(3)}, {"height", int64_t(8)}, {"width", int64_t(8)}});
  s.conv = s.g.add(kNoNode, "conv2d", "conv",
                   {{"in_channels", int64_t(3)},
                    {"out_channels", int64_t(16)},
                    {"kernel", int64_t(3)},
                    {"padding", int64_t(1)}});
  s.output = s.g.add(kNoNode, "output", "output");
  s.conv16 = s.g.add(kNoNode, "conv2d", "conv16",
                     {{"in_channels", int64_t(16)}, {"out_channels", int64_t(8)}});
  s.g.connect({s.input, 0}, s.conv, 0);
  s.g.connect({s.conv, 0}, s.output, 0);
  return s;
}

int palette_index(const std::string& label) {
  const auto& e = fw::gui::palette_entries();
  for (size_t i = 0; i < e.size(); ++i)
    if (e[i].label == label) return static_cast<int>(i);
  return -1;
}

bool inside(ImVec2 p, ImVec2 a, ImVec2 b) {
  return p.x >= a.x && p.x <= b.x && p.y >= a.y && p.y <= b.y;
}

}  // namespace

TEST(EditorUi, AddsNodeFromPaletteByDragAndDrop) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  std::snprintf(ui.view->palette().filter, sizeof ui.view->palette().filter, "Conv2d");
  ui.frame(3);
  const ImVec2 entry = ui.at("palette:Conv2d");
  ASSERT_GT(entry.x, 0) << "the palette did not draw Conv2d";
  const size_t before = ui.app.doc.graph().size();
  const ImVec2 drop((ui.canvas().canvas_min().x + ui.canvas().canvas_max().x) * 0.5f,
                    ui.canvas().canvas_max().y - 80);
  ui.drag(entry, drop, 12);
  ui.frame(2);
  ASSERT_EQ(ui.app.doc.graph().size(), before + 1);
  ASSERT_EQ(ui.app.editor.selection.size(), 1u);
  const NodeId added = *ui.app.editor.selection.begin();
  EXPECT_EQ(ui.app.doc.graph().node(added).kind, "conv2d");
  EXPECT_EQ(ui.app.doc.graph().node(added).name, "conv2d");
  // It landed where it was dropped.
  ImVec2 a, b;
  ASSERT_TRUE(ui.canvas().node_rect(added, &a, &b));
  EXPECT_TRUE(inside(drop, a, b));
  // One undo step takes it away, redo brings it back.
  ui.key('Z', true);
  EXPECT_EQ(ui.app.doc.graph().size(), before);
  ui.key('Z', true, true);
  EXPECT_EQ(ui.app.doc.graph().size(), before + 1);
}

TEST(EditorUi, AddsMetaFormerBlockWithChosenMixerAndLaysOutItsInside) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(2);
  const int entry = palette_index("MetaFormer block \xC2\xB7 attention");
  ASSERT_GE(entry, 0);
  ASSERT_TRUE(ui.canvas().add_entry_at_center(ui.app, entry).ok);
  const NodeId block = *ui.app.editor.selection.begin();
  const fw::Node& n = ui.app.doc.graph().node(block);
  EXPECT_EQ(n.kind, "metaformer_block");
  EXPECT_EQ(n.attrs.s("token_mixer"), "attention");
  EXPECT_FALSE(fw::views::level_needs_layout(ui.app.doc.graph(), block));
  ASSERT_TRUE(ui.app.doc.undo());  // add + layout were one step
  EXPECT_FALSE(ui.app.doc.graph().contains(block));
}

TEST(EditorUi, ConnectsTwoPortsByDraggingAndUndoes) {
  UiDriver ui;
  Small s = small_graph();
  s.g.set_attr(s.conv16, "in_channels", int64_t(16));
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(3);
  ASSERT_FALSE(ui.app.doc.graph().node(s.conv16).inputs[0].connected());
  ui.drag(ui.port(s.conv, 0, true), ui.port(s.conv16, 0, false));
  EXPECT_EQ(ui.app.doc.graph().node(s.conv16).inputs[0], (fw::PortRef{s.conv, 0}));
  EXPECT_EQ(ui.app.doc.analysis().of(s.conv16)->out[0], (fw::Shape{8, 8, 8}));
  // The other direction works too: input port to output port.
  ui.key('Z', true);
  EXPECT_FALSE(ui.app.doc.graph().node(s.conv16).inputs[0].connected());
  ui.drag(ui.port(s.conv16, 0, false), ui.port(s.conv, 0, true));
  EXPECT_TRUE(ui.app.doc.graph().node(s.conv16).inputs[0].connected());
  ui.key('Z', true);
  ui.key('Y', true);  // Ctrl+Y redoes
  EXPECT_TRUE(ui.app.doc.graph().node(s.conv16).inputs[0].connected());
}

TEST(EditorUi, RefusesBadConnectionAndShowsTheReasonAtThePort) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(3);
  const int64_t rev = ui.app.doc.revision();
  // input gives 3 channels; conv16 expects 16.
  ui.drag(ui.port(s.input, 0, true), ui.port(s.conv16, 0, false));
  EXPECT_EQ(ui.app.doc.revision(), rev);
  EXPECT_FALSE(ui.app.doc.graph().node(s.conv16).inputs[0].connected());
  const fw::gui::Refusal& r = ui.app.editor.refusal;
  EXPECT_EQ(r.node, s.conv16);
  EXPECT_EQ(r.port, 0);
  EXPECT_NE(r.reason.find("16"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("3"), std::string::npos) << r.reason;
  ui.frame();
  EXPECT_EQ(ui.canvas().drawn_refusal(), r.reason);  // drawn at the port
  EXPECT_EQ(ui.app.status.text, r.reason);           // and in the status bar
  // It fades after a few seconds.
  ui.wait(7);
  EXPECT_TRUE(ui.canvas().drawn_refusal().empty());
}

TEST(EditorUi, EditsAttributeInInspectorAndShapesFollow) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(3);
  ui.click(ui.node_center(s.conv));
  ASSERT_EQ(ui.app.editor.selection, (std::set<NodeId>{s.conv}));
  ui.frame(2);
  const ImVec2 field = ui.at("attr:out_channels");
  ASSERT_GT(field.x, 0);
  // Ctrl+click turns the drag into a text field; type the new value.
  ImGuiIO& io = ImGui::GetIO();
  ui.mouse(field);
  io.KeyCtrl = true;
  ui.press();
  ui.release();
  io.KeyCtrl = false;
  ui.key('A', true);  // select all
  ui.type("32");
  ui.key(k::kKeyEnter);
  EXPECT_EQ(ui.app.doc.graph().node(s.conv).attrs.i("out_channels"), 32);
  EXPECT_EQ(ui.app.doc.analysis().of(s.conv)->out[0], (fw::Shape{32, 8, 8}));
  EXPECT_EQ(ui.app.doc.analysis().of(s.output)->in[0], (fw::Shape{32, 8, 8}));
  ui.key('Z', true);
  EXPECT_EQ(ui.app.doc.graph().node(s.conv).attrs.i("out_channels"), 16);
  EXPECT_EQ(ui.app.doc.analysis().of(s.output)->in[0], (fw::Shape{16, 8, 8}));
  ui.key('Z', true, true);
  EXPECT_EQ(ui.app.doc.graph().node(s.conv).attrs.i("out_channels"), 32);
}

TEST(EditorUi, DraggingAValueIsOneUndoStep) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(2);
  ui.click(ui.node_center(s.conv));
  ui.frame(2);
  const ImVec2 field = ui.at("attr:out_channels");
  ui.drag(field, ImVec2(field.x + 60, field.y), 10);
  const int64_t v = ui.app.doc.graph().node(s.conv).attrs.i("out_channels");
  EXPECT_GT(v, 16);
  ASSERT_TRUE(ui.app.doc.undo());
  EXPECT_EQ(ui.app.doc.graph().node(s.conv).attrs.i("out_channels"), 16);
  EXPECT_FALSE(ui.app.doc.can_undo());
}

TEST(EditorUi, BoxSelectAndDragMovesEverySelectedNodeInOneStep) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(3);
  // A box around everything, from an empty corner of the canvas.
  const ImVec2 cmin = ui.canvas().canvas_min(), cmax = ui.canvas().canvas_max();
  ui.drag(ImVec2(cmin.x + 5, cmin.y + 5), ImVec2(cmax.x - 5, cmax.y - 5));
  EXPECT_EQ(ui.app.editor.selection.size(), 4u);
  const float x0 = ui.app.doc.graph().node(s.input).x, x1 = ui.app.doc.graph().node(s.conv16).x;
  const ImVec2 from = ui.node_center(s.conv);
  const float z = ui.canvas().pixels_per_unit();
  ui.drag(from, ImVec2(from.x + 50, from.y + 20), 6);
  EXPECT_NEAR(ui.app.doc.graph().node(s.input).x, x0 + 50 / z, 1.0f);
  EXPECT_NEAR(ui.app.doc.graph().node(s.conv16).x, x1 + 50 / z, 1.0f);
  EXPECT_EQ(ui.app.doc.undo_label(), "Move");
  ui.key('Z', true);
  EXPECT_FLOAT_EQ(ui.app.doc.graph().node(s.input).x, x0);
  EXPECT_FLOAT_EQ(ui.app.doc.graph().node(s.conv16).x, x1);
}

TEST(EditorUi, ShiftClickAddsAndRemovesAndEscapeClears) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(3);
  ui.click(ui.node_center(s.conv));
  ImGui::GetIO().KeyShift = true;
  ui.click(ui.node_center(s.output));
  EXPECT_EQ(ui.app.editor.selection, (std::set<NodeId>{s.conv, s.output}));
  ui.click(ui.node_center(s.conv));
  ImGui::GetIO().KeyShift = false;
  ui.frame();
  EXPECT_EQ(ui.app.editor.selection, (std::set<NodeId>{s.output}));
  ui.key(k::kKeyEscape);
  EXPECT_TRUE(ui.app.editor.selection.empty());
}

TEST(EditorUi, CopyPasteDuplicateAndDeleteFromTheKeyboard) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(3);
  const size_t n0 = ui.app.doc.graph().size();
  ui.click(ui.node_center(s.conv));
  ui.key('D', true);
  ASSERT_EQ(ui.app.doc.graph().size(), n0 + 1);
  const NodeId dup = *ui.app.editor.selection.begin();
  EXPECT_NE(dup, s.conv);
  EXPECT_EQ(ui.app.doc.graph().node(dup).name, "conv_1");  // a fresh name among its siblings
  ui.key('C', true);
  ui.mouse(ImVec2(ui.canvas().canvas_min().x + 40, ui.canvas().canvas_min().y + 40));
  ui.key('V', true);
  ASSERT_EQ(ui.app.doc.graph().size(), n0 + 2);
  const NodeId pasted = *ui.app.editor.selection.begin();
  ImVec2 a, b;
  ASSERT_TRUE(ui.canvas().node_rect(pasted, &a, &b));
  EXPECT_NEAR(a.x, ui.canvas().canvas_min().x + 40, 2);  // at the mouse
  ui.key(k::kKeyDelete);
  EXPECT_EQ(ui.app.doc.graph().size(), n0 + 1);
  EXPECT_FALSE(ui.app.doc.graph().contains(pasted));
  ui.key('Z', true);
  EXPECT_TRUE(ui.app.doc.graph().contains(pasted));
}

TEST(EditorUi, DoubleClickEntersAGroupAndTheBreadcrumbGoesBack) {
  UiDriver ui;
  fw::gui::load_graph(ui.app, fw::build_template("poolformer_s12", {{3, 64, 64}, 10}),
                      fw::gui::Source::Template, "", "poolformer_s12");
  ui.frame(3);
  const NodeId stages = ui.app.doc.graph().find_path("stages");
  ASSERT_NE(stages, kNoNode);
  ui.double_click(ui.node_center(stages));
  ui.frame();
  EXPECT_EQ(ui.app.editor.container, stages);
  // The canvas shows its children and its boundary ports.
  EXPECT_GE(ui.canvas().scene().find(ui.app.doc.graph().find_path("stages.0")), 0);
  EXPECT_GE(ui.canvas().scene().in_item, 0);
  EXPECT_GE(ui.canvas().scene().out_item, 0);
  ImVec2 p;
  EXPECT_TRUE(ui.canvas().port_pos(stages, 0, true, &p));  // its input, seen from inside
  ui.click(ui.at("crumb:0"));
  EXPECT_EQ(ui.app.editor.container, kNoNode);
  EXPECT_EQ(ui.app.editor.selection, (std::set<NodeId>{stages}));
  ui.key(k::kKeyEnter);  // Enter goes back in
  EXPECT_EQ(ui.app.editor.container, stages);
  ui.key(k::kKeyEscape);  // nothing selected: Esc goes up
  EXPECT_EQ(ui.app.editor.container, kNoNode);
}

TEST(EditorUi, OpenInPlaceDrawsChildrenInsideTheFrame) {
  UiDriver ui;
  fw::gui::load_graph(ui.app, fw::build_template("poolformer_s12", {{3, 64, 64}, 10}),
                      fw::gui::Source::Template, "", "poolformer_s12");
  ui.frame(3);
  const NodeId stages = ui.app.doc.graph().find_path("stages");
  ImVec2 a, b;
  ASSERT_TRUE(ui.canvas().node_rect(stages, &a, &b));
  ui.click(ImVec2(b.x - 6, a.y + 5));  // the chevron
  ui.frame();
  EXPECT_TRUE(ui.app.editor.expanded.count(stages));
  const fw::views::Scene& sc = ui.canvas().scene();
  const int frame = sc.find(stages);
  ASSERT_GE(frame, 0);
  EXPECT_EQ(sc.items[frame].kind, fw::views::SceneItem::Kind::Frame);
  for (NodeId c : ui.app.doc.graph().node(stages).children) {
    const int i = sc.find(c);
    ASSERT_GE(i, 0);
    EXPECT_EQ(sc.items[i].parent, frame);
    EXPECT_GE(sc.items[i].x0, sc.items[frame].x0);
    EXPECT_LE(sc.items[i].x1, sc.items[frame].x1);
    EXPECT_GE(sc.items[i].y0, sc.items[frame].y0);
    EXPECT_LE(sc.items[i].y1, sc.items[frame].y1);
  }
  // Siblings right of it were pushed aside: nothing overlaps the frame.
  for (NodeId id : ui.app.doc.graph().children(kNoNode)) {
    if (id == stages) continue;
    const auto& it = sc.items[sc.find(id)];
    const auto& f = sc.items[frame];
    EXPECT_TRUE(it.x1 <= f.x0 || it.x0 >= f.x1 || it.y1 <= f.y0 || it.y0 >= f.y1) << it.title;
  }
  ui.click(ui.node_header(stages));
  ui.key('E');
  EXPECT_FALSE(ui.app.editor.expanded.count(stages));
}

TEST(EditorUi, WheelZoomsAroundTheCursorAndFFramesAll) {
  UiDriver ui;
  fw::gui::load_graph(ui.app, fw::build_template("poolformer_s12", {{3, 64, 64}, 10}),
                      fw::gui::Source::Template, "", "poolformer_s12");
  ui.frame(3);
  const ImVec2 at(ui.canvas().canvas_min().x + 200, ui.canvas().canvas_min().y + 150);
  ui.mouse(at);
  const ImVec2 before = ui.canvas().to_canvas(at);
  const float z0 = ui.canvas().pixels_per_unit();
  ui.wheel(at, 3);
  ui.frame();
  EXPECT_GT(ui.canvas().pixels_per_unit(), z0 * 1.4f);
  const ImVec2 after = ui.canvas().to_canvas(at);
  EXPECT_NEAR(after.x, before.x, 0.5f);
  EXPECT_NEAR(after.y, before.y, 0.5f);
  ui.key('F');
  const ImVec2 cmin = ui.canvas().canvas_min(), cmax = ui.canvas().canvas_max();
  for (NodeId id : ui.app.doc.graph().children(kNoNode)) {
    ImVec2 a, b;
    ASSERT_TRUE(ui.canvas().node_rect(id, &a, &b));
    EXPECT_TRUE(inside(a, cmin, cmax) && inside(b, cmin, cmax));
  }
  // Middle-drag pans.
  const ImVec2 c0 = ui.canvas().to_canvas(at);
  ui.drag(at, ImVec2(at.x + 40, at.y), 4, 2);
  EXPECT_NEAR(ui.canvas().to_canvas(at).x, c0.x - 40 / ui.canvas().pixels_per_unit(), 0.5f);
}

TEST(EditorUi, ClickingAProblemSelectsItsNodeAndEntersItsGroup) {
  UiDriver ui;
  Graph g = fw::build_template("poolformer_s12", {{3, 64, 64}, 10});
  g.set_attr(g.find_path("head.fc"), "in_features", int64_t(320));
  fw::gui::load_graph(ui.app, std::move(g), fw::gui::Source::Json, "", "broken.json");
  ui.frame(3);
  ASSERT_FALSE(ui.app.doc.analysis().problems.empty());
  ui.click(ui.at("problem:0"));
  const NodeId fc = ui.app.doc.graph().find_path("head.fc");
  EXPECT_EQ(ui.app.editor.selection, (std::set<NodeId>{fc}));
  EXPECT_EQ(ui.app.editor.container, ui.app.doc.graph().find_path("head"));
  ui.frame(2);
  EXPECT_TRUE(ui.canvas().scene().items[ui.canvas().scene().find(fc)].problem);
}

TEST(EditorUi, ContextMenuOnALinkDeletesIt) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(3);
  // The middle of the conv -> output link.
  const ImVec2 a = ui.port(s.conv, 0, true), b = ui.port(s.output, 0, false);
  const ImVec2 mid((a.x + b.x) * 0.5f, (a.y + b.y) * 0.5f);
  ui.click(mid, 1);
  ui.frame();
  ui.click(ui.at("menu:delete_link"));
  EXPECT_FALSE(ui.app.doc.graph().node(s.output).inputs[0].connected());
  ui.key('Z', true);
  EXPECT_TRUE(ui.app.doc.graph().node(s.output).inputs[0].connected());
  // Click selects a link, Del deletes it.
  ui.click(mid);
  EXPECT_GE(ui.canvas().selected_link(), 0);
  ui.key(k::kKeyDelete);
  EXPECT_FALSE(ui.app.doc.graph().node(s.output).inputs[0].connected());
}

TEST(EditorUi, ABlocksInsideIsBuiltFromItsAttributes) {
  UiDriver ui;
  fw::gui::load_graph(ui.app, fw::build_template("poolformer_s12", {{3, 64, 64}, 10}),
                      fw::gui::Source::Template, "", "poolformer_s12");
  const NodeId block = ui.app.doc.graph().find_path("stages.0.blocks.0");
  fw::gui::enter_level(ui.app, block);
  ui.frame(3);
  const NodeId norm = ui.app.doc.graph().find_path("stages.0.blocks.0.norm1");
  ui.click(ui.node_center(norm));
  const int64_t rev = ui.app.doc.revision();
  ui.key(k::kKeyDelete);
  EXPECT_EQ(ui.app.doc.revision(), rev);
  EXPECT_NE(ui.app.status.text.find("builds its children"), std::string::npos)
      << ui.app.status.text;
  // Moving is fine (positions are the view's).
  const ImVec2 c = ui.node_center(norm);
  ui.drag(c, ImVec2(c.x, c.y + 40));
  EXPECT_NE(ui.app.doc.revision(), rev);
  // Changing the block's mixer rebuilds it, laid out, in one step.
  fw::gui::enter_level(ui.app, ui.app.doc.graph().node(block).parent);
  ASSERT_TRUE(fw::gui::set_node_attr(ui.app, block, "token_mixer", std::string("sepconv")).ok);
  EXPECT_FALSE(fw::views::level_needs_layout(ui.app.doc.graph(), block));
  EXPECT_EQ(ui.app.doc.undo_label(), "Set token_mixer");
}

TEST(EditorUi, SaveAsThroughTheFileBrowserThenReopenGivesTheSameGraph) {
  UiDriver ui;
  const std::string dir = fw::gui::testing::temp_dir("save");
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(2);
  ASSERT_TRUE(fw::gui::set_node_attr(ui.app, s.conv, "out_channels", int64_t(24)).ok);
  EXPECT_NE(fw::gui::window_title(ui.app).find("\xE2\x80\xA2"), std::string::npos);  // •
  ui.key('S', true);  // untitled: Save asks where
  ASSERT_EQ(ui.view->dialog(), "files");
  EXPECT_EQ(ui.view->files().mode(), fw::gui::FileBrowser::Mode::Save);
  ui.view->files().set_dir(dir);
  ui.view->files().set_name("model");
  ui.view->files().request_confirm();
  ui.frame(2);
  const std::string path = dir + "/model.formwork";
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(ui.app.doc.dirty());
  EXPECT_EQ(fw::gui::window_title(ui.app).find("\xE2\x80\xA2"), std::string::npos);
  EXPECT_EQ(ui.app.path, path);

  fw::gui::AppState again;
  ASSERT_TRUE(fw::gui::open_spec(again, path)) << again.error;
  EXPECT_EQ(fw::graph_to_json(again.doc.graph()), fw::graph_to_json(ui.app.doc.graph()));
  EXPECT_TRUE(again.doc.graph() == ui.app.doc.graph());

  // Later saves go to the same file without asking.
  ASSERT_TRUE(fw::gui::set_node_attr(ui.app, s.conv, "out_channels", int64_t(8)).ok);
  ui.key('S', true);
  EXPECT_EQ(ui.view->dialog(), "");
  EXPECT_FALSE(ui.app.doc.dirty());
  ASSERT_TRUE(fw::gui::open_spec(again, path));
  EXPECT_EQ(again.doc.graph().node(s.conv).attrs.i("out_channels"), 8);
  fs::remove_all(dir);
}

TEST(EditorUi, SavingAProjectKeepsItsWeightsAndRuns) {
  const std::string dir = fw::gui::testing::temp_dir("keep");
  const std::string path = dir + "/p.formwork";
  Small s = small_graph();
  fw::ProjectData p;
  p.graph_json = fw::graph_to_json(s.g);
  p.weights["conv.weight"] = fw::Tensor({16, 3, 3, 3}, 0.5f);
  fw::TrainingRun run;
  run.status = "done";
  run.curve.push_back({1, 0.5, "train_loss", 2.0});
  p.runs.push_back(run);
  p.meta["note"] = "keep me";
  fw::save_project(path, p);

  UiDriver ui;
  ASSERT_TRUE(fw::gui::open_spec(ui.app, path)) << ui.app.error;
  EXPECT_FALSE(ui.app.read_only());
  ui.frame(2);
  ASSERT_TRUE(ui.app.doc.rename(s.conv16, "spare").ok);
  ui.key('S', true);
  EXPECT_FALSE(ui.app.doc.dirty());
  const fw::ProjectData q = fw::load_project(path);
  EXPECT_EQ(q.weights.size(), 1u);
  EXPECT_EQ(q.weights.at("conv.weight").data[0], 0.5f);
  ASSERT_EQ(q.runs.size(), 1u);
  EXPECT_EQ(q.runs[0].curve.size(), 1u);
  EXPECT_EQ(q.meta.at("note"), "keep me");
  EXPECT_NE(q.graph_json.find("spare"), std::string::npos);
  fs::remove_all(dir);
}

TEST(EditorUi, ATemplateIsReadOnlySoSaveAsksForAFile) {
  UiDriver ui;
  ASSERT_TRUE(fw::gui::open_spec(ui.app, "poolformer_s12"));
  EXPECT_TRUE(ui.app.read_only());
  ui.frame(2);
  EXPECT_EQ(fw::gui::save(ui.app), fw::gui::SaveResult::NeedsPath);
  ui.key('S', true);
  EXPECT_EQ(ui.view->dialog(), "files");
}

TEST(EditorUi, UnsavedChangesArePromptedBeforeNew) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(2);
  ASSERT_TRUE(ui.app.doc.move({s.conv}, 10, 0).ok);
  ui.key('N', true);
  ASSERT_EQ(ui.view->dialog(), "unsaved");
  ui.click(ui.at("unsaved:cancel"));
  ui.frame();
  EXPECT_EQ(ui.view->dialog(), "");
  EXPECT_TRUE(ui.app.doc.dirty());
  ui.key('N', true);
  ui.click(ui.at("unsaved:discard"));
  ui.frame(2);
  ASSERT_EQ(ui.view->dialog(), "templates");
  ui.view->gallery().use_defaults = false;
  ui.view->gallery().input[1] = ui.view->gallery().input[2] = 64;
  ui.view->gallery().classes = 10;
  ui.click(ui.at("template:caformer_s18"));
  ui.click(ui.at("template:create"));
  ui.frame();
  EXPECT_EQ(ui.app.name, "Untitled (caformer_s18)");
  EXPECT_TRUE(ui.app.doc.analysis().ok());
  EXPECT_FALSE(ui.app.doc.dirty());
  EXPECT_NE(ui.app.doc.graph().find_path("stages.3"), kNoNode);
  // Quit with changes asks too; the window closes only after an answer.
  ASSERT_TRUE(ui.app.doc.move({ui.app.doc.graph().children(kNoNode)[0]}, 5, 5).ok);
  EXPECT_FALSE(ui.view->request_close());
  ui.frame();
  ASSERT_EQ(ui.view->dialog(), "unsaved");
  ui.click(ui.at("unsaved:discard"));
  EXPECT_TRUE(ui.view->quit_requested());
}

TEST(EditorUi, ABadFileShowsTheErrorAndKeepsTheDocument) {
  UiDriver ui;
  const std::string dir = fw::gui::testing::temp_dir("bad");
  const std::string bad = dir + "/bad.json";
  std::ofstream(bad) << "{ this is not json";
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame();
  const std::string before = fw::graph_to_json(ui.app.doc.graph());
  EXPECT_FALSE(fw::gui::open_spec(ui.app, bad));
  ui.frame(2);
  EXPECT_EQ(ui.view->dialog(), "error");
  EXPECT_NE(ui.app.error.find("bad.json"), std::string::npos);
  EXPECT_EQ(fw::graph_to_json(ui.app.doc.graph()), before);
  ui.click(ui.at("error:ok"));
  ui.frame();
  EXPECT_TRUE(ui.app.error.empty());
  EXPECT_EQ(ui.view->dialog(), "");
  fs::remove_all(dir);
}

// #16: a project whose stored weight claims a shape no machine could hold (2^40 x 1024 floats) is
// refused on opening with the size it would need; the open document stays, nothing is allocated.
TEST(EditorUi, AProjectClaimingAHugeWeightShowsWhatItWouldNeedAndKeepsTheDocument) {
  const std::string dir = fw::gui::testing::temp_dir("huge");
  const std::string path = dir + "/huge.formwork";
  Small s = small_graph();
  fw::ProjectData p;
  p.graph_json = fw::graph_to_json(s.g);
  p.weights["conv.weight"] = fw::Tensor({16, 3, 3, 3}, 0.5f);
  fw::save_project(path, p);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE weights SET shape = '[1099511627776, 1024]'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);

  UiDriver ui;
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame();
  const std::string before = fw::graph_to_json(ui.app.doc.graph());
  EXPECT_FALSE(fw::gui::open_spec(ui.app, path));
  ui.frame(2);
  EXPECT_EQ(ui.view->dialog(), "error");
  EXPECT_NE(ui.app.error.find("huge.formwork"), std::string::npos) << ui.app.error;
  EXPECT_NE(ui.app.error.find("which would need 4.50 PB"), std::string::npos) << ui.app.error;
  EXPECT_EQ(fw::graph_to_json(ui.app.doc.graph()), before);
  fs::remove_all(dir);
}

// An architecture whose MAC count exceeds int64 (two 64x64 convs of 4.6e18 MACs each at
// 4096x8192x8192) opens with the analysis' problem, and every panel draws the saturated count
// (">9.2E") instead of a wrapped one; nothing is allocated for its huge tensors.
TEST(EditorUi, AnArchitectureWhoseMacCountOverflowsOpensWithTheProblem) {
  UiDriver ui;
  const std::string dir = fw::gui::testing::temp_dir("macs");
  const std::string path = dir + "/macs_sum.json";
  std::ofstream(path) << R"({"format": "formwork-graph", "version": 1, "meta": {}, "nodes": [
    {"id": 1, "parent": 0, "name": "input", "kind": "input",
     "attrs": {"channels": 4096, "height": 8192, "width": 8192}, "inputs": []},
    {"id": 2, "parent": 0, "name": "stage", "kind": "group", "inputs": [{"node": 1, "port": 0}],
     "outputs": [{"node": 4, "port": 0}]},
    {"id": 3, "parent": 2, "name": "conv0", "kind": "conv2d",
     "attrs": {"in_channels": 4096, "out_channels": 4096, "kernel": 64, "padding": 32},
     "inputs": [{"node": 2, "port": 0, "group_input": true}]},
    {"id": 4, "parent": 2, "name": "conv1", "kind": "conv2d",
     "attrs": {"in_channels": 4096, "out_channels": 4096, "kernel": 64, "padding": 31},
     "inputs": [{"node": 3, "port": 0}]},
    {"id": 5, "parent": 0, "name": "pool", "kind": "global_avg_pool",
     "inputs": [{"node": 2, "port": 0}]},
    {"id": 6, "parent": 0, "name": "fc", "kind": "linear",
     "attrs": {"in_features": 4096, "out_features": 10}, "inputs": [{"node": 5, "port": 0}]},
    {"id": 7, "parent": 0, "name": "output", "kind": "output", "inputs": [{"node": 6, "port": 0}]}
  ]})";
  ASSERT_TRUE(fw::gui::open_spec(ui.app, path)) << ui.app.error;
  ui.frame(3);
  const fw::Analysis& a = ui.app.doc.analysis();
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.problems.front().message, "stage: MAC count exceeds 9.2e18 (int64)");
  EXPECT_EQ(a.total_macs, fw::kCountOverflow);
  EXPECT_EQ(fw::format_count(a.total_macs), ">9.2E");
  fs::remove_all(dir);
}

// A failure the code did not expect, thrown from inside a frame (after the main window began),
// does not end the program: the next frames draw, the error dialog gives the reason, and the
// document is unchanged.
TEST(EditorUi, AnUnexpectedExceptionInAFrameShowsTheReason) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame();
  const std::string before = fw::graph_to_json(ui.app.doc.graph());
  fw::gui::testing::set_frame_hook([] { throw std::out_of_range("vector index 7 of 3"); });
  ui.frame(3);
  EXPECT_EQ(ui.view->dialog(), "error");
  EXPECT_NE(ui.app.error.find("vector index 7 of 3"), std::string::npos) << ui.app.error;
  EXPECT_EQ(fw::graph_to_json(ui.app.doc.graph()), before);
  ui.click(ui.at("error:ok"));
  ui.frame();
  EXPECT_TRUE(ui.app.error.empty());
  EXPECT_EQ(ui.view->dialog(), "");
}

TEST(EditorUi, FileBrowserListsFoldersAndFormworkFiles) {
  const std::string dir = fw::gui::testing::temp_dir("browse");
  fs::create_directories(dir + "/models");
  std::ofstream(dir + "/a.formwork") << "x";
  std::ofstream(dir + "/b.json") << "{}";
  std::ofstream(dir + "/notes.txt") << "x";
  fw::gui::FileBrowser fb;
  fb.set_dir(dir);
  std::vector<std::string> names;
  for (const auto& e : fb.entries()) names.push_back(e.name + (e.dir ? "/" : ""));
  EXPECT_EQ(names, (std::vector<std::string>{"models/", "a.formwork", "b.json"}));
  fb.filter = 1;
  fb.set_dir(dir);
  EXPECT_EQ(fb.entries().size(), 4u);
  fb.set_dir(dir + "/does-not-exist");
  EXPECT_FALSE(fb.error().empty());
  fs::remove_all(dir);
}

TEST(EditorUi, FullFrameOfALargeModelDraws) {
  UiDriver ui;
  fw::gui::load_graph(ui.app, fw::build_template("poolformer_m48"), fw::gui::Source::Template, "",
                      "poolformer_m48");
  ui.view->run(Action::OpenAll);
  ui.frame(3);
  const fw::views::Scene& scene = ui.canvas().scene();
  EXPECT_GT(scene.items.size(), 500u);
  // What the last frame drew (ui_probe.h): exactly the items on screen after Frame all (even at
  // the least zoom the model is wider than the canvas: its middle shows), every group among them
  // open in place (a frame), none closed, whole blocks with their insides.
  const ImVec2 c0 = ui.canvas().canvas_min(), c1 = ui.canvas().canvas_max();
  std::set<std::string> on_screen;
  for (const fw::views::SceneItem& it : scene.items) {
    const ImVec2 a = ui.canvas().to_screen(it.x0, it.y0), b = ui.canvas().to_screen(it.x1, it.y1);
    if (b.x >= c0.x && a.x <= c1.x && b.y >= c0.y && a.y <= c1.y)
      on_screen.insert(ui.app.doc.graph().path(it.id));
  }
  std::set<std::string> drawn;
  int blocks = 0;
  for (const fw::gui::probe::Drawn* d : fw::gui::probe::items("node")) {
    drawn.insert(d->id);
    EXPECT_FALSE(d->has("container") && !d->has("open")) << d->id << " is drawn closed";
    const size_t at = d->id.rfind(".blocks.");
    blocks += d->has("open") && at != std::string::npos &&
              d->id.find('.', at + 8) == std::string::npos;  // stages.S.blocks.B
  }
  EXPECT_EQ(drawn, on_screen);
  EXPECT_GE(drawn.size(), 80u);
  EXPECT_GE(blocks, 5);
  EXPECT_EQ(drawn.count("stages"), 1u);
  EXPECT_EQ(fw::gui::probe::fact_or("level", "?"), "");
}

TEST(RecentFiles, MissingOrCorruptIsAnEmptyListAndRememberingRewritesIt) {
  const std::string dir = fw::gui::testing::temp_dir("recent");
  EXPECT_TRUE(fw::gui::load_recent(dir + "/none").empty());
  std::ofstream(dir + "/recent.json") << "{ corrupt";
  EXPECT_TRUE(fw::gui::load_recent(dir).empty());
  std::ofstream(dir + "/recent.json") << "{\"recent\": [\"/x/a.formwork\", 3, \"/x/b.json\"]}";
  EXPECT_EQ(fw::gui::load_recent(dir), (std::vector<std::string>{"/x/a.formwork", "/x/b.json"}));
  fw::gui::AppState app;
  app.config_dir = dir;
  app.recent = fw::gui::load_recent(dir);
  fw::gui::remember_recent(app, "/x/b.json");
  fw::gui::remember_recent(app, "/x/c.formwork");
  EXPECT_EQ(fw::gui::load_recent(dir),
            (std::vector<std::string>{"/x/c.formwork", "/x/b.json", "/x/a.formwork"}));
  fs::remove_all(dir);
}

TEST(EditorUi, BuildsAGroupThroughItsBoundaryPorts) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(2);
  ASSERT_TRUE(ui.canvas().add_entry_at_center(ui.app, palette_index("Group")).ok);
  const NodeId group = *ui.app.editor.selection.begin();
  ui.key(k::kKeyEnter);
  ASSERT_EQ(ui.app.editor.container, group);
  ASSERT_TRUE(ui.canvas().add_entry_at_center(ui.app, palette_index("GELU")).ok);
  const NodeId act = *ui.app.editor.selection.begin();
  ui.view->run(Action::Arrange);
  ui.frame(2);
  // Group input (seen from inside) -> act -> group output.
  ui.drag(ui.port(group, 0, true), ui.port(act, 0, false));
  ui.drag(ui.port(act, 0, true), ui.port(group, 0, false));
  const fw::Node& g = ui.app.doc.graph().node(group);
  EXPECT_EQ(ui.app.doc.graph().node(act).inputs[0], (fw::PortRef{group, 0, true}));
  EXPECT_EQ(g.outputs[0], (fw::PortRef{act, 0}));
  // Back up: feed the group from conv; its output carries conv's shape through the GELU.
  ui.key(k::kKeyEscape);
  ui.key(k::kKeyEscape);
  ASSERT_EQ(ui.app.editor.container, kNoNode);
  ui.frame(2);
  ui.drag(ui.port(s.conv, 0, true), ui.port(group, 0, false));
  EXPECT_EQ(ui.app.doc.analysis().of(group)->out[0], (fw::Shape{16, 8, 8}));
}

TEST(EditorUi, ContextMenuAddsANodeWhereTheCanvasWasClicked) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(2);
  const ImVec2 at(ui.canvas().canvas_min().x + 120, ui.canvas().canvas_max().y - 120);
  ui.click(at, 1);
  ui.frame();
  ui.click(ui.at("menu:add"));
  ui.frame();
  ui.type("linear");  // the search field has the keyboard
  ui.frame();
  const size_t n0 = ui.app.doc.graph().size();
  ui.click(ui.at("menu:add:Linear"));
  ASSERT_EQ(ui.app.doc.graph().size(), n0 + 1);
  const NodeId added = *ui.app.editor.selection.begin();
  EXPECT_EQ(ui.app.doc.graph().node(added).kind, "linear");
  ui.frame();
  ImVec2 a, b;
  ASSERT_TRUE(ui.canvas().node_rect(added, &a, &b));
  EXPECT_TRUE(inside(at, a, b));
}

TEST(EditorUi, F2RenamesTheSelectedNode) {
  UiDriver ui;
  Small s = small_graph();
  fw::gui::load_graph(ui.app, s.g, fw::gui::Source::Untitled, "", "small");
  ui.frame(2);
  ui.click(ui.node_center(s.conv));
  ui.key(k::kKeyF2);
  ui.key('A', true);
  ui.type("stem_conv");
  ui.key(k::kKeyEnter);
  EXPECT_EQ(ui.app.doc.graph().node(s.conv).name, "stem_conv");
  EXPECT_EQ(ui.app.doc.undo_label(), "Rename");
}

TEST(EditorUi, TheBundledSampleIsNeverSavedOverAndSaveAsCarriesItsData) {
  const std::string dir = fw::gui::testing::temp_dir("bundled");
  const std::string sample = dir + "/sample.formwork";
  Small s = small_graph();
  fw::ProjectData p;
  p.graph_json = fw::graph_to_json(s.g);
  p.weights["conv.weight"] = fw::Tensor({16, 3, 3, 3}, 0.25f);
  fw::save_project(sample, p);
  const auto stamp = fs::last_write_time(sample);

  UiDriver ui;
  ASSERT_TRUE(fw::gui::open_spec(ui.app, sample));
  ui.app.bundled = true;  // as run_gui opens assets/sample.formwork
  ui.frame(2);
  ASSERT_TRUE(ui.app.doc.rename(s.conv16, "spare").ok);
  ui.key('S', true);
  EXPECT_EQ(ui.view->dialog(), "files");
  EXPECT_EQ(fs::last_write_time(sample), stamp);
  ASSERT_TRUE(fw::gui::save_as(ui.app, dir + "/mine.formwork"));
  EXPECT_FALSE(ui.app.read_only());
  const fw::ProjectData q = fw::load_project(dir + "/mine.formwork");
  EXPECT_EQ(q.weights.at("conv.weight").data[0], 0.25f);
  EXPECT_NE(q.graph_json.find("spare"), std::string::npos);
  EXPECT_EQ(fw::load_project(sample).graph_json, p.graph_json);
  fs::remove_all(dir);
}
