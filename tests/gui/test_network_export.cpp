// File → Export network ▸ ONNX…, PyTorch…, Architecture (JSON)…, and the Search view's "Export…",
// driven through the menu, the file browser, the weights modal and the progress window. The files
// are judged against `formwork export` itself: the same graph and weights give the same bytes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "core/export/model_export.h"
#include "core/graph_json.h"
#include "kernels/parallel.h"
#include "nas/space.h"
#include "tests/gui/ui_driver.h"

namespace fs = std::filesystem;
namespace probe = fw::gui::probe;
using fw::gui::testing::UiDriver;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kSample = std::string(FORMWORK_ASSETS_DIR) + "/sample.formwork";
// A small template: its ONNX file with fresh weights takes well under a second to build.
const std::string kTemplate = "poolformer_s12";

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// `formwork ARGS` (its output to `log`); true when it succeeded.
bool formwork(const std::string& args, const std::string& log) {
  const std::string cmd = std::string(FORMWORK_BINARY) + " " + args + " > " + log + " 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Whether `formwork export ARGS OPTION DIR/cli.EXT` writes exactly the bytes `gui`.
::testing::AssertionResult same_as_cli(const std::string& gui, const std::string& args,
                                       const std::string& option, const std::string& dir) {
  const std::string file = dir + "/cli" + (option == "--torch" ? ".py" : ".onnx");
  if (!formwork("export " + args + " " + option + " " + file, dir + "/log"))
    return ::testing::AssertionFailure() << "formwork export failed: " << read_bytes(dir + "/log");
  const std::string cli = read_bytes(file);
  if (cli != gui)
    return ::testing::AssertionFailure() << "the GUI's file (" << gui.size()
                                         << " bytes) differs from `formwork export " << args
                                         << "`'s (" << cli.size() << " bytes)";
  return ::testing::AssertionSuccess();
}

struct Fixture {
  std::string dir;
  UiDriver ui;
  explicit Fixture(const std::string& name) : dir(fw::gui::testing::temp_dir("netexport_" + name)) {
    fw::set_num_threads(1);
  }
  ~Fixture() {
    fw::gui::NetworkExport& ex = ui.view->network_export();
    ex.cancel();
    ex.wait(ui.app);
    fs::remove_all(dir);
  }
  fw::gui::NetworkExport& ex() { return ui.view->network_export(); }
  // Opens a template, an architecture or a project file; true when it opened.
  bool open(const std::string& spec) {
    const bool ok = fw::gui::open_spec(ui.app, spec);
    EXPECT_TRUE(ok) << ui.app.error;
    ui.frame(2);
    return ok;
  }
  // A copy of the bundled sample project in the test's folder, opened.
  std::string open_sample() {
    const std::string project = dir + "/sample.formwork";
    fs::copy_file(kSample, project);
    open(project);
    return project;
  }
  // File → Export network ▸ ITEM with the mouse (false when an item was not drawn).
  bool choose(const std::string& item) {
    ui.frame();
    ui.click(ui.at("menubar:file"));
    ui.frame();
    for (const std::string& key : {std::string("menu:export_network"), "menu:" + item}) {
      const ImVec2 p = ui.at(key);
      if (p.x < 0) return false;
      ui.mouse(p);  // hovering opens the submenu
      ui.frame(3);
    }
    ui.click(ui.at("menu:" + item));
    ui.frame(2);
    return true;
  }
  // The same; true when the file browser came up for it.
  bool menu(const std::string& item) {
    return choose(item) && ui.view->dialog() == "files" && ex().choosing_file();
  }
  // Names the file in the open browser (a name, or "" for the one it suggests) and confirms.
  void save_as(const std::string& name) {
    ex().files().set_dir(dir);
    if (!name.empty()) ex().files().set_name(name);
    ex().files().request_confirm();
    ui.frame(2);
  }
  // Frames until the export's job has ended and its result was reported; the worst frame time.
  double finish(double seconds = 120) {
    double worst = 0;
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end && ex().active()) {
      const auto t0 = Clock::now();
      ui.frame();
      worst = std::max(worst, std::chrono::duration<double>(Clock::now() - t0).count());
    }
    EXPECT_FALSE(ex().active()) << "the export did not end in " << seconds << " s";
    ui.frame(2);
    return worst;
  }
};

}  // namespace

