// The circuit view driven like a user drives it (tests/gui/ui_driver.h): the diagram of the
// editor's level, a click selects in the editor, a double click enters, an edit redraws, and
// the picture exports through the same drawing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "tests/gui/ui_driver.h"
#include "views/picture_export.h"

namespace fs = std::filesystem;
using fw::gui::testing::UiDriver;
namespace probe = fw::gui::probe;

namespace {

struct CircuitUi {
  UiDriver ui;
  explicit CircuitUi(const std::string& spec, const std::string& level) {
    EXPECT_TRUE(fw::gui::open_spec(ui.app, spec)) << ui.app.error;
    const fw::NodeId id = ui.app.doc.graph().find_path(level);
    EXPECT_NE(id, fw::kNoNode) << level;
    fw::gui::enter_level(ui.app, id);
    ui.view->show_view("circuit");
    ui.frame(3);
  }
  fw::NodeId node(const std::string& path) { return ui.app.doc.graph().find_path(path); }
  ImVec2 centre(const std::string& path) {
    ImVec2 p;
    EXPECT_TRUE(ui.view->circuit().screen_center(node(path), p)) << path;
    return p;
  }
};

}  // namespace

TEST(CircuitView, ShowsTheEditorsLevel) {
  CircuitUi c("caformer_s18", "stages.2.blocks.0");
  EXPECT_EQ(probe::fact_or("view"), "circuit");
  EXPECT_EQ(probe::fact_or("circuit.level"), "stages.2.blocks.0");
  EXPECT_NE(probe::find("circuit", "stages.2.blocks.0 · MetaFormer block (attention)"), nullptr);
}

TEST(CircuitView, ClickSelectsTheNodeInTheEditorAndBack) {
  CircuitUi c("caformer_s18", "stages.2.blocks.0");
  c.ui.click(c.centre("stages.2.blocks.0.norm2"));
  c.ui.frame(2);
  ASSERT_EQ(c.ui.app.editor.selection.size(), 1u);
  EXPECT_EQ(*c.ui.app.editor.selection.begin(), c.node("stages.2.blocks.0.norm2"));
  EXPECT_EQ(probe::fact_or("inspector"), "stages.2.blocks.0.norm2");
  // selected in the editor: the circuit shows it selected
  c.ui.app.editor.select_only(c.node("stages.2.blocks.0.norm1"));
  c.ui.frame(2);
  EXPECT_EQ(probe::fact_or("circuit.selected"), "stages.2.blocks.0.norm1");
}

TEST(CircuitView, DoubleClickEntersAComposite) {
  CircuitUi c("caformer_s18", "stages.2.blocks.0");
  c.ui.double_click(c.centre("stages.2.blocks.0.token_mixer"));
  c.ui.frame(3);
  EXPECT_EQ(c.ui.app.editor.container, c.node("stages.2.blocks.0.token_mixer"));
  EXPECT_EQ(probe::fact_or("circuit.level"), "stages.2.blocks.0.token_mixer");
  EXPECT_NE(probe::find("crumb", "stages.2.blocks.0.token_mixer"), nullptr);
}

TEST(CircuitView, AnEditRedrawsTheDiagram) {
  CircuitUi c("poolformer_s12", "stages.0");
  // the stage's blocks become attention blocks: the diagram follows at the next frame
  const fw::NodeId stage = c.node("stages.0");
  ASSERT_TRUE(c.ui.app.doc.set_attr(stage, "depth", int64_t(3)).ok);
  c.ui.frame(2);
  const fw::views::Circuit& circuit = c.ui.view->circuit().circuit(c.ui.app);
  const fw::NodeId blocks = c.node("stages.0.blocks");
  bool found = false;
  for (const fw::views::CircuitBlock& b : circuit.blocks)
    if (b.node == blocks) {
      found = true;
      EXPECT_EQ(b.repeat, 3);
    }
  EXPECT_TRUE(found);
  // undo works from the circuit view too
  c.ui.key('Z', true);
  c.ui.frame(2);
  for (const fw::views::CircuitBlock& b : c.ui.view->circuit().circuit(c.ui.app).blocks) {
    if (b.node == blocks) {
      EXPECT_EQ(b.repeat, 2);
    }
  }
}

TEST(CircuitView, ExportsThePicture) {
  if (!fw::views::picture_export_available()) GTEST_SKIP() << "this build has no Qt 6";
  CircuitUi c("caformer_s18", "stages.2.blocks.0");
  const fs::path dir = fs::temp_directory_path() / ("formwork_circuit_ui_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string svg = (dir / "block.svg").string();
  EXPECT_EQ(c.ui.view->circuit().export_picture(c.ui.app, svg), "");
  std::ifstream in(svg);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("Multi-head attention"), std::string::npos);
  EXPECT_NE(c.ui.view->circuit().export_picture(c.ui.app, (dir / "block.txt").string()), "");
  EXPECT_FALSE(fs::exists(dir / "block.txt"));
  fs::remove_all(dir);
}
