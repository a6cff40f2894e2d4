// File → Export diagram… driven like a user drives it: the File menu, the file browser, a name,
// Save; the picture of the level the editor shows is written, in the format of the extension.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "app/gui/app_state.h"
#include "core/image_io.h"
#include "tests/gui/ui_driver.h"

namespace fs = std::filesystem;
using fw::gui::testing::UiDriver;

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Opens File → Export diagram… with the mouse; true when the file browser came up for it.
bool open_export(UiDriver& ui) {
  ui.frame();
  ui.click(ui.at("menubar:file"));
  ui.frame();
  const ImVec2 item = ui.at("menu:export_diagram");
  if (item.x < 0) return false;
  ui.click(item);
  ui.frame(2);
  return ui.view->dialog() == "files" && ui.view->diagram_export().is_open();
}

}  // namespace

TEST(DiagramExportUi, TheMenuExportsTheLevelShownInTheFormatOfTheExtension) {
  UiDriver ui;
  const std::string dir = fw::gui::testing::temp_dir("export");
  ASSERT_TRUE(fw::gui::open_spec(ui.app, "caformer_s18")) << ui.app.error;
  const fw::Graph& g = ui.app.doc.graph();
  const fw::NodeId block = g.find_path("stages.2.blocks.0");
  ASSERT_NE(block, fw::kNoNode);
  fw::gui::enter_level(ui.app, block);
  ui.frame(2);

  ASSERT_TRUE(open_export(ui));
  fw::gui::FileBrowser& files = ui.view->diagram_export().files();
  EXPECT_EQ(files.mode(), fw::gui::FileBrowser::Mode::Save);
  files.set_dir(dir);
  files.set_name("block.svg");
  files.request_confirm();
  ui.frame(2);
  EXPECT_EQ(ui.view->dialog(), "");
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const std::string svg = read_text(dir + "/block.svg");
  ASSERT_NE(svg.find("<svg"), std::string::npos);
  for (const char* child : {"norm1", "token_mixer", "norm2", "mlp"})
    EXPECT_NE(svg.find(std::string(">") + child + "</text>"), std::string::npos) << child;
  EXPECT_NE(ui.app.status.text.find("stages.2.blocks.0"), std::string::npos) << ui.app.status.text;
  EXPECT_NE(ui.app.status.text.find(dir + "/block.svg (svg, "), std::string::npos)
      << ui.app.status.text;

  // A PNG of the top level; then a name with no extension gets .svg.
  fw::gui::enter_level(ui.app, fw::kNoNode);
  ui.frame(2);
  ASSERT_TRUE(open_export(ui));
  files.set_dir(dir);
  files.set_name("model.png");
  files.request_confirm();
  ui.frame(2);
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const fw::Image8 png = fw::read_image(dir + "/model.png");
  EXPECT_GT(png.width, 100);
  EXPECT_GT(png.height, 100);
  ASSERT_TRUE(open_export(ui));
  files.set_dir(dir);
  files.set_name("bare");
  files.request_confirm();
  ui.frame(2);
  EXPECT_TRUE(fs::exists(dir + "/bare.svg"));
  fs::remove_all(dir);
}

TEST(DiagramExportUi, AnExtensionThatIsNoPictureShowsTheErrorAndWritesNothing) {
  UiDriver ui;
  const std::string dir = fw::gui::testing::temp_dir("export_bad");
  ASSERT_TRUE(fw::gui::open_spec(ui.app, "poolformer_s12")) << ui.app.error;
  ui.frame(2);
  ASSERT_TRUE(open_export(ui));
  fw::gui::FileBrowser& files = ui.view->diagram_export().files();
  files.set_dir(dir);
  files.set_name("model.txt");
  files.request_confirm();
  ui.frame(3);
  EXPECT_EQ(ui.view->dialog(), "error");
  EXPECT_NE(ui.app.error.find("model.txt"), std::string::npos) << ui.app.error;
  EXPECT_NE(ui.app.error.find(".svg, .pdf or .png"), std::string::npos) << ui.app.error;
  EXPECT_TRUE(fs::is_empty(dir));

  // A folder that is not there: the error names the file, nothing is written.
  ui.click(ui.at("error:ok"));
  ui.frame(2);
  EXPECT_EQ(ui.view->dialog(), "");
  ASSERT_TRUE(open_export(ui));
  files.set_name(dir + "/no_such_dir/model.pdf");
  files.request_confirm();
  ui.frame(3);
  EXPECT_EQ(ui.view->dialog(), "error");
  EXPECT_NE(ui.app.error.find("no_such_dir/model.pdf"), std::string::npos) << ui.app.error;
  EXPECT_TRUE(fs::is_empty(dir));
  fs::remove_all(dir);
}