TEST(NetworkExportUi, OnnxOfTheSampleCarriesItsStoredWeightsAndEqualsTheCommandLine) {
  if (!fw::onnx_export_available()) GTEST_SKIP() << "this build has no ONNX export";
  Fixture fx("sample");
  UiDriver& ui = fx.ui;
  const std::string project = fx.open_sample();
  ASSERT_TRUE(fx.menu("export_onnx"));
  EXPECT_EQ(fx.ex().files().dir(), fx.dir) << "the browser opens in the document's folder";
  fx.save_as("");  // the suggested name: sample.onnx
  // The stored weights match the graph: no question, the export runs at once.
  EXPECT_FALSE(fx.ex().asking_weights());
  EXPECT_EQ(ui.view->dialog(), "");
  const double worst = fx.finish();
  EXPECT_LT(worst, 0.25) << "a frame took " << worst << " s while the export ran";
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const std::string file = fx.dir + "/sample.onnx";
  const std::string gui = read_bytes(file);
  ASSERT_GT(gui.size(), 1000u);
  EXPECT_NE(ui.app.status.text.find("Exported sample to " + file + " (ONNX opset 17, "),
            std::string::npos)
      << ui.app.status.text;
  EXPECT_NE(ui.app.status.text.find("B)"), std::string::npos) << ui.app.status.text;
  // `formwork export` of the same project: the same bytes (its own checker passed on them).
  EXPECT_TRUE(same_as_cli(gui, project, "--onnx", fx.dir));
}

TEST(NetworkExportUi, ATemplateHasNoWeightsTheModalOffersFreshOnesFromTheSeed) {
  if (!fw::onnx_export_available()) GTEST_SKIP() << "this build has no ONNX export";
  Fixture fx("template");
  UiDriver& ui = fx.ui;
  ASSERT_TRUE(fx.open(kTemplate));
  ASSERT_TRUE(fx.menu("export_onnx"));
  fx.save_as("");
  ASSERT_EQ(ui.view->dialog(), "export_weights");
  EXPECT_NE(fx.ex().weights_reason().find(kTemplate + " has no stored weights"), std::string::npos)
      << fx.ex().weights_reason();
  EXPECT_EQ(fx.ex().seed, 0u);
  // Cancel: nothing is written.
  ui.click(ui.at("export:decline"));
  ui.frame(2);
  EXPECT_EQ(ui.view->dialog(), "");
  EXPECT_FALSE(fx.ex().active());
  EXPECT_FALSE(fs::exists(fx.dir + "/" + kTemplate + ".onnx"));

  // Again, and "Export with fresh weights" (seed 0).
  ASSERT_TRUE(fx.menu("export_onnx"));
  fx.save_as("");
  ASSERT_EQ(ui.view->dialog(), "export_weights");
  ui.click(ui.at("export:fresh"));
  ui.frame();
  EXPECT_EQ(ui.view->dialog(), "");
  fx.finish();
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const std::string file = fx.dir + "/" + kTemplate + ".onnx";
  const std::string gui = read_bytes(file);
  ASSERT_GT(gui.size(), 1000u);
  EXPECT_TRUE(same_as_cli(gui, kTemplate + " --init-seed 0", "--onnx", fx.dir));

  // Another seed gives other weights.
  ASSERT_TRUE(fx.menu("export_onnx"));
  fx.save_as("seed3.onnx");
  ASSERT_EQ(ui.view->dialog(), "export_weights");
  fx.ex().seed = 3;
  fx.ex().use_fresh_weights();
  fx.finish();
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const std::string seed3 = read_bytes(fx.dir + "/seed3.onnx");
  EXPECT_EQ(seed3.size(), gui.size());
  EXPECT_FALSE(seed3 == gui);
}

