#include "kernels/train/optim.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace fw {
namespace {

constexpr const char* kM = "adam.m.";
constexpr const char* kV = "adam.v.";
constexpr const char* kVmax = "adam.vmax.";
constexpr const char* kT = "adam.t.";
constexpr const char* kSteps = "adam.steps";

bool starts_with(const std::string& s, const std::string& p) {
  return s.compare(0, p.size(), p) == 0;
}

std::string last_component(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

Tensor scalar(double v) { return Tensor(Shape{}, float(v)); }

}  // namespace

bool decays(const std::string& name, const Shape& shape) {
  if (shape.size() <= 1) return false;
  if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0) return false;
  const std::string last = last_component(name);
  return !(last == "cls_token" || last == "dist_token" || last == "reg_token" ||
           last == "pos_embed");
}

std::set<std::string> frozen_names(const std::vector<ParamInfo>& params) {
  std::set<std::string> out;
  for (const ParamInfo& p : params)
    if (!p.trainable) out.insert(p.name);
  return out;
}

AdamW::AdamW(AdamWOptions options) : opt_(options), decay_rule_(decays) {}

bool AdamW::is_decayed(const std::string& name, const Shape& shape) const {
  return opt_.weight_decay != 0 && decay_rule_(name, shape);
}

void AdamW::step(TensorMap& params, const TensorMap& grads, double lr) {
  // Validate everything before changing anything, so an error leaves the state untouched.
  for (const auto& [name, g] : grads) {
    const auto it = params.find(name);
    if (it == params.end()) throw Error("optimizer: gradient for unknown parameter '" + name + "'");
    if (it->second.shape != g.shape || it->second.data.size() != g.data.size())
      throw Error("optimizer: gradient of '" + name + "' is " + shape_str(g.shape) +
                  ", the parameter is " + shape_str(it->second.shape));
    const auto st = slots_.find(name);
    if (st != slots_.end() && st->second.m.shape != g.shape)
      throw Error("optimizer: the state of '" + name + "' is " + shape_str(st->second.m.shape) +
                  ", the parameter is " + shape_str(g.shape) + " (reset the optimizer)");
  }
  ++steps_;
  const float beta1 = float(opt_.beta1), beta2 = float(opt_.beta2);
  const float one_minus_beta1 = float(1 - opt_.beta1), one_minus_beta2 = float(1 - opt_.beta2);
  const float eps = float(opt_.eps);
  for (const auto& [name, g] : grads) {
    if (frozen_.count(name)) continue;
    Tensor& p = params.at(name);
    Slot& s = slots_[name];
    if (s.t == 0) {  // first update: zero moments
      s.m = Tensor(p.shape);
      s.v = Tensor(p.shape);
    }
    // The running maximum starts at zero (also when a state saved without amsgrad resumes).
    if (opt_.amsgrad && s.vmax.data.size() != p.data.size()) s.vmax = Tensor(p.shape);
    s.t += 1;
    const double t = double(s.t);
    const double wd = is_decayed(name, p.shape) ? opt_.weight_decay : 0.0;
    const float decay = float(1 - lr * wd);
    const double bias_correction1 = 1 - std::pow(opt_.beta1, t);
    const double bias_correction2 = 1 - std::pow(opt_.beta2, t);
    const float neg_step_size = float(-(lr / bias_correction1));
    const float bc2_sqrt = float(std::sqrt(bias_correction2));
    float* pp = p.ptr();
    float* m = s.m.ptr();
    float* v = s.v.ptr();
    float* vmax = opt_.amsgrad ? s.vmax.ptr() : nullptr;
    const float* gp = g.ptr();
    const size_t n = p.data.size();
    for (size_t i = 0; i < n; ++i) {
      // torch: param.mul_(1 - lr * wd); exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1);
      //        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2);
      //        denom = (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps);
      //        param.addcdiv_(exp_avg, denom, value=-step_size)
      if (wd != 0) pp[i] = pp[i] * decay;
      m[i] = m[i] * beta1;
      m[i] = m[i] + one_minus_beta1 * gp[i];
      v[i] = v[i] * beta2;
      v[i] = v[i] + one_minus_beta2 * gp[i] * gp[i];
      float second = v[i];
      if (vmax) {
        vmax[i] = std::max(vmax[i], v[i]);
        second = vmax[i];
      }
      const float denom = std::sqrt(second) / bc2_sqrt + eps;
      pp[i] = pp[i] + neg_step_size * (m[i] / denom);
    }
  }
}

