// The screen and the export receive the same drawing: what the editor canvas draws of a level at
// 100 % (teed from its ImGuiCanvas into a RecordingCanvas) against views/graph_diagram.h's
// drawing of the same level, for the scene alone and for the exported picture.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "core/templates.h"
#include "tests/gui/ui_driver.h"
#include "views/canvas.h"
#include "views/graph_diagram.h"
#include "views/node_geometry.h"
#include "views/scene.h"

using fw::kNoNode;
using fw::NodeId;
using fw::gui::testing::UiDriver;
using fw::views::RecordingCanvas;

namespace {


// Shows `level` at 100 % with its items in the middle of the canvas, then records one frame of
// what the editor draws through its canvas.
RecordingCanvas draw_level_at_100(UiDriver& ui, NodeId level) {
  fw::gui::enter_level(ui.app, level);
  ui.frame(3);
  const fw::views::Scene& s = ui.canvas().scene();
  const ImVec2 c0 = ui.canvas().canvas_min(), c1 = ui.canvas().canvas_max();
  fw::gui::ViewTransform& v = ui.app.editor.views[level];
  v.zoom = 1;
  v.pan_x = std::round((c1.x - c0.x - (s.bx1 - s.bx0)) * 0.5f - s.bx0);
  v.pan_y = std::round((c1.y - c0.y - (s.by1 - s.by0)) * 0.5f - s.by0);
  v.placed = true;
  ui.frame();
  RecordingCanvas screen;
  ui.canvas().set_tee(&screen);
  ui.frame();
  ui.canvas().set_tee(nullptr);
  return screen;
}

}  // namespace

TEST(EditorUi, ARecordingCanvasShowsThatTheScreenAndTheExportReceiveTheSameDrawing) {
  UiDriver ui;
  ImGui::GetIO().DisplaySize = ImVec2(3400, 1600);  // a whole level at 100 %
  fw::gui::load_graph(ui.app, fw::build_template("poolformer_s12"), fw::gui::Source::Template, "",
                      "poolformer_s12");
  ui.frame(2);
  for (const char* path : {"", "stages.1", "stages.0.blocks.0"}) {
    SCOPED_TRACE(std::string("level '") + path + "'");
    const fw::Graph& g = ui.app.doc.graph();
    const NodeId level = *path ? g.find_path(path) : kNoNode;
    ASSERT_TRUE(level == kNoNode || g.contains(level));
    const RecordingCanvas screen = draw_level_at_100(ui, level);
    const fw::views::Scene& s = ui.canvas().scene();
    const ImVec2 c0 = ui.canvas().canvas_min(), c1 = ui.canvas().canvas_max();
    const ImVec2 a = ui.canvas().to_screen(s.bx0, s.by0), b = ui.canvas().to_screen(s.bx1, s.by1);
    ASSERT_TRUE(a.x > c0.x && a.y > c0.y && b.x < c1.x && b.y < c1.y)
        << "the level does not fit the canvas at 100 %";
    ASSERT_FLOAT_EQ(ui.canvas().pixels_per_unit(), 1.0f);

    // The screen drew every child, titled.
    const std::vector<std::string> texts = screen.texts();
    for (NodeId id : g.children(level)) {
      const std::string title = fw::views::node_title(g.node(id));
      EXPECT_NE(std::find(texts.begin(), texts.end(), title), texts.end()) << title;
    }
    EXPECT_EQ(fw::gui::probe::items("node").size(), s.items.size());

    // The scene drawn by draw_graph_scene() with the editor's transform and view at full detail.
    const ImVec2 o = ui.canvas().to_screen(0, 0);
    fw::views::GraphDrawState st;
    st.transform = {{o.x, o.y}, ui.canvas().pixels_per_unit()};
    st.zoom = 1;
    st.content_scale = 1;
    st.view_min = {c0.x, c0.y};
    st.view_max = {c1.x, c1.y};
    const fw::views::Scene own = fw::views::build_scene(g, ui.app.doc.analysis(), level, {});
    RecordingCanvas drawn;
    fw::views::draw_graph_scene(drawn, own, st);
    EXPECT_EQ(screen.diff(drawn), "");

    // The exported picture placed where the screen shows the level: the same commands, in the
    // same order, at the same places (the export labels links where the screen does).
    const fw::views::Picture p = fw::views::graph_picture(g, ui.app.doc.analysis(), level);
    const fw::views::Transform place = fw::views::picture_transform(own);
    RecordingCanvas exported;
    p.draw(exported, {{o.x - place.origin.x, o.y - place.origin.y}, 1});
    EXPECT_EQ(screen.diff(exported), "");
  }
}
