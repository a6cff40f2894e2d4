// The Search view (`--view nas`) driven like a user drives it (tests/gui/ui_driver.h), on a temp
// copy of the bundled sample (caformer_mini64 with a search space and a finished NSGA-II search,
// assets/README.md): small real searches run in the background while frames keep coming; their
// results appear in the scatter and the table; pause, resume and stop; a second search on the
// same file is refused (from the CLI binary, and saving over it from the GUI); clicking a point
// opens the subnet with what differs from the base selected; "Make it the base" replaces the
// graph and Undo brings the old one back. Checked against the project file the search writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "core/graph_json.h"
#include "core/project_store.h"
#include "kernels/parallel.h"
#include "nas/search.h"
#include "nas/space.h"
#include "tests/gui/ui_driver.h"
#include "tests/unit/backend_doubles.h"

namespace fs = std::filesystem;
namespace probe = fw::gui::probe;
using fw::gui::SearchLive;
using fw::gui::testing::UiDriver;
using Phase = SearchLive::Phase;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kSample = std::string(FORMWORK_ASSETS_DIR) + "/sample.formwork";

std::string tmp_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("formwork_search_ui_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// Results of search `name` in the project file.
std::vector<fw::SearchResult> stored_results(const std::string& path, const std::string& name) {
  std::vector<fw::SearchResult> out;
  for (const fw::SearchResult& r : fw::load_project(path).search_results)
    if (r.search == name) out.push_back(r);
  return out;
}

struct Fixture {
  std::string dir, project;
  UiDriver ui;
  explicit Fixture(const std::string& name) {
    fw::set_num_threads(1);
    dir = tmp_dir(name);
    project = (fs::path(dir) / "sample.formwork").string();
    fs::copy_file(kSample, project);
    EXPECT_TRUE(fw::gui::open_spec(ui.app, project)) << ui.app.error;
    ui.view->show_view("nas");
    ui.frame(3);
    // The sample holds two searches (the NSGA-II one and the proxy study): these tests look at
    // the NSGA-II one.
    panel().select_search("search");
    ui.frame(2);
  }
  ~Fixture() {
    ui.view->search().cancel();
    ui.view->search().wait();
    fs::remove_all(dir);
  }
  fw::gui::SearchPanel& panel() { return ui.view->search_panel(); }
  const SearchLive& live() { return ui.view->search().live(); }
  // A small search: `budget` subnets of the sample's space on naswot:max, params:min.
  void small_search(const std::string& name, int64_t budget, int strategy = 0) {
    fw::gui::SearchForm& f = panel().form();
    std::snprintf(f.name, sizeof f.name, "%s", name.c_str());
    f.strategy = strategy;
    f.budget = budget;
    f.population = 4;
    f.threads = 1;
    f.seed = 7;
    for (auto& [m, on] : f.use) on = m == "naswot" || m == "params";
    f.maximize["naswot"] = true;
    f.maximize["params"] = false;
    ui.frame(2);
  }
};

}  // namespace