TensorMap AdamW::state() const {
  TensorMap st;
  st[kSteps] = scalar(double(steps_));
  for (const auto& [name, s] : slots_) {
    st[kM + name] = s.m;
    st[kV + name] = s.v;
    if (!s.vmax.data.empty()) st[kVmax + name] = s.vmax;
    st[kT + name] = scalar(double(s.t));
  }
  return st;
}

void AdamW::load_state(const TensorMap& state) {
  std::map<std::string, Slot> slots;
  std::map<std::string, int> parts;  // bit 1: m, 2: v, 4: t, 8: vmax
  int64_t steps = 0;
  auto count = [](const std::string& key, const Tensor& t) {
    if (t.data.size() != 1 || !(t.data[0] >= 0) || t.data[0] != std::floor(t.data[0]))
      throw Error("optimizer state: '" + key + "' must be one non-negative whole number");
    return int64_t(t.data[0]);
  };
  for (const auto& [key, t] : state) {
    if (key != kSteps && t.data.size() != size_t(numel(t.shape)))
      throw Error("optimizer state: '" + key + "' has " + std::to_string(t.data.size()) +
                  " values for shape " + shape_str(t.shape));
    std::string name;
    if (key == kSteps) {
      steps = count(key, t);
    } else if (starts_with(key, kVmax)) {
      name = key.substr(std::string(kVmax).size());
      slots[name].vmax = t;
      parts[name] |= 8;
    } else if (starts_with(key, kM)) {
      name = key.substr(std::string(kM).size());
      slots[name].m = t;
      parts[name] |= 1;
    } else if (starts_with(key, kV)) {
      name = key.substr(std::string(kV).size());
      slots[name].v = t;
      parts[name] |= 2;
    } else if (starts_with(key, kT)) {
      name = key.substr(std::string(kT).size());
      slots[name].t = count(key, t);
      parts[name] |= 4;
    } else {
      throw Error("optimizer state: unexpected entry '" + key +
                  "' (expected adam.steps, adam.m.*, adam.v.*, adam.vmax.*, adam.t.*)");
    }
  }
  for (const auto& [name, s] : slots) {
    const int have = parts[name];
    for (const auto& [bit, prefix] : {std::pair{1, kM}, std::pair{2, kV}, std::pair{4, kT}})
      if (!(have & bit))
        throw Error("optimizer state: " + std::string(prefix) + name + " is missing");
    if (s.m.shape != s.v.shape || ((have & 8) && s.vmax.shape != s.m.shape))
      throw Error("optimizer state: the moments of '" + name + "' differ in shape");
    if (s.t < 1) throw Error("optimizer state: adam.t." + name + " must be at least 1");
  }
  slots_ = std::move(slots);
  steps_ = steps;
}

void AdamW::reset() {
  slots_.clear();
  steps_ = 0;
}

LrSchedule::LrSchedule(LrScheduleOptions options) : opt_(options) {
  if (opt_.total_steps < 1) throw UsageError("lr schedule: total steps must be at least 1");
  if (opt_.warmup_steps < 0 || opt_.warmup_steps > opt_.total_steps)
    throw UsageError("lr schedule: warm-up steps must be in [0, total steps = " +
                     std::to_string(opt_.total_steps) + "], got " +
                     std::to_string(opt_.warmup_steps));
  if (!(opt_.base_lr >= 0) || !(opt_.warmup_lr >= 0) || !(opt_.min_lr >= 0))
    throw UsageError("lr schedule: learning rates must be >= 0");
}

double LrSchedule::lr_at(int64_t step) const {
  const int64_t W = opt_.warmup_steps, T = opt_.total_steps;
  if (step < 0) step = 0;
  if (step < W) return opt_.warmup_lr + (opt_.base_lr - opt_.warmup_lr) * double(step) / double(W);
  if (step >= T) return opt_.min_lr;
  const double progress = double(step - W) / double(T - W);
  return opt_.min_lr + 0.5 * (opt_.base_lr - opt_.min_lr) * (1 + std::cos(M_PI * progress));
}

double clip_grad_norm(TensorMap& grads, double max_norm) {
  double sq = 0;
  for (const auto& [name, g] : grads)
    for (float v : g.data) sq += double(v) * double(v);
  const double total = std::sqrt(sq);
  if (!std::isfinite(total)) return total;
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    const float c = float(coef);
    for (auto& [name, g] : grads)
      for (float& v : g.data) v *= c;
  }
  return total;
}

}  // namespace fw