TEST(NetworkExportUi, ASearchSubnetIsExportedFromTheSearchView) {
  if (!fw::onnx_export_available()) GTEST_SKIP() << "this build has no ONNX export";
  Fixture fx("subnet");
  UiDriver& ui = fx.ui;
  const std::string project = fx.open_sample();
  ui.view->show_view("nas");
  ui.frame(3);
  fw::gui::SearchPanel& panel = ui.view->search_panel();
  panel.select_search("search");
  ui.frame(2);
  // A result whose subnet differs from the base (so the project's weights do not fit it).
  int64_t id = 0;
  for (const fw::SearchRecord& r : panel.records()) {
    ASSERT_EQ(panel.open_result(r.id), "");
    ui.frame(2);
    if (!panel.changed().empty()) {
      id = r.id;
      break;
    }
  }
  ASSERT_NE(id, 0) << "no result of the sample's search differs from its base";
  ui.frame(2);
  ui.click(ui.at("search:export_subnet"));
  ui.frame(2);
  ui.click(ui.at("search:export_onnx"));
  ui.frame(2);
  ASSERT_EQ(ui.view->dialog(), "files");
  const std::string name = "sample_result_" + std::to_string(id);
  fx.save_as("");
  ASSERT_EQ(ui.view->dialog(), "export_weights");
  EXPECT_NE(fx.ex().weights_reason().find("sample.formwork do not match " + name),
            std::string::npos)
      << fx.ex().weights_reason();
  ui.click(ui.at("export:fresh"));
  fx.finish();
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const std::string gui = read_bytes(fx.dir + "/" + name + ".onnx");
  ASSERT_GT(gui.size(), 1000u);
  EXPECT_TRUE(
      same_as_cli(gui, project + " --result " + std::to_string(id) + " --init-seed 0", "--onnx", fx.dir));

  // Its architecture file is the subnet: reopened, it has the result's graph.
  ui.click(ui.at("search:export_subnet"));
  ui.frame(2);
  ui.click(ui.at("search:export_json"));
  ui.frame(2);
  ASSERT_EQ(ui.view->dialog(), "files");
  fx.save_as("");
  fx.finish();
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const fw::Graph reopened =
      fw::graph_from_json(read_bytes(fx.dir + "/" + name + ".json"), name + ".json");
  fw::Graph shown = panel.preview().doc.graph();
  shown.meta.erase(fw::kSearchSpaceMeta);
  EXPECT_EQ(fw::graph_to_json(reopened), fw::graph_to_json(shown));
}

TEST(NetworkExportUi, TheArchitectureFileReopensAsTheSameGraph) {
  Fixture fx("json");
  UiDriver& ui = fx.ui;
  fx.open_sample();
  fw::Graph expected = ui.app.doc.graph();
  expected.meta.erase(fw::kSearchSpaceMeta);
  ASSERT_TRUE(fx.menu("export_json"));
  fx.save_as("arch");  // the extension is added
  fx.finish();
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const std::string file = fx.dir + "/arch.json";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_NE(ui.app.status.text.find("Exported sample to " + file + " (architecture, "),
            std::string::npos)
      << ui.app.status.text;
  ASSERT_TRUE(fx.open(file));
  EXPECT_EQ(fw::graph_to_json(ui.app.doc.graph()), fw::graph_to_json(expected));
}

TEST(NetworkExportUi, ThePyTorchFileEqualsTheCommandLines) {
  Fixture fx("torch");
  UiDriver& ui = fx.ui;
  ASSERT_TRUE(fx.open(kTemplate));
  ASSERT_TRUE(fx.menu("export_torch"));
  fx.save_as("");
  EXPECT_FALSE(fx.ex().asking_weights()) << "a PyTorch file needs no weights";
  fx.finish();
  EXPECT_TRUE(ui.app.error.empty()) << ui.app.error;
  const std::string gui = read_bytes(fx.dir + "/" + kTemplate + ".py");
  ASSERT_NE(gui.find("import torch"), std::string::npos);
  EXPECT_NE(ui.app.status.text.find("(PyTorch module, "), std::string::npos) << ui.app.status.text;
  EXPECT_TRUE(same_as_cli(gui, kTemplate, "--torch", fx.dir));
}