TEST(SearchUi, ShowsTheSampleStoredSearchWithItsFrontAndBase) {
  Fixture fx("stored");
  UiDriver& ui = fx.ui;
  EXPECT_EQ(probe::fact_or("view"), "nas");
  ASSERT_EQ(fx.panel().shown(), "search");
  const std::vector<fw::SearchResult> stored = stored_results(fx.project, "search");
  ASSERT_GE(stored.size(), 100u);
  EXPECT_EQ(fx.panel().records().size(), stored.size());
  // The front is the search's own (pareto_ids over the file's records).
  std::vector<fw::SearchRecord> recs;
  for (const fw::SearchResult& r : stored) recs.push_back(fw::record_from_row(r));
  const std::vector<int64_t> front =
      fw::pareto_ids(recs, fw::parse_objectives("naswot:max,params:min"));
  EXPECT_EQ(fx.panel().front(), std::set<int64_t>(front.begin(), front.end()));
  EXPECT_EQ(probe::fact_or("search.front"), std::to_string(front.size()));
  // Axes: cost on x, quality on y; the front is drawn as a line through its points; the base
  // (the sample's own network, which is in its space) is marked with its scored metrics.
  EXPECT_EQ(fx.panel().x_metric, "params");
  EXPECT_EQ(fx.panel().y_metric, "naswot");
  const probe::Drawn* plot = probe::find("plot", "Results");
  ASSERT_NE(plot, nullptr);
  EXPECT_TRUE(plot->has("front_line"));
  const probe::Drawn* fs = probe::find("series", "Results/Pareto front");
  ASSERT_NE(fs, nullptr);
  EXPECT_EQ(fs->count, int(front.size()));
  const probe::Drawn* pts = probe::find("series", "Results/results");
  ASSERT_NE(pts, nullptr);
  EXPECT_EQ(pts->count + fs->count, int(stored.size()));
  EXPECT_EQ(probe::fact_or("search.base"), "marked");
  ASSERT_TRUE(fx.panel().base_metrics().has_value());
  EXPECT_TRUE(fx.panel().base_metrics()->count("naswot"));
  EXPECT_GE(std::stoi(probe::fact_or("search.x_ticks", "0")), 3);
  // The table shows rows, the front's flagged; its filter narrows them.
  EXPECT_GE(probe::items("result").size(), 5u);
  EXPECT_EQ(probe::fact_or("search.rows"), std::to_string(stored.size()));
  ui.click(ui.at("search:filter"));
  ui.type("pooling");
  ui.frame(2);
  const int filtered = std::stoi(probe::fact_or("search.rows", "0"));
  EXPECT_GT(filtered, 0);
  EXPECT_LT(filtered, int(stored.size()));
  // The earlier searches are listed in the combo.
  ui.click(ui.at("search:shown"));
  ui.frame(2);
  EXPECT_NE(probe::find("search", "search"), nullptr);
  ui.key(fw::gui::testing::kKeyEscape);
  // The sample as run_gui opens it (bundled) cannot be searched in place: the view says so.
  ui.app.bundled = true;
  EXPECT_NE(fx.panel().start_blocker(ui.app).find("Save As"), std::string::npos);
  ui.app.bundled = false;
  // Same settings as stored: Start continues the search (nothing is refused).
  EXPECT_EQ(fx.panel().start_blocker(ui.app), "");
  fx.panel().form().budget = 200;
  fx.panel().form().seed = 9;
  EXPECT_NE(fx.panel().start_blocker(ui.app).find("other settings"), std::string::npos);
}

TEST(SearchUi, ASmallSearchRunsInTheBackgroundAndItsResultsAppearLive) {
  Fixture fx("run");
  UiDriver& ui = fx.ui;
  // An unsaved change: Start saves it first (the search runs on the saved project).
  const fw::NodeId head = ui.app.doc.graph().find_path("head");
  ASSERT_NE(head, fw::kNoNode);
  ASSERT_TRUE(ui.app.doc.rename(head, "classifier").ok);
  ASSERT_TRUE(ui.app.doc.dirty());
  fx.small_search("quick", 10);
  ASSERT_EQ(fx.panel().start_blocker(ui.app), "");
  ui.click(ui.at("search:start"));
  EXPECT_FALSE(ui.app.doc.dirty()) << ui.app.error;
  EXPECT_TRUE(ui.view->search().active());
  EXPECT_EQ(fx.panel().shown(), "quick");
  // Frames keep coming while it runs; none takes long.
  double worst = 0;
  size_t seen_points = 0;
  bool grew = false;
  const bool done = ui.frames_until(
      [&] {
        const auto t0 = Clock::now();
        ui.frame();
        worst = std::max(worst, std::chrono::duration<double>(Clock::now() - t0).count());
        if (fx.panel().records().size() > seen_points) {
          if (seen_points > 0) grew = true;
          seen_points = fx.panel().records().size();
        }
        return !ui.view->search().active();
      },
      240);
  ASSERT_TRUE(done);
  ui.frame(2);
  EXPECT_EQ(fx.live().phase, Phase::Done) << fx.live().error;
  EXPECT_LT(worst, 0.25) << "a frame took " << worst << " s while the search ran";
  EXPECT_TRUE(grew) << "the results did not come in one by one";
  // The file holds what the view shows.
  const std::vector<fw::SearchResult> stored = stored_results(fx.project, "quick");
  ASSERT_EQ(stored.size(), 10u);
  EXPECT_EQ(fx.panel().records().size(), 10u);
  EXPECT_EQ(probe::fact_or("search"), "quick");
  EXPECT_EQ(probe::fact_or("search.rows"), "10");
  for (const fw::SearchResult& r : stored)
    EXPECT_NE(probe::find("result", std::to_string(r.id)), nullptr) << r.id;
  const probe::Drawn* pts = probe::find("series", "Results/results");
  const probe::Drawn* front = probe::find("series", "Results/Pareto front");
  ASSERT_NE(front, nullptr);
  EXPECT_EQ((pts ? pts->count : 0) + front->count, 10);
  // The base network's metrics came with the run (its graph differs from every subnet: the
  // renamed head).
  ASSERT_TRUE(fx.live().base_metrics.has_value());
  EXPECT_TRUE(fx.live().base_metrics->count("naswot"));
  EXPECT_EQ(probe::fact_or("search.base"), "marked");
  // The in-memory project holds the new search row and its results; the earlier search stays
  // listed.
  EXPECT_EQ(fx.panel().data().searches.size(), 3u);  // the sample's two and this one
  fx.panel().select_search("search");
  ui.frame(2);
  EXPECT_EQ(probe::fact_or("search"), "search");
  // A later save keeps the results.
  ASSERT_TRUE(ui.app.doc.rename(ui.app.doc.graph().find_path("classifier"), "head").ok);
  ASSERT_EQ(fw::gui::save(ui.app), fw::gui::SaveResult::Saved) << ui.app.error;
  EXPECT_EQ(stored_results(fx.project, "quick").size(), 10u);
}

