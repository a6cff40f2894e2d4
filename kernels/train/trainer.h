// Training and evaluation on a dataset, shared by `formwork train`/`eval` and the GUI's training
// panel. Runs on whatever thread calls it (the GUI runs it as a Job, core/job.h) and reports
// through a JobControl (progress, cancel, pause) and callbacks.
//
// Recipe (DeiT/timm-style, for small data): AdamW (decoupled weight decay; none on biases, norm
// weights, scales, 1-D tensors and embeddings), linear warm-up then cosine decay of the learning
// rate per step, label-smoothing cross-entropy, mini-batches in a seeded shuffled order, the
// dataset's augmentation (random crop with padding, horizontal flip), optional gradient clipping.
//
// Determinism: for a seed, the batch order, the augmentation and dropout/drop-path masks are
// fixed, and the optimiser state is checkpointed with the weights at every epoch end, so a run
// resumed from a checkpoint gives the same weights as an uninterrupted one. (Parameter gradients
// sum floats in an order that depends on the thread count: use the same --threads to compare
// bit for bit.)
#pragma once
#include <functional>
#include <string>

#include "core/datasets.h"
#include "core/input_pipeline.h"
#include "core/job.h"
#include "core/project_store.h"
#include "kernels/backend.h"

namespace fw {

struct TrainSettings {
  std::string dataset = "fashion-mnist";  // fashion-mnist, fashion-mnist-placed or a directory
  int64_t epochs = 10;
  int64_t batch = 128;
  double lr = 2e-3;            // peak learning rate (after warm-up)
  double min_lr = 1e-5;        // at the end of the cosine
  double warmup_epochs = 1.0;  // linear warm-up from min_lr
  double weight_decay = 0.05;
  double label_smoothing = 0.1;
  double clip_grad = 0.0;      // max global gradient norm; 0 = no clipping
  bool augment = true;
  uint64_t seed = 0;
  int64_t limit = 0;           // train on the first `limit` samples (0 = all)
  int64_t eval_limit = 0;      // evaluate each epoch on the first `eval_limit` test samples

  std::string to_json() const;
  static TrainSettings from_json(const std::string& text);  // fw::Error on bad JSON
  // The first setting that makes no sense, as one sentence ("weight decay must be at least 0,
  // got -0.1"), or "" when they all do: epochs or batch below 1, a peak rate that is not
  // positive, a final rate below 0 or above the peak, a warm-up below 0 or longer than the run,
  // weight decay or clipping below 0, label smoothing outside [0, 1), negative subsets, a
  // non-finite number. check() throws it as fw::UsageError; train() checks too.
  std::string problem() const;
  void check() const;
  // "--lr 0.001 (stored 0.002)" for each setting that differs from `other`, by its command-line
  // name; empty when they agree. Epochs are not compared (a resumed run asks for more).
  std::vector<std::string> differences(const TrainSettings& other) const;
  // Calls f(flag, a.member, b.member) for every setting but epochs, named by its command-line
  // flag (augment by "--no-augment"): the one list that comparing and merging settings use.
  template <class A, class B, class F>
  static void each_setting(A& a, B& b, F&& f) {
    f("--dataset", a.dataset, b.dataset);
    f("--batch", a.batch, b.batch);
    f("--lr", a.lr, b.lr);
    f("--min-lr", a.min_lr, b.min_lr);
    f("--warmup-epochs", a.warmup_epochs, b.warmup_epochs);
    f("--weight-decay", a.weight_decay, b.weight_decay);
    f("--label-smoothing", a.label_smoothing, b.label_smoothing);
    f("--clip-grad", a.clip_grad, b.clip_grad);
    f("--no-augment", a.augment, b.augment);
    f("--seed", a.seed, b.seed);
    f("--limit", a.limit, b.limit);
    f("--eval-limit", a.eval_limit, b.eval_limit);
  }
};

struct EpochResult {
  int64_t epoch = 0;  // 1-based: epochs completed
  double train_loss = 0, train_top1 = 0;
  double test_loss = 0, test_top1 = 0, test_top5 = 0;
  double lr = 0, images_per_s = 0, seconds = 0;
};

struct StepInfo {
  int64_t epoch = 0, step = 0, steps_per_epoch = 0, total_steps = 0;
  double loss = 0, top1 = 0, lr = 0, images_per_s = 0;  // running means over the epoch so far
  double batch_loss = 0;                                // this step's mini-batch loss
};

// Everything a run needs to continue where it stopped.
struct TrainCheckpoint {
  TensorMap weights;
  TensorMap optimizer;  // AdamW::state()
  int64_t epochs_done = 0;
  std::vector<CurvePoint> curve;
};

struct EvalResult {
  double top1 = 0, top5 = 0, loss = 0;
  int64_t n = 0;
};

// The data a graph trains on: the dataset's split fitted to the graph's input [C,H,W] (Fashion-
// MNIST padded to 32 when the input is 32; gray replicated to 3 channels when it has 3).
struct TrainData {
  Dataset train, test;
  Normalization norm;  // per dataset channel
  int channels = 0;    // the graph's input channels
};
// `stored`: a project's normalisation (used when not empty; else, training uses the statistics of
// the train split it loads, `limit` included, and evaluation alone the dataset's own, from its
// whole train split). `need_train`: false loads only `split` (and the train split's statistics).
TrainData load_train_data(const Graph& g, const Analysis& a, const std::string& dataset,
                          const Normalization& stored, int64_t limit, int64_t eval_limit,
                          bool need_train = true, const std::string& split = "test");

// Evaluation of bound weights (label smoothing 0). `ctl` may be null. `logits`, when given,
// receives every item's logits [n, K] in dataset order.
EvalResult evaluate(Executor& ex, const Dataset& ds, const Normalization& norm, int channels,
                    int64_t batch, JobControl* ctl = nullptr, Tensor* logits = nullptr);

// Trains from `ck` (weights must be set; optimizer empty to start) for settings.epochs.
// on_epoch is called after each epoch with the updated checkpoint (save it there); on_step after
// each step. Returns "done", or "cancelled" when ctl.cancel was set: `ck` then holds the last
// completed epoch again (weights, optimiser state, epochs done and curve as on_epoch last saw
// them), never the partial one. Runs on `be` (the CPU, or a device backend: the executor is bound
// again after every optimiser step, which uploads the updated weights there).
std::string train(const Graph& g, const Analysis& a, const Backend& be, const TrainSettings& s,
                  const TrainData& data, TrainCheckpoint& ck, JobControl& ctl,
                  const std::function<void(const StepInfo&)>& on_step,
                  const std::function<void(const TrainCheckpoint&, const EpochResult&)>& on_epoch);

}  // namespace fw