TEST(NetworkExportUi, AGraphWithProblemsIsRefusedWithTheCommandLinesReason) {
  Fixture fx("problems");
  UiDriver& ui = fx.ui;
  const std::string arch = std::string(FORMWORK_GUI_TEST_DATA_DIR) + "/channel_mismatch.json";
  ASSERT_TRUE(fx.open(arch));
  ASSERT_FALSE(ui.app.doc.analysis().ok());
  EXPECT_FALSE(formwork("export " + arch + " --torch " + fx.dir + "/x.py", fx.dir + "/log"));
  const std::string said = read_bytes(fx.dir + "/log");
  const std::string marker = " has problems, nothing exported: ";
  const size_t at = said.find(marker);
  ASSERT_NE(at, std::string::npos) << said;
  std::string reason = said.substr(at + marker.size());
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
  for (const char* item : {"export_onnx", "export_torch"}) {
    ASSERT_TRUE(fx.choose(item));
    EXPECT_EQ(ui.view->dialog(), "error") << item;
    EXPECT_EQ(ui.app.error, "channel_mismatch has problems, nothing exported: " + reason) << item;
    ui.click(ui.at("error:ok"));
    ui.frame(2);
  }
  fs::remove(fx.dir + "/log");
  EXPECT_TRUE(fs::is_empty(fx.dir));
}

TEST(NetworkExportUi, AFolderThatCannotBeWrittenIsAnErrorAndNothingIsWritten) {
  Fixture fx("unwritable");
  UiDriver& ui = fx.ui;
  ASSERT_TRUE(fx.open(kTemplate));
  ASSERT_TRUE(fx.menu("export_torch"));
  fx.ex().files().set_name(fx.dir + "/no_such_dir/model.py");
  fx.ex().files().request_confirm();
  ui.frame(2);
  fx.finish();
  EXPECT_EQ(ui.view->dialog(), "error");
  EXPECT_NE(ui.app.error.find("no_such_dir/model.py"), std::string::npos) << ui.app.error;
  EXPECT_TRUE(fs::is_empty(fx.dir));
}

TEST(NetworkExportUi, CancelLeavesAnExistingFileAsItWas) {
  if (!fw::onnx_export_available()) GTEST_SKIP() << "this build has no ONNX export";
  Fixture fx("cancel");
  UiDriver& ui = fx.ui;
  const std::string file = fx.dir + "/model.onnx";
  { std::ofstream(file) << "the old file"; }
  ASSERT_TRUE(fx.open("poolformer_m48"));
  ASSERT_TRUE(fx.menu("export_onnx"));
  fx.save_as("model.onnx");
  // The browser asks before replacing the existing file.
  ASSERT_TRUE(fx.ex().choosing_file());
  ui.click(ui.at("files:replace"));
  ui.frame(2);
  ASSERT_EQ(ui.view->dialog(), "export_weights");
  ui.click(ui.at("export:fresh"));
  ASSERT_TRUE(fx.ex().active()) << "the export ended before it could be cancelled";
  EXPECT_EQ(fx.ex().writing(), file);
  ui.frame();
  EXPECT_EQ(probe::fact_or("export.file"), file) << "the progress window is shown";
  ui.click(ui.at("export:cancel"));
  fx.finish();
  EXPECT_EQ(ui.view->dialog(), "error");
  EXPECT_NE(ui.app.error.find("export cancelled"), std::string::npos) << ui.app.error;
  EXPECT_EQ(read_bytes(file), "the old file");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fx.dir)) names.push_back(e.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"model.onnx"}) << "a temp file was left behind";
}
