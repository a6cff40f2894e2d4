// The Training view: train the open project's graph on a dataset and watch it learn.
//
// Left: the run's settings (start from fresh weights, from the project's weights, or continue
// its last run; dataset; epochs, batch, learning rates, warm-up, weight decay, label smoothing,
// clipping, augmentation, seed, a subset for quick runs) and Start / Pause / Resume / Stop. Right:
// the state and progress (epoch, step, images/s, time left), live loss and accuracy curves, the
// per-epoch table, and the runs the project holds (click one to see its curves).
//
// Runs write to the project file (kernels/train/project_run.h): Start needs the document saved
// as a *.formwork project (the panel asks for Save As otherwise, and saves unsaved changes
// first). While a run writes to it, saving over that file is refused (AppState::busy_path) so
// neither side loses the other's work; the editor stays fully usable. The worker is a
// TrainingSession (app/gui/training_session.h) owned by the view, so a run continues while the
// editor is in front or another project is open.
#pragma once
#include <imgui.h>

#include <climits>
#include <map>
#include <string>
#include <vector>

#include "app/gui/app_state.h"
#include "app/gui/plot.h"
#include "app/gui/style.h"
#include "app/gui/training_session.h"
#include "core/project_store.h"

namespace fw::gui {

struct TrainingForm {
  TrainSettings s;
  TrainFrom from = TrainFrom::Scratch;
  int dataset = 0;         // 0 fashion-mnist, 1 fashion-mnist-placed, 2 an image folder
  char folder[512] = {};   // dataset 2
  std::string for_path;    // the project the form was filled for
  bool filled = false;     // false until the first fill (which picks defaults for the input)
};

class TrainingPanel {
 public:
  explicit TrainingPanel(TrainingSession& session) : session_(session) {}

  enum class Request { None, SaveAs };
  // Draws the view into the current window's remaining content region.
  Request draw(AppState& app, const Fonts& fonts, float height);

  // The Start button: saves unsaved changes, checks, starts. Returns "" or why not (also shown).
  std::string start(AppState& app);
  // Why Start is not possible now ("" when it is).
  std::string start_blocker(const AppState& app) const;

  TrainingForm& form() { return form_; }
  // Re-reads the runs of the open project (after a run ends, or when another project opens).
  void refresh(const AppState& app);
  const std::vector<TrainingRun>& runs() const { return runs_; }
  int selected_run() const { return selected_; }
  void select_run(int i) { selected_ = i; }

 private:
  void settings_column(AppState& app, const Fonts& fonts, float width, float height);
  void results_column(AppState& app, const Fonts& fonts, float width, float height);
  void fill_form(const AppState& app);
  bool showing_live(const AppState& app) const;

  TrainingSession& session_;
  TrainingForm form_;
  // The open project as last read: its runs and which of its weights' shapes are stored.
  std::string runs_path_;
  std::vector<TrainingRun> runs_;
  struct RunRow {
    size_t epochs = 0;
    double best = 0;  // best test top-1
  };
  std::vector<RunRow> run_rows_;  // per run, for the Runs table
  std::map<std::string, Shape> weight_shapes_;
  int64_t epochs_done_ = 0;
  int selected_ = -1;
  TrainingLive::Phase seen_phase_ = TrainingLive::Phase::Idle;
  std::string message_;  // why the last Start did not start
  bool pending_save_as_ = false;
  std::string load_error_;
  // The curves of the shown run: a stored run's built once when selected; a live run's extended
  // by the points it added since the last frame (the smoothing carried on, not redone).
  void update_curves(bool is_live, const TrainingLive& live);
  int64_t shown_run_ = kNoCurves;  // live: TrainingLive::run; stored: -(index + 2)
  int64_t shown_revision_ = -1;    // live: the revision taken
  static constexpr int64_t kNoCurves = INT64_MIN;
  std::vector<float> step_x_, step_y_, step_smooth_;
  MovingAverage ema_;  // the smoothing after step_smooth_.back()
  std::vector<EpochResult> epochs_;
  std::vector<float> ep_x_, ep_test_loss_, ep_train_top1_, ep_test_top1_, ep_test_top5_;
};

}  // namespace fw::gui
