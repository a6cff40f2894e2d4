// The Training view driven like a user drives it (tests/gui/ui_driver.h): a real run of
// formwork_fm32 on a small image-folder dataset in the background while frames keep coming;
// pause, resume, stop, continue; the editor stays usable; saving over the file being trained is
// refused; quitting asks first. Checked against the project file the run writes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "app/gui/app_state.h"
#include "app/gui/editor_view.h"
#include "app/gui/plot.h"
#include "core/image_io.h"
#include "core/init.h"
#include "core/project_store.h"
#include "kernels/parallel.h"
#include "kernels/train/project_run.h"
#include "tests/gui/ui_driver.h"
#include "tests/unit/backend_doubles.h"

namespace fs = std::filesystem;
using fw::gui::TrainFrom;
using fw::gui::TrainingLive;
using fw::gui::testing::UiDriver;
using Phase = TrainingLive::Phase;

namespace {

std::string tmp_dir(const std::string& name) {
  const fs::path p =
      fs::temp_directory_path() / ("formwork_train_ui_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// DIR/{train,test}/{bright,dark}/N.png: 32x32 gray squares, bright or dark, with noise.
std::string make_folder_dataset(const std::string& dir) {
  fw::Rng rng(5);
  for (const char* split : {"train", "test"})
    for (int k = 0; k < 2; ++k) {
      const fs::path d = fs::path(dir) / "data" / split / (k ? "bright" : "dark");
      fs::create_directories(d);
      const int n = std::string(split) == "train" ? 24 : 8;
      for (int i = 0; i < n; ++i) {
        fw::Image8 img(32, 32, 1);
        for (int y = 0; y < 32; ++y)
          for (int x = 0; x < 32; ++x) {
            const bool in = x >= 8 && x < 24 && y >= 8 && y < 24;
            img.pixel(x, y)[0] = uint8_t((in ? (k ? 200 : 60) : 20) + rng.next() % 30);
          }
        fw::write_png((d / (std::to_string(i) + ".png")).string(), img);
      }
    }
  return (fs::path(dir) / "data").string();
}

fw::NodeId ui_head(UiDriver& ui) { return ui.app.doc.graph().find_path("head"); }

struct Fixture {
  std::string dir, project, data;
  UiDriver ui;
  explicit Fixture(const std::string& name) {
    fw::set_num_threads(1);
    dir = tmp_dir(name);
    data = make_folder_dataset(dir);
    project = (fs::path(dir) / "fm.formwork").string();
    EXPECT_TRUE(fw::gui::open_spec(ui.app, "formwork_fm32"));
    EXPECT_TRUE(fw::gui::save_as(ui.app, project)) << ui.app.error;
    ui.view->show_view("training");
    ui.frame(2);
    fw::gui::TrainingForm& f = ui.view->training_panel().form();
    f.dataset = 2;
    std::snprintf(f.folder, sizeof f.folder, "%s", data.c_str());
    f.s.batch = 8;
    f.s.seed = 3;
    ui.frame(2);  // the form's new rows are laid out before anything is clicked
  }
  ~Fixture() {
    ui.view->training().cancel();
    ui.view->training().wait();
    fs::remove_all(dir);
  }
  const TrainingLive& live() { return ui.view->training().live(); }
};

}  // namespace

TEST(TrainingUi, RunsPausesStopsAndContinuesWhileTheEditorStaysUsable) {
  Fixture fx("run");
  UiDriver& ui = fx.ui;
  fx.ui.view->training_panel().form().s.epochs = 400;  // long enough to act on it mid-run
  ui.click(ui.at("train:start"));
  ASSERT_TRUE(ui.frames_until([&] { return fx.live().done > 0; })) << fx.live().error;
  EXPECT_TRUE(ui.view->training().active());
  EXPECT_EQ(fx.live().settings.dataset, fx.data);
  EXPECT_EQ(fx.live().train_images, 48);

  // Pause: the step count stops moving while frames go on; the view says so.
  ui.click(ui.at("train:pause"));
  ui.frame();
  EXPECT_TRUE(fx.live().paused);
  ui.frames_until([] { return false; }, 0.3);  // let a step in flight finish
  const int64_t at_pause = fx.live().done;
  ui.frames_until([] { return false; }, 0.5);
  EXPECT_EQ(fx.live().done, at_pause);

  // The editor meanwhile: switch to it, edit, undo; saving over the trained file is refused.
  ui.key('1', true);
  EXPECT_EQ(ui.view->active_view(), "editor");
  const fw::NodeId head = ui.app.doc.graph().find_path("head");
  ASSERT_NE(head, fw::kNoNode);
  ASSERT_TRUE(ui.app.doc.rename(head, "head2").ok);
  EXPECT_TRUE(ui.app.doc.dirty());
  EXPECT_EQ(ui.app.busy_path, fx.project);
  EXPECT_EQ(fw::gui::save(ui.app), fw::gui::SaveResult::Failed);
  EXPECT_NE(ui.app.error.find("training run is writing"), std::string::npos) << ui.app.error;
  ui.app.error.clear();
  ui.key('Z', true);
  EXPECT_FALSE(ui.app.doc.dirty());

  // Resume and let an epoch complete, then stop: the project keeps the completed epochs.
  ui.key('2', true);
  EXPECT_EQ(ui.view->active_view(), "training");
  ui.click(ui.at("train:pause"));  // now "Resume"
  ui.frame();
  EXPECT_FALSE(fx.live().paused);
  ASSERT_TRUE(ui.frames_until([&] { return fx.live().epochs.size() >= 2; }));
  ui.click(ui.at("train:stop"));
  ASSERT_TRUE(ui.frames_until([&] { return !ui.view->training().active(); }));
  ui.frame(2);
  EXPECT_EQ(fx.live().phase, Phase::Cancelled);
  const int64_t kept = int64_t(fx.live().epochs.size());
  fw::ProjectData p = fw::load_project(fx.project);
  ASSERT_EQ(p.runs.size(), 1u);
  EXPECT_EQ(p.runs[0].status, "cancelled");
  EXPECT_EQ(p.runs[0].dataset, fx.data);
  EXPECT_EQ(p.meta.at("train_epochs_done"), std::to_string(kept));
  EXPECT_EQ(fw::epoch_results(p.runs[0].curve).size(), size_t(kept));
  EXPECT_TRUE(p.meta.count("input_norm"));
  EXPECT_EQ(ui.view->training_panel().runs().size(), 1u);  // the view re-read the project
  EXPECT_TRUE(ui.app.busy_path.empty());
  EXPECT_EQ(fw::gui::save(ui.app), fw::gui::SaveResult::Saved);  // allowed again
  const fw::TensorMap stopped = p.weights;

  // Continue the run to kept + 2 epochs: it resumes from the project and ends "done".
  fw::gui::TrainingForm& f = ui.view->training_panel().form();
  EXPECT_EQ(f.from, TrainFrom::Continue);  // a stopped run is offered for continuing
  f.s.epochs = kept;                       // nothing left to do: Start says so
  EXPECT_NE(ui.view->training_panel().start_blocker(ui.app).find("ask for more"),
            std::string::npos);
  f.s.epochs = kept + 2;
  ui.frame();
  ui.click(ui.at("train:start"));
  ASSERT_TRUE(ui.frames_until([&] { return fx.live().phase == Phase::Done; })) << fx.live().error;
  EXPECT_EQ(int64_t(fx.live().epochs.size()), kept + 2);  // the earlier epochs are shown too
  p = fw::load_project(fx.project);
  ASSERT_EQ(p.runs.size(), 1u);
  EXPECT_EQ(p.runs[0].status, "done");
  EXPECT_EQ(p.meta.at("train_epochs_done"), std::to_string(kept + 2));
  EXPECT_NE(p.weights.at("head.fc.weight").data,
            stopped.at("head.fc.weight").data);  // it trained on
}

// Another process trains the project the GUI has open (`formwork train --out` from a shell):
// File > Save is refused naming that process (the edit stays in the editor, the file keeps the
// run's epochs); once the run has ended, Save keeps both the run and the edit.
TEST(TrainingUi, SavingWhileAnotherProcessTrainsTheProjectIsRefusedNamingIt) {
  Fixture fx("other_process");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(FORMWORK_BINARY, "formwork", "train", fx.project.c_str(), "--out", fx.project.c_str(),
          "--force", "--dataset", fx.data.c_str(), "--epochs", "2", "--batch", "8", "--threads",
          "1", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Frozen (SIGSTOP) once it holds the file, so that it holds it however fast it trains.
  const auto t0 = std::chrono::steady_clock::now();
  while (fw::project_lock_holder(fx.project).find("formwork train") == std::string::npos &&
         std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  kill(pid, SIGSTOP);
  const std::string holder = fw::project_lock_holder(fx.project);
  EXPECT_EQ(holder.rfind("formwork train (pid " + std::to_string(pid) + ", training, since ", 0),
            0u)
      << holder;

  const fw::NodeId head = ui_head(fx.ui);
  ASSERT_TRUE(fx.ui.app.doc.rename(head, "head2").ok);
  EXPECT_TRUE(fx.ui.app.busy_path.empty());  // not the GUI's own job
  EXPECT_EQ(fw::gui::save(fx.ui.app), fw::gui::SaveResult::Failed);
  EXPECT_NE(fx.ui.app.error.find("formwork train (pid " + std::to_string(pid) + ", training"),
            std::string::npos)
      << fx.ui.app.error;
  EXPECT_NE(fx.ui.app.error.find("is writing this project"), std::string::npos) << fx.ui.app.error;
  EXPECT_TRUE(fx.ui.app.doc.dirty());
  EXPECT_EQ(fw::load_project(fx.project).graph_json.find("head2"), std::string::npos);
  fx.ui.app.error.clear();

  kill(pid, SIGCONT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(fw::project_lock_holder(fx.project), "");
  EXPECT_EQ(fw::gui::save(fx.ui.app), fw::gui::SaveResult::Saved) << fx.ui.app.error;
  const fw::ProjectData p = fw::load_project(fx.project);
  ASSERT_EQ(p.runs.size(), 1u);  // the other process's run, whole
  EXPECT_EQ(p.runs[0].status, "done");
  EXPECT_EQ(p.meta.at("train_epochs_done"), "2");
  EXPECT_FALSE(p.weights.empty());
  EXPECT_NE(p.graph_json.find("head2"), std::string::npos);  // and the GUI's edit
}

// A run started from the view trains on the device chosen in the status bar (AppState::device),
// binding the weights again after every step (a device backend uploads them there).
TEST(TrainingUi, TrainsOnTheDeviceChosenInTheStatusBar) {
  fwtest::DeviceLikeBackend gpu("fake_gpu");  // outlives the view
  gpu.copy_on_bind = true;
  Fixture fx("device");
  UiDriver& ui = fx.ui;
  ui.app.device.offered.push_back(&gpu);
  ASSERT_EQ(ui.app.device.choose("fake_gpu"), "");
  ui.view->training_panel().form().s.epochs = 1;
  ui.frame(2);
  ui.click(ui.at("train:start"));
  EXPECT_NE(ui.app.status.text.find("(fake_gpu)"), std::string::npos) << ui.app.status.text;
  ASSERT_TRUE(ui.frames_until([&] { return !ui.view->training().active(); }));
  ui.frame(2);
  ASSERT_EQ(fx.live().phase, Phase::Done) << fx.live().error;
  EXPECT_EQ(fx.live().device, "fake_gpu");
  EXPECT_EQ(gpu.created.load(), 1);
  EXPECT_EQ(fx.live().total, 6);  // 48 images, batch 8
  EXPECT_EQ(gpu.binds.load(), 1 + 6);
  EXPECT_EQ(fw::load_project(fx.project).runs.size(), 1u);
}

TEST(TrainingUi, ABadDatasetFailsWithItsReasonAndLeavesTheProject) {
  Fixture fx("bad");
  UiDriver& ui = fx.ui;
  const fw::ProjectData before = fw::load_project(fx.project);
  std::snprintf(ui.view->training_panel().form().folder, 512, "%s", (fx.dir + "/nope").c_str());
  ui.click(ui.at("train:start"));
  ASSERT_TRUE(ui.frames_until([&] { return fx.live().phase == Phase::Failed; }));
  EXPECT_NE(fx.live().error.find("nope"), std::string::npos) << fx.live().error;
  ui.frame(2);
  EXPECT_EQ(ui.app.status.level, fw::gui::Message::Error);
  const fw::ProjectData after = fw::load_project(fx.project);
  EXPECT_EQ(after.runs.size(), before.runs.size());  // nothing was written
}

// Settings `formwork train` refuses are refused here too, with the reason, before anything runs.
TEST(TrainingUi, NonsenseSettingsAreRefusedWithTheReason) {
  Fixture fx("nonsense");
  UiDriver& ui = fx.ui;
  const fw::ProjectData before = fw::load_project(fx.project);
  fw::gui::TrainingPanel& panel = ui.view->training_panel();
  panel.form().s.min_lr = panel.form().s.lr * 10;
  EXPECT_NE(panel.start_blocker(ui.app).find("above the peak rate"), std::string::npos)
      << panel.start_blocker(ui.app);
  ui.click(ui.at("train:start"));
  ui.frame(2);
  EXPECT_FALSE(ui.view->training().active());
  EXPECT_EQ(fw::load_project(fx.project).runs.size(), before.runs.size());  // nothing was written
  panel.form().s.min_lr = 0;
  panel.form().s.weight_decay = -1;
  EXPECT_NE(panel.start_blocker(ui.app).find("Weight decay must be at least 0"), std::string::npos)
      << panel.start_blocker(ui.app);
}

TEST(TrainingUi, StartNeedsAProjectFileAndAValidGraph) {
  UiDriver ui;
  ASSERT_TRUE(fw::gui::open_spec(ui.app, "formwork_fm32"));  // a template: no file to write
  ui.view->show_view("training");
  ui.frame(2);
  fw::gui::TrainingPanel& panel = ui.view->training_panel();
  EXPECT_NE(panel.start_blocker(ui.app).find("Save As"), std::string::npos);
  EXPECT_NE(panel.start(ui.app), "");
  EXPECT_FALSE(ui.view->training().active());
  ui.click(ui.at("train:save_as"));
  EXPECT_EQ(ui.view->dialog(), "files");
}

TEST(TrainingUi, QuittingWhileTrainingAsksAndStopsTheRun) {
  Fixture fx("quit");
  UiDriver& ui = fx.ui;
  ui.view->training_panel().form().s.epochs = 400;
  ui.click(ui.at("train:start"));
  ASSERT_TRUE(ui.frames_until([&] { return fx.live().done > 0; })) << fx.live().error;
  EXPECT_FALSE(ui.view->request_close());
  ui.frame(2);
  EXPECT_EQ(ui.view->dialog(), "training");
  ui.click(ui.at("training:keep"));
  EXPECT_TRUE(ui.view->training().active());
  EXPECT_FALSE(ui.view->quit_requested());
  EXPECT_FALSE(ui.view->request_close());
  ui.frame(2);
  ui.click(ui.at("training:stop_quit"));
  EXPECT_FALSE(ui.view->training().active());
  EXPECT_TRUE(ui.view->quit_requested());
  const fw::ProjectData p = fw::load_project(fx.project);
  EXPECT_EQ(p.runs.back().status, "cancelled");
}

TEST(TrainingUi, TheViewShowsAStoredRun) {
  // A project with a run in it, as `formwork train` leaves it: the view lists it and draws it.
  const std::string dir = tmp_dir("stored");
  const std::string path = dir + "/p.formwork";
  fw::ProjectData p;
  {
    UiDriver ui;
    ASSERT_TRUE(fw::gui::open_spec(ui.app, "formwork_fm32"));
    ASSERT_TRUE(fw::gui::save_as(ui.app, path));
  }
  p = fw::load_project(path);
  fw::TrainingRun run;
  run.status = "done";
  run.dataset = "fashion-mnist";
  run.settings_json = fw::TrainSettings{}.to_json();
  for (int e = 1; e <= 3; ++e) {
    run.curve.push_back({e * 100 - 50, e - 0.5, "train_loss", 2.0 / e});
    run.curve.push_back({e * 100, double(e), "test_top1", 0.5 + 0.1 * e});
    run.curve.push_back({e * 100, double(e), "test_loss", 1.0 / e});
  }
  p.runs.push_back(run);
  fw::save_project(path, p);
  UiDriver ui;
  ASSERT_TRUE(fw::gui::open_spec(ui.app, path));
  ui.view->show_view("training");
  ui.frame(2);
  fw::gui::TrainingPanel& panel = ui.view->training_panel();
  ASSERT_EQ(panel.runs().size(), 1u);
  EXPECT_EQ(panel.selected_run(), 0);
  // What the last frame drew (ui_probe.h): the stored run's curves, a point per epoch (the loss
  // per stored step), and its epochs in the table.
  namespace probe = fw::gui::probe;
  EXPECT_EQ(probe::fact_or("view"), "training");
  EXPECT_EQ(probe::fact_or("training"), "run");
  EXPECT_FALSE(probe::has_fact("level"));  // the editor's canvas is not drawn
  for (const char* id :
       {"Loss/batch", "Loss/train (smoothed)", "Loss/test", "Accuracy/test top-1"}) {
    const probe::Drawn* s = probe::find("series", id);
    ASSERT_NE(s, nullptr) << id << " not drawn";
    EXPECT_EQ(s->count, 3) << id;
  }
  for (const char* id : {"Loss", "Accuracy"}) {
    const probe::Drawn* plot = probe::find("plot", id);
    ASSERT_NE(plot, nullptr) << id;
    EXPECT_FALSE(plot->has("empty")) << id;
  }
  EXPECT_EQ(probe::ids("epoch"), (std::vector<std::string>{"3", "2", "1"}));  // newest first
  EXPECT_EQ(panel.form().from, TrainFrom::Scratch);  // a finished run: a new one by default
  fs::remove_all(dir);
}

TEST(Plot, NiceTicks) {
  using fw::gui::nice_ticks;
  EXPECT_EQ(nice_ticks(0, 10, 6), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  EXPECT_EQ(nice_ticks(0, 1, 6), (std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}));
  const std::vector<double> t = nice_ticks(0.37, 2.61, 5);
  ASSERT_FALSE(t.empty());
  EXPECT_LE(t.size(), 5u);
  EXPECT_GE(t.front(), 0.37);
  EXPECT_LE(t.back(), 2.61);
  EXPECT_EQ(nice_ticks(3, 3, 5), (std::vector<double>{3}));
  double lo = 0.37, hi = 2.61;
  fw::gui::nice_range(&lo, &hi, 5);
  EXPECT_LE(lo, 0.37);
  EXPECT_GE(hi, 2.61);
  EXPECT_DOUBLE_EQ(lo, 0.0);
  EXPECT_DOUBLE_EQ(hi, 3.0);
}

TEST(Plot, SmoothingIsABiasCorrectedMovingAverage) {
  const std::vector<float> v = {4, 4, 4, 0};
  const std::vector<float> s = fw::gui::smooth(v, 0.5f);
  EXPECT_FLOAT_EQ(s[0], 4);  // no pull towards 0 at the start
  EXPECT_FLOAT_EQ(s[2], 4);
  EXPECT_LT(s[3], 4);
  EXPECT_GT(s[3], 0);
}
