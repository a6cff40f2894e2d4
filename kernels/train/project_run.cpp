#include "kernels/train/project_run.h"

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/image_io.h"
#include "core/init.h"
#include "core/project_meta.h"
#include "core/safetensors.h"

namespace fw {

namespace {

int64_t epochs_done_of(const ProjectData& p) {
  const auto it = p.meta.find("train_epochs_done");
  if (it == p.meta.end()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

// Writes the checkpoint and the run's state into the project and saves it.
void save_checkpoint(ProjectRun& r, const TrainCheckpoint& c, const std::string& status) {
  ProjectData& p = r.project;
  p.weights = c.weights;
  if (c.optimizer.empty())
    p.blobs.erase(kOptimizerBlob);
  else
    p.blobs[kOptimizerBlob] = {"application/x-safetensors", encode_safetensors(c.optimizer)};
  p.meta["train_epochs_done"] = std::to_string(c.epochs_done);
  p.meta["modified"] = now_iso8601();
  TrainingRun& run = p.runs.back();
  run.curve = c.curve;
  run.status = status;
  run.settings_json = r.settings.to_json();
  save_project(r.path, p, r.lock.get());
}

}  // namespace

ProjectRun start_run(const std::string& path, ProjectData base, Graph graph, TensorMap weights,
                     const TrainSettings& settings, const std::string& source,
                     std::unique_ptr<ProjectLock> lock) {
  ProjectRun r;
  r.path = path;
  if (lock) FW_ASSERT(lock->covers(path), "start_run: the lock held is for another file");
  r.lock = lock ? std::move(lock) : std::make_unique<ProjectLock>(path, "training");
  r.analysis = analyze(graph);
  require_valid(r.analysis);
  r.graph = std::move(graph);
  r.settings = settings;
  r.project = std::move(base);
  r.stored = stored_normalization(r.project);
  r.ck.weights = weights.empty() ? init_weights(r.analysis, settings.seed) : std::move(weights);
  r.project.graph_json = graph_to_json(r.graph);
  r.project.graph_format = kGraphFormatVersion;
  if (!r.project.meta.count("created")) r.project.meta["created"] = now_iso8601();
  if (!source.empty()) r.project.meta["source"] = source;
  if (r.graph.meta.has("template")) r.project.meta["template"] = r.graph.meta.s("template");
  TrainingRun run;
  run.created = now_iso8601();
  run.settings_json = settings.to_json();
  run.dataset = settings.dataset;
  run.status = "running";
  r.project.runs.push_back(run);
  return r;
}

RunSummary last_run(const ProjectData& p) {
  RunSummary s;
  if (p.runs.empty()) return s;
  s.exists = true;
  s.settings = TrainSettings::from_json(p.runs.back().settings_json);
  s.epochs_done = epochs_done_of(p);
  s.status = p.runs.back().status;
  return s;
}

std::vector<EpochResult> epoch_results(const std::vector<CurvePoint>& curve) {
  std::map<int64_t, EpochResult> by_epoch;
  for (const CurvePoint& p : curve) {
    if (p.key == "train_loss") continue;  // the per-step points
    const int64_t e = int64_t(std::llround(p.epoch));
    if (e < 1) continue;
    EpochResult& r = by_epoch[e];
    r.epoch = e;
    if (p.key == "epoch_train_loss")
      r.train_loss = p.value;
    else if (p.key == "train_top1")
      r.train_top1 = p.value;
    else if (p.key == "test_loss")
      r.test_loss = p.value;
    else if (p.key == "test_top1")
      r.test_top1 = p.value;
    else if (p.key == "test_top5")
      r.test_top5 = p.value;
    else if (p.key == "lr")
      r.lr = p.value;
    else if (p.key == "images_per_s")
      r.images_per_s = p.value;
  }
  std::vector<EpochResult> out;
  for (auto& [e, r] : by_epoch) out.push_back(r);
  return out;
}

ProjectRun resume_run(const std::string& path, int64_t epochs) {
  ProjectRun r;
  r.path = path;
  r.lock = std::make_unique<ProjectLock>(path, "training");
  r.project = load_project(path);
  if (r.project.runs.empty()) throw Error(path + ": has no training run to resume");
  const RunSummary last = last_run(r.project);
  r.settings = last.settings;
  if (epochs > 0) r.settings.epochs = epochs;
  r.graph = graph_from_json(r.project.graph_json, path);
  r.analysis = analyze(r.graph);
  require_valid(r.analysis);
  r.ck.weights = r.project.weights;
  if (auto it = r.project.blobs.find(kOptimizerBlob); it != r.project.blobs.end())
    r.ck.optimizer = parse_safetensors(it->second.second.data(), it->second.second.size(),
                                       path + " (optimizer)");
  r.ck.epochs_done = last.epochs_done;
  r.ck.curve = r.project.runs.back().curve;
  r.stored = stored_normalization(r.project);
  if (r.ck.epochs_done >= r.settings.epochs)
    throw Error(path + ": already trained for " + std::to_string(r.ck.epochs_done) +
                " epochs; ask for more epochs to continue (train --epochs)");
  r.project.runs.back().status = "running";
  return r;
}

TrainData load_run_data(ProjectRun& r) {
  TrainData d = load_train_data(r.graph, r.analysis, r.settings.dataset, r.stored, r.settings.limit,
                                r.settings.eval_limit);
  r.project.meta["input_pipeline"] =
      input_pipeline_to_json(input_pipeline_of(d.test, d.norm, d.channels));
  r.project.meta["input_norm"] = normalization_to_json(d.norm);
  r.project.meta["dataset"] = r.settings.dataset;
  r.project.meta["class_names"] = nlohmann::json(d.test.class_names).dump();
  return d;
}

void keep_samples(ProjectData& p, const Dataset& t, int64_t n) {
  nlohmann::json samples = nlohmann::json::array();
  for (int64_t i = 0; i < std::min<int64_t>(n, t.size()); ++i) {
    const std::string name = "samples/" + std::to_string(i) + ".png";
    p.blobs[name] = {"image/png", encode_png(sample_image(t, i))};
    nlohmann::json s = {{"blob", name}, {"label", t.labels[i]}};
    if (!t.boxes.empty()) s["box"] = {t.boxes[i].x0, t.boxes[i].y0, t.boxes[i].x1, t.boxes[i].y1};
    samples.push_back(s);
  }
  p.meta["samples"] = samples.dump();
}

std::string run_training(ProjectRun& r, const TrainData& data, const Backend& backend,
                         JobControl& ctl, const std::function<void(const StepInfo&)>& on_step,
                         const std::function<void(const EpochResult&)>& on_epoch) {
  FW_ASSERT(!r.project.runs.empty(), "run_training needs start_run or resume_run first");
  struct ReleaseLock {  // once the run returns, nothing more is written: others may write again
    ProjectRun& r;
    ~ReleaseLock() { r.lock.reset(); }
  } release{r};
  // The starting point, so that a run stopped before its first epoch leaves a project that
  // resumes exactly (and says it is running while it is).
  save_checkpoint(r, r.ck, "running");
  std::string status;
  try {
    status = train(r.graph, r.analysis, backend, r.settings, data, r.ck, ctl, on_step,
                   [&](const TrainCheckpoint& c, const EpochResult& e) {
                     save_checkpoint(r, c, c.epochs_done >= r.settings.epochs ? "done" : "running");
                     if (on_epoch) on_epoch(e);
                   });
  } catch (const std::exception& e) {
    // The project holds the last completed epoch: keep it, mark the run failed, and say so.
    bool saved = true;
    try {
      r.project.runs.back().status = "failed";
      save_project(r.path, r.project, r.lock.get());
    } catch (const std::exception&) {
      saved = false;  // the original error is the one to report
    }
    if (saved && dynamic_cast<const Error*>(&e))
      throw Error(std::string(e.what()) + "; " + r.path + " keeps the last completed epoch (" +
                  std::to_string(epochs_done_of(r.project)) + "), the run marked failed");
    throw;
  }
  if (status == "cancelled") {
    r.project.runs.back().status = "cancelled";
    save_project(r.path, r.project, r.lock.get());
  }
  return status;
}

}  // namespace fw
