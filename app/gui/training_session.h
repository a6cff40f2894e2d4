// The GUI's training run: kernels/train/project_run.h on a background Job (core/job.h), with what
// the Training view draws handed to the UI thread without ever blocking it.
//
// - start(request) begins a run that writes to request.path (a saved *.formwork project): a new
//   run from fresh weights or from the project's weights, or the continuation of its last run.
//   Loading the dataset, training and saving all happen on the worker.
// - pause(), resume(), cancel(): at the next step. A cancelled run leaves the project holding its
//   last completed epoch, marked "cancelled" (project_run.h).
// - poll() (once per frame, UI thread) moves what the worker published into live(): phase, the
//   per-step losses, the per-epoch results, the last step's numbers, the error of a failed run.
//   The worker holds the lock only to append; poll() only to take.
// - wait() joins the worker (quitting, tests).
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app/gui/background_job.h"
#include "core/graph.h"
#include "core/job.h"
#include "kernels/train/trainer.h"

namespace fw::gui {

enum class TrainFrom { Scratch, ProjectWeights, Continue };

struct TrainingRequest {
  std::string path;  // the project the run writes (must exist, except for a new run)
  Graph graph;       // what a new run trains (Continue trains the graph stored in the project)
  TrainSettings settings;
  TrainFrom from = TrainFrom::Scratch;
  const Backend* backend = nullptr;  // where it trains (AppState::device); nullptr: the CPU
};

struct TrainingLive {
  enum class Phase { Idle, Loading, Training, Evaluating, Done, Cancelled, Failed };
  Phase phase = Phase::Idle;
  bool paused = false;
  std::string path;   // the project being trained
  std::string device = "cpu";  // the backend it trains on (TrainingRequest::backend's name)
  std::string error;  // Failed: why
  TrainSettings settings;
  int64_t train_images = 0, test_images = 0;
  std::vector<float> step_x, step_loss;  // x in epochs (step / steps per epoch), mini-batch loss
  std::vector<EpochResult> epochs;       // every completed epoch of the run (earlier ones too)
  StepInfo last;                         // the last step (running means over its epoch)
  int64_t done = 0, total = 0;           // steps
  double seconds = 0;                    // since start (pauses included)
  int64_t run = 0;                       // which start() this is (1, 2, ...)
  int64_t revision = 0;                  // bumped whenever anything above changed
};

const char* phase_name(TrainingLive::Phase p);

class TrainingSession : public BackgroundJob {
 public:
  TrainingSession();
  ~TrainingSession();
  TrainingSession(const TrainingSession&) = delete;
  TrainingSession& operator=(const TrainingSession&) = delete;

  // Starts a run; returns "" or why it cannot start now (one is running).
  std::string start(TrainingRequest request);
  // pause(), resume(), cancel(), active(): BackgroundJob's.
  // The project an active run writes to ("" when none).
  std::string busy_path() const;

  void poll();
  const TrainingLive& live() const { return live_; }
  void wait();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  TrainingLive live_;
};

}  // namespace fw::gui
