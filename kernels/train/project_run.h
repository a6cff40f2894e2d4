// A training run kept in a project file (*.formwork): what `formwork train` and the GUI's Training
// view share, so that both store the same things in the same places and resume each other's runs.
//
// What a project holds about training (core/project_store.h):
//   training_runs / training_curves  one row per run (settings JSON, dataset, status "running",
//                                    "done", "cancelled" or "failed") with its curve points
//   weights                          the weights after the last completed epoch
//   blob  train/optimizer.safetensors  AdamW's state at that epoch (for an exact resume)
//   meta  train_epochs_done          epochs completed by the last run
//         input_norm, dataset, class_names   what every later command (infer, eval, views) uses
//
// Lifecycle
//   1. start_run() / resume_run() build a ProjectRun in memory (nothing is written yet).
//   2. load_run_data() loads the dataset fitted to the graph's input and records the
//      normalisation, dataset and class names in the project's meta.
//   3. run_training() saves the project once before the first step (the run is "running" and the
//      weights are those it starts from, so a run stopped before its first epoch resumes exactly),
//      then after every epoch (weights, optimiser state, curves). When cancelled it marks the run
//      "cancelled" and saves the last completed epoch (never a partial one); when the trainer
//      throws (divergence) it marks the run "failed", saves, and rethrows.
// Every save goes through save_project (atomic): a crash at any point leaves the previous file.
// The run holds the project's write lock throughout (another writer, a search or a GUI save, is
// refused naming the run; start_run/resume_run fail naming whoever else holds it).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/analysis.h"
#include "core/graph.h"
#include "core/project_store.h"
#include "kernels/train/trainer.h"

namespace fw {

inline constexpr const char* kOptimizerBlob = "train/optimizer.safetensors";

struct ProjectRun {
  std::string path;  // the project file written after every epoch
  // Its write lock (core/project_lock.h), held from start_run/resume_run until run_training
  // returns (or the run is destroyed): no other process or job writes the project meanwhile.
  std::unique_ptr<ProjectLock> lock;
  ProjectData project;  // everything else it holds is kept as it is
  Graph graph;
  Analysis analysis;
  TrainSettings settings;
  TrainCheckpoint ck;    // where training starts (weights, optimiser state, epochs done, curve)
  Normalization stored;  // the project's normalisation, if it had one
};

// A new run of `graph` in `base` (an existing project's data, or empty for a new file). `weights`
// empty: a fresh timm-style initialisation from settings.seed. `source` is recorded in meta.
// `lock`: the project's write lock when the caller took it before reading `base` from `path`
// (null: start_run takes it).
ProjectRun start_run(const std::string& path, ProjectData base, Graph graph, TensorMap weights,
                     const TrainSettings& settings, const std::string& source,
                     std::unique_ptr<ProjectLock> lock = nullptr);

// Continues the last run of the project at `path` up to `epochs` (0: the run's own count). Throws
// fw::Error naming the file when there is no run, or it already has `epochs` epochs.
ProjectRun resume_run(const std::string& path, int64_t epochs);

// Loads the run's dataset fitted to its graph and records input_norm, dataset and class_names.
TrainData load_run_data(ProjectRun& run);

// Stores the first n test images as PNG blobs "samples/I.png" and meta "samples" (a JSON list of
// {blob, label[, box]}), so that the views have real inputs with ground truth.
void keep_samples(ProjectData& project, const Dataset& test, int64_t n);

// Trains (see the lifecycle above). Returns "done" or "cancelled". on_epoch is called after the
// epoch was saved.
std::string run_training(ProjectRun& run, const TrainData& data, const Backend& backend,
                         JobControl& ctl, const std::function<void(const StepInfo&)>& on_step,
                         const std::function<void(const EpochResult&)>& on_epoch);

// The last run of a project: its settings and how many epochs it completed (0 when none).
struct RunSummary {
  bool exists = false;
  TrainSettings settings;
  int64_t epochs_done = 0;
  std::string status;
};
RunSummary last_run(const ProjectData& project);

// A run's per-epoch results read back from its curve (the points train() logs at each epoch
// end: epoch_train_loss, train_top1, test_loss, test_top1, test_top5, lr, images_per_s), in
// epoch order; an epoch missing a key has 0 there.
std::vector<EpochResult> epoch_results(const std::vector<CurvePoint>& curve);

}  // namespace fw