// A search started from the view scores its subnets (and the base) on the device chosen in the
// status bar.
TEST(SearchUi, ScoresOnTheDeviceChosenInTheStatusBar) {
  fwtest::DeviceLikeBackend gpu("fake_gpu");  // outlives the view
  Fixture fx("device");
  UiDriver& ui = fx.ui;
  ui.app.device.offered.push_back(&gpu);
  ASSERT_EQ(ui.app.device.choose("fake_gpu"), "");
  fx.small_search("on_device", 3);
  ui.click(ui.at("search:start"));
  EXPECT_NE(ui.app.status.text.find("(fake_gpu)"), std::string::npos) << ui.app.status.text;
  ASSERT_TRUE(ui.frames_until([&] { return !ui.view->search().active(); }, 240));
  ui.frame(2);
  ASSERT_EQ(fx.live().phase, Phase::Done) << fx.live().error;
  ASSERT_EQ(stored_results(fx.project, "on_device").size(), 3u);
  // naswot runs every scored network: the 3 subnets and the base, all on the device.
  EXPECT_GE(gpu.created.load(), 3 + 1);
  EXPECT_GE(gpu.forwards.load(), 3 + 1);
}

TEST(SearchUi, PauseResumeAndStop) {
  Fixture fx("pause");
  UiDriver& ui = fx.ui;
  fx.small_search("long", 60, 2);
  ui.click(ui.at("search:start"));
  ASSERT_TRUE(ui.frames_until([&] { return fx.live().committed > 0; }, 120)) << fx.live().error;
  ui.click(ui.at("search:pause"));
  ui.frame();
  EXPECT_TRUE(fx.live().paused);
  ui.frames_until([] { return false; }, 2.0);  // the batch in flight finishes
  const int64_t at_pause = fx.live().committed;
  ui.frames_until([] { return false; }, 1.0);
  EXPECT_EQ(fx.live().committed, at_pause);
  EXPECT_LT(at_pause, 60);
  EXPECT_TRUE(ui.view->search().active());
  ui.click(ui.at("search:pause"));  // now "Resume"
  ui.frame();
  EXPECT_FALSE(fx.live().paused);
  ASSERT_TRUE(ui.frames_until([&] { return fx.live().committed > at_pause; }, 60));
  ui.click(ui.at("search:stop"));
  ASSERT_TRUE(ui.frames_until([&] { return !ui.view->search().active(); }, 60));
  ui.frame(2);
  EXPECT_EQ(fx.live().phase, Phase::Cancelled);
  const std::vector<fw::SearchResult> stored = stored_results(fx.project, "long");
  EXPECT_EQ(int64_t(stored.size()), fx.live().committed);
  EXPECT_LT(stored.size(), 60u);
  EXPECT_EQ(fx.panel().records().size(), stored.size());
}

