// Optimiser and learning-rate schedule for training: AdamW exactly as torch.optim.AdamW,
// warm-up + cosine schedule as timm's CosineLRScheduler, gradient-norm clipping.
//
// Index
//  1. AdamW                  update rule, which parameters move and decay, state for resuming
//  2. LrSchedule             linear warm-up then cosine decay, per optimiser step
//  3. clip_grad_norm         torch.nn.utils.clip_grad_norm_
//
// A training step, as the training loop drives it:
//   AdamW opt({.weight_decay = 0.05});
//   opt.set_frozen(frozen_names(analysis.params));          // non-trainable parameters
//   LrSchedule sched({.base_lr = 1e-3, .warmup_steps = 500, .total_steps = epochs * batches});
//   for (...) {  // forward, loss, backward fill `grads`
//     clip_grad_norm(grads, 5.0);                           // optional
//     opt.step(params, grads, sched.lr_at(opt.steps()));    // lr of this step
//   }
//   store opt.state() with the checkpoint; load_state() it to resume the exact same run.
//
// 1. AdamW (torch 1.13's torch.optim.AdamW, single-tensor path, amsgrad optional)
//  For each parameter p with a gradient g in this step, with t = its own step count after the
//  increment (a parameter that had no gradient in a step keeps its count and moments, like
//  torch, where p.grad is None):
//      p   <- p * (1 - lr * wd)                  (wd = 0 for no-decay parameters)
//      m   <- beta1 * m + (1 - beta1) * g
//      v   <- beta2 * v + (1 - beta2) * g * g
//      vmax <- max(vmax, v)                      (amsgrad only; then vmax replaces v below)
//      p   <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//  All tensor arithmetic is float32 in torch's operation order; the scalars (1 - lr*wd, the
//  bias corrections and the step size) are computed in double and rounded to float once, as
//  torch does, so results match torch to rounding.
//  Which parameters:
//  - Only names present in `grads` are updated; a gradient for a name not in `params`, or of a
//    different shape, is a fw::Error naming the tensor.
//  - Frozen names (set_frozen) are never updated even if a gradient is given.
//  - Weight decay: by default decays(name, shape) below (timm's rule); set_decay_rule replaces it.
//  State (state()/load_state(), a TensorMap for a safetensors file or the project):
//  - "adam.m.<param>", "adam.v.<param>" (and "adam.vmax.<param>" with amsgrad): the moments,
//    shaped like the parameter; "adam.t.<param>": the parameter's step count, scalar shape {};
//    "adam.steps": the number of step() calls, scalar. Counts are stored as float32, exact up to
//    2^24 steps (as torch stores them).
//  - load_state replaces the whole state; a malformed entry (unknown prefix, shape mismatch with
//    its moments) is a fw::Error. Hyper-parameters are not in the state: pass the same options.
//
// 2. LrSchedule (per optimiser step s = 0, 1, 2, ...; s is the number of steps already taken)
//      W = warmup_steps, T = total_steps, D = T - W
//      s <  W:           lr = warmup_lr + (base_lr - warmup_lr) * s / W
//      W <= s < T:       lr = min_lr + 0.5 * (base_lr - min_lr) * (1 + cos(pi * (s - W) / D))
//      s >= T:           lr = min_lr
//  So step 0 runs at warmup_lr (base_lr when W = 0), step W at base_lr, and the cosine reaches
//  min_lr at step T. This is timm's CosineLRScheduler with warmup_prefix=True, t_initial = D,
//  cycle_limit 1, stepped per update (t_in_epochs=False). Also usable per epoch: pass epochs.
//
// 3. clip_grad_norm(grads, max_norm): total = sqrt(sum of squares of every gradient value)
//    (accumulated in double); when total > max_norm, every gradient is multiplied by
//    max_norm / (total + 1e-6), as torch.nn.utils.clip_grad_norm_. Returns total (before
//    clipping). A non-finite total leaves the gradients alone and is returned as is.
#pragma once
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/analysis.h"
#include "core/tensor.h"

namespace fw {

struct AdamWOptions {
  double lr = 1e-3;  // used by step(params, grads) without an explicit lr
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  // torch's default for AdamW
  bool amsgrad = false;
};

// timm's no-weight-decay rule: false (no decay) for 0-D and 1-D parameters (biases, norm weights,
// layer/res scales, StarReLU scale and bias), names ending in ".bias", and ViT's token and
// position parameters (last name component cls_token, dist_token, reg_token, pos_embed);
// true otherwise (conv and linear weights).
bool decays(const std::string& name, const Shape& shape);

// Names of the parameters that are not trainable (RandFormer's fixed token-mixing matrix).
std::set<std::string> frozen_names(const std::vector<ParamInfo>& params);

class AdamW {
 public:
  using DecayRule = std::function<bool(const std::string& name, const Shape& shape)>;

  explicit AdamW(AdamWOptions options = {});

  void set_frozen(std::set<std::string> names) { frozen_ = std::move(names); }
  void set_decay_rule(DecayRule rule) { decay_rule_ = std::move(rule); }
  const AdamWOptions& options() const { return opt_; }
  void set_options(const AdamWOptions& o) { opt_ = o; }

  // One update of every parameter that has a gradient, at learning rate `lr`.
  void step(TensorMap& params, const TensorMap& grads, double lr);
  void step(TensorMap& params, const TensorMap& grads) { step(params, grads, opt_.lr); }

  int64_t steps() const { return steps_; }  // step() calls so far
  bool is_decayed(const std::string& name, const Shape& shape) const;

  TensorMap state() const;
  void load_state(const TensorMap& state);
  void reset();  // forget all moments and counts

 private:
  struct Slot {
    Tensor m, v, vmax;
    int64_t t = 0;
  };
  AdamWOptions opt_;
  std::set<std::string> frozen_;
  DecayRule decay_rule_;
  std::map<std::string, Slot> slots_;
  int64_t steps_ = 0;
};

struct LrScheduleOptions {
  double base_lr = 1e-3;
  double warmup_lr = 1e-6;  // lr of step 0 when warmup_steps > 0
  double min_lr = 1e-5;     // reached at total_steps
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;  // warm-up included
};

class LrSchedule {
 public:
  explicit LrSchedule(LrScheduleOptions options);  // fw::UsageError on inconsistent options
  double lr_at(int64_t step) const;
  const LrScheduleOptions& options() const { return opt_; }

 private:
  LrScheduleOptions opt_;
};

double clip_grad_norm(TensorMap& grads, double max_norm);

}  // namespace fw
