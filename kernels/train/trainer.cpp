#include "kernels/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "core/batches.h"
#include "core/error.h"
#include "core/format.h"
#include "core/weights.h"
#include "kernels/train/loss.h"
#include "kernels/train/optim.h"

namespace fw {

using json = nlohmann::json;

std::string TrainSettings::to_json() const {
  json j = {{"dataset", dataset},
            {"epochs", epochs},
            {"batch", batch},
            {"lr", lr},
            {"min_lr", min_lr},
            {"warmup_epochs", warmup_epochs},
            {"weight_decay", weight_decay},
            {"label_smoothing", label_smoothing},
            {"clip_grad", clip_grad},
            {"augment", augment},
            {"seed", seed},
            {"limit", limit},
            {"eval_limit", eval_limit},
            {"optimizer", "adamw"},
            {"schedule", "warmup+cosine"}};
  return j.dump();
}

TrainSettings TrainSettings::from_json(const std::string& text) {
  TrainSettings s;
  try {
    const json j = json::parse(text);
    s.dataset = j.value("dataset", s.dataset);
    s.epochs = j.value("epochs", s.epochs);
    s.batch = j.value("batch", s.batch);
    s.lr = j.value("lr", s.lr);
    s.min_lr = j.value("min_lr", s.min_lr);
    s.warmup_epochs = j.value("warmup_epochs", s.warmup_epochs);
    s.weight_decay = j.value("weight_decay", s.weight_decay);
    s.label_smoothing = j.value("label_smoothing", s.label_smoothing);
    s.clip_grad = j.value("clip_grad", s.clip_grad);
    s.augment = j.value("augment", s.augment);
    s.seed = j.value("seed", s.seed);
    s.limit = j.value("limit", s.limit);
    s.eval_limit = j.value("eval_limit", s.eval_limit);
  } catch (const json::exception& e) {
    throw Error(std::string("training settings: ") + e.what());
  }
  return s;
}

std::string TrainSettings::problem() const {
  const auto num = format_number;
  if (epochs < 1) return "epochs must be at least 1, got " + std::to_string(epochs);
  if (batch < 1) return "batch size must be at least 1, got " + std::to_string(batch);
  for (auto [name, v] : {std::pair{"learning rate", lr},
                         {"final learning rate", min_lr},
                         {"warm-up", warmup_epochs},
                         {"weight decay", weight_decay},
                         {"label smoothing", label_smoothing},
                         {"gradient clipping", clip_grad}})
    if (!std::isfinite(v)) return std::string(name) + " must be a finite number, got " + num(v);
  if (!(lr > 0)) return "learning rate must be positive, got " + num(lr);
  if (min_lr < 0) return "final learning rate must be at least 0, got " + num(min_lr);
  if (min_lr > lr)
    return "final learning rate " + num(min_lr) + " is above the peak rate " + num(lr) +
           " (the cosine decays from the peak to the final rate)";
  if (warmup_epochs < 0) return "warm-up must be at least 0 epochs, got " + num(warmup_epochs);
  if (warmup_epochs > double(epochs))
    return "warm-up of " + num(warmup_epochs) + " epochs is longer than the run (" +
           std::to_string(epochs) + " epochs)";
  if (weight_decay < 0) return "weight decay must be at least 0, got " + num(weight_decay);
  if (!(label_smoothing >= 0 && label_smoothing < 1))
    return "label smoothing must be in [0, 1), got " + num(label_smoothing);
  if (clip_grad < 0) return "gradient clipping must be at least 0 (0: off), got " + num(clip_grad);
  if (limit < 0)
    return "the train subset must be at least 0 (0: all), got " + std::to_string(limit);
  if (eval_limit < 0)
    return "the test subset must be at least 0 (0: all), got " + std::to_string(eval_limit);
  return "";
}

void TrainSettings::check() const {
  if (std::string why = problem(); !why.empty()) throw UsageError(why);
}

namespace {
std::string shown(const std::string& v) { return v; }
std::string shown(double v) { return format_number(v); }
std::string shown(int64_t v) { return std::to_string(v); }
std::string shown(uint64_t v) { return std::to_string(v); }
}  // namespace

std::vector<std::string> TrainSettings::differences(const TrainSettings& o) const {
  std::vector<std::string> out;
  each_setting(*this, o, [&](const char* flag, const auto& mine, const auto& theirs) {
    if (mine == theirs) return;
    if constexpr (std::is_same_v<std::decay_t<decltype(mine)>, bool>)  // augment
      out.push_back(mine ? "augmentation on (stored: --no-augment)"
                         : "--no-augment (stored: augmentation on)");
    else
      out.push_back(std::string(flag) + " " + shown(mine) + " (stored " + shown(theirs) + ")");
  });
  return out;
}

TrainData load_train_data(const Graph& g, const Analysis& a, const std::string& dataset,
                          const Normalization& stored, int64_t limit, int64_t eval_limit,
                          bool need_train, const std::string& split) {
  const std::vector<NodeId> ins = g.top_level_of_kind("input");
  if (ins.size() != 1) throw Error(dataset + ": datasets feed graphs with exactly one input");
  const Shape in = a.of(ins[0])->out.at(0);
  if (in[1] != in[2])
    throw Error(dataset + ": its images are square; this graph's input is " + shape_str(in));
  TrainData d;
  d.channels = int(in[0]);
  LoadOptions lo;
  lo.image_size = int(in[1]);
  lo.normalization = stored.empty();
  if (need_train) {
    lo.limit = limit;
    d.train = load_dataset(dataset, "train", lo);
  }
  LoadOptions to = lo;
  to.limit = eval_limit;
  to.normalization = false;
  d.test = load_dataset(dataset, split, to);
  if (!stored.empty()) {
    d.norm = stored;
  } else if (need_train) {
    d.norm = d.train.norm;  // the statistics of the data trained on (--limit included)
  } else {
    // Weights without a stored normalisation: the dataset's own, from its whole train split,
    // whatever part of the test split is evaluated.
    LoadOptions no = lo;
    no.limit = 0;
    d.norm = load_dataset(dataset, "train", no).norm;
  }
  const Dataset& ref = d.test;
  if (ref.height != in[1] || ref.width != in[2])
    throw Error(dataset + ": images are " + std::to_string(ref.height) + "x" +
                std::to_string(ref.width) + ", the graph's input is " + shape_str(in));
  if (ref.channels != d.channels && !(ref.channels == 1 && d.channels == 3))
    throw Error(dataset + ": images have " + std::to_string(ref.channels) +
                " channels, the graph's input " + std::to_string(d.channels));
  const NodeId out = g.top_level_of_kind("output").at(0);
  const int64_t k = a.of(out)->in.at(0).back();
  if (k < ref.num_classes())
    throw Error(dataset + " has " + std::to_string(ref.num_classes()) +
                " classes, the graph outputs " + std::to_string(k) + " (use --num-classes " +
                std::to_string(ref.num_classes()) + ")");
  return d;
}

EvalResult evaluate(Executor& ex, const Dataset& ds, const Normalization& norm, int channels,
                    int64_t batch, JobControl* ctl, Tensor* logits) {
  BatchOptions bo;
  bo.batch_size = batch;
  bo.shuffle = false;
  bo.norm = norm;
  bo.channels = channels == ds.channels ? 0 : channels;
  bo.prefetch = 1;
  RunOptions ro;
  const int64_t items = std::clamp<int64_t>(ds.size(), 1, std::max<int64_t>(1, batch));
  // Before the loader makes a batch (kernels/backend.h): the weights are in memory already.
  MemoryNeed need;
  need.activations = memory_need(ex, nullptr, items, ro, false).activations;
  require_memory(need, "evaluating at batch " + std::to_string(items), "use a smaller batch");
  BatchLoader loader(ds, bo);
  loader.start_epoch(0);
  Accuracy acc;
  while (loader.has_next()) {
    if (ctl && ctl->cancelled()) break;
    Batch b = loader.next_batch();
    const std::vector<Tensor> y = ex.forward({b.images}, ro);
    const double loss = cross_entropy(y.at(0), b.labels, 0.0, nullptr);
    acc.add(y.at(0), b.labels, loss);
    if (logits) {
      if (logits->shape.empty()) *logits = Tensor({0, y.at(0).dim(1)});
      logits->data.insert(logits->data.end(), y.at(0).data.begin(), y.at(0).data.end());
      logits->shape[0] += y.at(0).dim(0);
    }
  }
  return {acc.top1(), acc.top5(), acc.loss(), acc.n};
}

std::string train(const Graph& g, const Analysis& a, const Backend& be, const TrainSettings& s,
                  const TrainData& data, TrainCheckpoint& ck, JobControl& ctl,
                  const std::function<void(const StepInfo&)>& on_step,
                  const std::function<void(const TrainCheckpoint&, const EpochResult&)>& on_epoch) {
  s.check();
  BatchOptions bo;
  bo.batch_size = s.batch;
  bo.shuffle = true;
  bo.drop_last = data.train.size() >= s.batch;
  bo.seed = s.seed;
  bo.augment = s.augment;
  bo.norm = data.norm;
  bo.channels = data.channels == data.train.channels ? 0 : data.channels;
  bo.prefetch = 2;
  auto ex = be.create(g, a);
  RunOptions ro;
  ro.training = true;
  ro.backward = true;
  ro.grads.params = true;
  // Before the loader makes a batch (kernels/backend.h).
  const int64_t items = std::clamp<int64_t>(data.train.size(), 1, std::max<int64_t>(1, s.batch));
  require_memory(memory_need(*ex, &a, items, ro, true),
                 "training at batch " + std::to_string(items), "use a smaller batch");
  BatchLoader loader(data.train, bo);
  const int64_t spe = loader.num_batches();
  const int64_t total = spe * s.epochs;
  LrScheduleOptions lso;
  lso.base_lr = s.lr;
  lso.min_lr = s.min_lr;
  lso.warmup_lr = s.min_lr;
  lso.warmup_steps =
      std::min<int64_t>(total - 1, int64_t(std::llround(s.warmup_epochs * double(spe))));
  lso.total_steps = total;
  const LrSchedule sched(lso);

  AdamWOptions ao;
  ao.lr = s.lr;
  ao.weight_decay = s.weight_decay;
  AdamW opt(ao);
  opt.set_frozen(frozen_names(a.params));
  if (!ck.optimizer.empty()) opt.load_state(ck.optimizer);

  ex->bind(ck.weights);
  Gradients grads;
  ctl.total = total;
  ctl.done = ck.epochs_done * spe;

  // A cancelled run hands back the last completed epoch, not the partial one: the weights and the
  // curve as they were when this epoch began (the optimiser state is only taken at epoch ends).
  TensorMap epoch_start;
  size_t curve_start = 0;
  auto cancelled = [&] {
    ck.weights = std::move(epoch_start);
    ck.curve.resize(curve_start);
    return std::string("cancelled");
  };
  for (int64_t epoch = ck.epochs_done; epoch < s.epochs; ++epoch) {
    epoch_start = ck.weights;
    curve_start = ck.curve.size();
    ctl.set_status("training epoch " + std::to_string(epoch + 1));
    const auto t0 = std::chrono::steady_clock::now();
    loader.start_epoch(epoch);
    Accuracy acc;
    int64_t images = 0;
    double lr = 0;
    for (int64_t i = 0; loader.has_next(); ++i) {
      if (!ctl.wait_if_paused()) return cancelled();
      Batch b = loader.next_batch();
      const int64_t step = epoch * spe + i;
      ro.seed = mix_seed(s.seed, {uint64_t(step), 0x747261696eULL});
      const std::vector<Tensor> y = ex->forward({b.images}, ro);
      Tensor dlogits;
      const double loss = cross_entropy(y.at(0), b.labels, s.label_smoothing, &dlogits);
      if (!std::isfinite(loss))
        throw Error("training diverged: the loss is " + std::to_string(loss) + " at epoch " +
                    std::to_string(epoch + 1) + ", step " + std::to_string(i + 1) +
                    " (try a lower --lr)");
      ex->backward({dlogits}, grads);
      if (s.clip_grad > 0) {
        const double norm = clip_grad_norm(grads.params, s.clip_grad);
        if (!std::isfinite(norm)) throw Error("training diverged: the gradient norm is not finite");
      }
      lr = sched.lr_at(step);
      opt.step(ck.weights, grads.params, lr);
      // The executor sees the step: the CPU's refers to ck.weights, a device backend's holds a
      // copy that bind() uploads again (kernels/backend.h).
      ex->bind(ck.weights);
      acc.add(y.at(0), b.labels, loss);
      images += b.size();
      ctl.done = step + 1;
      if (on_step) {
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        on_step(
            {epoch, i, spe, total, acc.loss(), acc.top1(), lr, secs > 0 ? images / secs : 0, loss});
      }
      if (step % 50 == 0) ck.curve.push_back({step, double(step) / spe, "train_loss", loss});
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EpochResult r;
    r.epoch = epoch + 1;
    r.train_loss = acc.loss();
    r.train_top1 = acc.top1();
    r.lr = lr;
    r.seconds = secs;
    r.images_per_s = secs > 0 ? images / secs : 0;
    ctl.set_status("evaluating epoch " + std::to_string(epoch + 1));
    const EvalResult ev = evaluate(*ex, data.test, data.norm, data.channels, 256, &ctl);
    if (ctl.cancelled()) return cancelled();
    r.test_loss = ev.loss;
    r.test_top1 = ev.top1;
    r.test_top5 = ev.top5;
    const int64_t step = (epoch + 1) * spe;
    const double ep = double(epoch + 1);
    for (auto [key, v] : {std::pair{"epoch_train_loss", r.train_loss},
                          {"train_top1", r.train_top1},
                          {"test_loss", r.test_loss},
                          {"test_top1", r.test_top1},
                          {"test_top5", r.test_top5},
                          {"lr", r.lr},
                          {"images_per_s", r.images_per_s}})
      ck.curve.push_back({step, ep, key, v});
    // A finite loss does not make finite weights (a NaN gradient on the epoch's last step, with
    // no clipping): an epoch is kept only when every weight and the test loss are finite.
    if (const std::string bad = non_finite_weight(ck.weights); !bad.empty())
      throw Error("training diverged in epoch " + std::to_string(epoch + 1) + ": " + bad +
                  " (try a lower --lr)");
    if (!std::isfinite(ev.loss))
      throw Error("training diverged in epoch " + std::to_string(epoch + 1) +
                  ": the test loss is " + std::to_string(ev.loss) + " (try a lower --lr)");
    ck.epochs_done = epoch + 1;
    ck.optimizer = opt.state();
    if (on_epoch) on_epoch(ck, r);
  }
  return "done";
}

}  // namespace fw