TEST(SearchUi, ASecondSearchOnTheSameFileIsRefusedAndSavingOverItToo) {
  Fixture fx("lock");
  UiDriver& ui = fx.ui;
  fx.small_search("first", 80, 2);
  ui.click(ui.at("search:start"));
  ASSERT_TRUE(ui.frames_until([&] { return fx.live().committed > 0; }, 120)) << fx.live().error;
  // While it commits results, a shell's search is refused by the lock (reading the project
  // meanwhile waits for a commit in progress instead of failing).
  // Paused, it keeps holding the file while we go on (a writer waits up to 3 s for the lock).
  ui.click(ui.at("search:pause"));
  ui.frame(2);
  // From a shell: `formwork nas` on the same file fails with the lock's reason.
  const std::string out = (fs::path(fx.dir) / "cli.txt").string();
  const std::string cmd = std::string(FORMWORK_BINARY) + " nas '" + fx.project +
                          "' --budget 3 --objectives naswot:max --name other --quiet > '" + out +
                          "' 2>&1";
  const int rc = std::system(cmd.c_str());
  EXPECT_NE(rc, 0);
  std::string said;
  if (FILE* f = std::fopen(out.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, f)) said += buf;
    std::fclose(f);
  }
  // The lock names the GUI's search.
  EXPECT_NE(said.find("(pid " + std::to_string(getpid()) + ", search, since"), std::string::npos)
      << said;
  EXPECT_NE(said.find("is writing this project"), std::string::npos) << said;
  EXPECT_TRUE(stored_results(fx.project, "other").empty());
  ASSERT_TRUE(ui.view->search().active()) << fx.live().error;
  // From the GUI: Start says a search runs; File > Save is refused with the reason.
  EXPECT_NE(fx.panel().start_blocker(ui.app).find("search is running"), std::string::npos);
  EXPECT_EQ(ui.app.busy_path, fx.project);
  // Training the same project now would replace the file under the search: refused too.
  EXPECT_NE(ui.view->training_panel().start_blocker(ui.app).find("search is writing"),
            std::string::npos);
  ASSERT_TRUE(ui.app.doc.rename(ui.app.doc.graph().find_path("head"), "head2").ok);
  ui.view->run(fw::gui::Action::Save);
  EXPECT_TRUE(ui.app.doc.dirty());
  EXPECT_NE(ui.app.error.find("search is writing this project"), std::string::npos) << ui.app.error;
  EXPECT_NE(ui.app.status.text.find("a search is writing this project"), std::string::npos);
  ui.app.error.clear();
  ui.view->search().cancel();
  ASSERT_TRUE(ui.frames_until([&] { return !ui.view->search().active(); }, 60));
  // Once it stopped, the lock is gone: saving works again.
  ui.frame(2);
  ui.view->run(fw::gui::Action::Save);
  EXPECT_FALSE(ui.app.doc.dirty()) << ui.app.error;
}

TEST(SearchUi, ClickingAPointOpensTheSubnetAndMakeItTheBaseIsUndoable) {
  Fixture fx("open");
  UiDriver& ui = fx.ui;
  // A front point whose stages.1 differs from the base (sepconv, depth 2, dim 64).
  const fw::Graph before = ui.app.doc.graph();
  const std::string before_json = fw::graph_to_json(before);
  int64_t target = 0;
  nlohmann::json choices;
  for (const fw::SearchRecord& r : fx.panel().records()) {
    if (!fx.panel().front().count(r.id)) continue;
    const nlohmann::json c = nlohmann::json::parse(r.choices_json);
    if (c["stages.1.depth"] != 2 || c["stages.1.token_mixer"] != "sepconv") {
      target = r.id;
      choices = c;
      break;
    }
  }
  ASSERT_NE(target, 0);
  ImVec2 p;
  ASSERT_TRUE(fx.panel().point_pos(target, &p));
  ui.mouse(p);
  EXPECT_EQ(probe::fact_or("search.hover"), std::to_string(target));  // the tooltip's
  ui.click(p);
  ui.frame(3);
  ASSERT_EQ(fx.panel().opened(), target);
  EXPECT_EQ(probe::fact_or("subnet"), std::to_string(target));
  // What differs from the base is selected on the subnet's canvas (and drawn selected).
  const std::vector<std::string>& changed = fx.panel().changed();
  ASSERT_FALSE(changed.empty());
  EXPECT_NE(std::find(changed.begin(), changed.end(), "stages.1"), changed.end());
  EXPECT_EQ(std::find(changed.begin(), changed.end(), "stem"), changed.end());
  const fw::Graph& sub = fx.panel().preview().doc.graph();
  const fw::NodeId s1 = sub.find_path("stages.1");
  ASSERT_NE(s1, fw::kNoNode);
  EXPECT_TRUE(fx.panel().preview().editor.selected(s1));
  EXPECT_FALSE(fx.panel().preview().editor.selected(sub.find_path("stem")));
  const probe::Drawn* n = probe::find("node", "stages.1");
  ASSERT_NE(n, nullptr) << "the subnet canvas did not draw stages.1";
  EXPECT_TRUE(n->has("selected"));
  const probe::Drawn* stem = probe::find("node", "stem");
  ASSERT_NE(stem, nullptr);
  EXPECT_FALSE(stem->has("selected"));
  EXPECT_EQ(fw::attr_to_string(sub.node(s1).attrs.get("depth")), choices["stages.1.depth"].dump());
  // The document is untouched until "Make it the base".
  EXPECT_EQ(fw::graph_to_json(ui.app.doc.graph()), before_json);
  ui.click(ui.at("search:make_base"));
  ui.frame();
  const fw::Graph& g = ui.app.doc.graph();
  const fw::NodeId d1 = g.find_path("stages.1");
  ASSERT_NE(d1, fw::kNoNode);
  EXPECT_EQ(fw::attr_to_string(g.node(d1).attrs.get("depth")), choices["stages.1.depth"].dump());
  EXPECT_EQ(fw::attr_to_string(g.node(d1).attrs.get("token_mixer")),
            choices["stages.1.token_mixer"].get<std::string>());
  EXPECT_FALSE(fw::graph_space(g).empty()) << "the search space was lost";
  EXPECT_TRUE(ui.app.doc.dirty());
  EXPECT_TRUE(ui.app.doc.analysis().ok());
  ASSERT_TRUE(ui.app.doc.undo());
  EXPECT_EQ(fw::graph_to_json(ui.app.doc.graph()), before_json);
  EXPECT_FALSE(ui.app.doc.dirty());
  ASSERT_TRUE(ui.app.doc.redo());
  EXPECT_EQ(
      fw::attr_to_string(
          ui.app.doc.graph().node(ui.app.doc.graph().find_path("stages.1")).attrs.get("depth")),
      choices["stages.1.depth"].dump());
  ASSERT_TRUE(ui.app.doc.undo());

  // A table row opens its subnet too; "Save as project…" writes a new project with that graph.
  ui.frame(2);
  fw::gui::SearchPanel& panel = fx.panel();
  // Back to the results tab to click a row.
  panel.open_result(target);  // (still open)
  const std::string saved = (fs::path(fx.dir) / "subnet.formwork").string();
  EXPECT_EQ(panel.save_subnet_as(ui.app, saved), "");
  const fw::ProjectData sp = fw::load_project(saved);
  const fw::Graph sg = fw::graph_from_json(sp.graph_json, saved);
  EXPECT_EQ(fw::attr_to_string(sg.node(sg.find_path("stages.1")).attrs.get("depth")),
            choices["stages.1.depth"].dump());
  EXPECT_EQ(sp.meta.at("dataset"), "fashion-mnist-placed");
  EXPECT_NE(panel.save_subnet_as(ui.app, fx.project), "") << "saved over the open project";
}

TEST(SearchUi, ClickingATableRowOpensItsSubnet) {
  Fixture fx("row");
  UiDriver& ui = fx.ui;
  const std::vector<std::string> rows = probe::ids("result");
  ASSERT_GE(rows.size(), 3u);
  const std::string id = rows[2];
  ui.click(ui.at("search:row:" + id));
  ui.frame(3);
  EXPECT_EQ(std::to_string(fx.panel().opened()), id);
  EXPECT_EQ(probe::fact_or("subnet"), id);
}

TEST(SearchUi, ContinuesTheSampleSearchThatTheCommandLineStarted) {
  // The sample's search was run by `formwork nas` on a file whose nodes have no canvas positions;
  // the GUI lays them out, and the same search still continues (here: its space is exhausted, so
  // it ends at once with nothing new).
  Fixture fx("continue");
  UiDriver& ui = fx.ui;
  const size_t before = stored_results(fx.project, "search").size();
  ASSERT_EQ(fx.panel().start_blocker(ui.app), "");
  ui.click(ui.at("search:start"));
  ASSERT_TRUE(ui.frames_until([&] { return !ui.view->search().active(); }, 120));
  ui.frame(2);
  EXPECT_EQ(fx.live().phase, Phase::Done) << fx.live().error;
  EXPECT_NE(fx.live().status.find("space exhausted"), std::string::npos) << fx.live().status;
  EXPECT_EQ(stored_results(fx.project, "search").size(), before);
  EXPECT_EQ(fx.panel().records().size(), before);
}
