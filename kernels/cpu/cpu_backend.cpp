// The CPU backend: runs a flattened graph with the kernels of kernels/cpu/ops.h, following the
// memory plan of kernels/plan.h.
//
// Storage: every value, saved tensor and gradient is a shared_ptr<Tensor> whose storage comes
// from a pool and goes back to it when the last reference drops (ops that are the identity for
// their attributes and mode share their input instead of copying). Between runs of the same
// shapes the pool hands back the same buffers, so steady-state runs do not allocate.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/graph.h"
#include "core/sysmem.h"
#include "kernels/backend.h"
#include "kernels/cpu/ops.h"
#include "kernels/parallel.h"

namespace fw::cpu {
namespace {

using TensorPtr = std::shared_ptr<Tensor>;

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Recycled float buffers, keyed by capacity. A buffer is handed out for a request of n floats
// when its capacity is between n and 2n + 4096; growing a reused vector within its capacity
// touches no new pages. Steady-state runs (the same shapes again) find every buffer here.
class Pool {
 public:
  std::vector<float> take(size_t n) {
    if (n == 0) return {};
    auto it = free_.lower_bound(n);
    if (it != free_.end() && it->first <= 2 * n + 4096) {
      std::vector<float> v = std::move(it->second);
      free_.erase(it);
      v.resize(n);
      return v;
    }
    ++allocations_;
    return std::vector<float>(n);
  }
  void give(std::vector<float>&& v) {
    if (v.capacity() == 0) return;
    const size_t cap = v.capacity();
    free_.emplace(cap, std::move(v));
  }
  int64_t allocations() const { return allocations_; }

 private:
  std::multimap<size_t, std::vector<float>> free_;
  int64_t allocations_ = 0;
};

Shape batched(int64_t B, const Shape& s) {
  Shape b{B};
  b.insert(b.end(), s.begin(), s.end());
  return b;
}

class CpuExecutor final : public Executor {
 public:
  CpuExecutor(const Graph& g, const Analysis& a) : analysis_(a), fg_(flatten(g, a)) {
    const int n = int(fg_.ops.size());
    kernels_.assign(n, nullptr);
    for (int o = 0; o < n; ++o) {
      const FlatOp& op = fg_.ops[o];
      if (op.def->id == "input") continue;
      kernels_[o] = find_kernel(op.def->id);
      if (!kernels_[o])
        throw Error(op.path + ": op '" + op.def->id + "' is not supported by the cpu backend");
    }
    op_params_.assign(n, {});
    saved_.assign(n, {});
    saved_size_.assign(n, {});
  }
  ~CpuExecutor() override { release_all(); }

  const FlatGraph& flat() const override { return fg_; }

  void bind(const TensorMap& params) override {
    for (int o = 0; o < int(fg_.ops.size()); ++o) {
      op_params_[o].clear();
      for (int pi : fg_.ops[o].params) {
        const ParamInfo& info = analysis_.params.at(pi);
        auto it = params.find(info.name);
        if (it == params.end()) throw Error("missing parameter '" + info.name + "'");
        if (it->second.shape != info.shape || it->second.size() != numel(info.shape))
          throw Error("parameter '" + info.name + "' is " + shape_str(it->second.shape) +
                      ", expected " + shape_str(info.shape));
        op_params_[o].push_back(&it->second);
      }
    }
    bound_ = true;
  }

  std::vector<Tensor> forward(const std::vector<Tensor>& inputs, const RunOptions& opts) override;
  void backward(const std::vector<Tensor>& dout, Gradients& grads) override;

  const Tensor* value(ValueRef v) const override {
    if (!has_run_ || v.op < 0 || v.op >= int(fg_.ops.size())) return nullptr;
    const int id = plan_.value_id(v);
    return id < int(vals_.size()) ? vals_[id].get() : nullptr;
  }
  const Tensor* attention(int op) const override {
    if (op < 0 || op >= int(saved_.size()) || saved_[op].empty()) return nullptr;
    return saved_[op][0].get();
  }
  MemoryStats memory() const override { return {live_, peak_, pool_.allocations()}; }
  long double planned_peak_bytes(int64_t batch, const RunOptions& opts) const override {
    return plan_peak(plan_for(opts), batch, opts);
  }
  const std::vector<double>& forward_times() const override { return fwd_ms_; }
  const std::vector<double>& backward_times() const override { return bwd_ms_; }

 private:
  // A tensor of `shape` from the pool (values stale).
  TensorPtr fresh(const Shape& shape) { return fresh_n(static_cast<size_t>(numel(shape)), shape); }
  TensorPtr fresh_n(size_t n, const Shape& shape) {
    auto* t = new Tensor;
    t->shape = shape;
    t->data = pool_.take(n);
    count(t);
    return TensorPtr(t, [this](Tensor* p) {
      live_ -= counted_[p];
      counted_.erase(p);
      pool_.give(std::move(p->data));
      delete p;
    });
  }
  // Updates the memory statistics for t's current storage (kernels may have resized it).
  void count(const Tensor* t) {
    const int64_t bytes = static_cast<int64_t>(t->data.size() * sizeof(float));
    live_ += bytes - counted_[t];
    counted_[t] = bytes;
    peak_ = std::max(peak_, live_);
  }
  TensorPtr copy_of(const Tensor& src) {
    TensorPtr t = fresh(src.shape);
    std::memcpy(t->ptr(), src.ptr(), sizeof(float) * src.size());
    return t;
  }
  void release_all() {
    vals_.clear();
    grads_.clear();
    for (auto& s : saved_) s.clear();
  }
  RunMode mode_of(int op) const { return mode_of(op, opts_); }
  static RunMode mode_of(int op, const RunOptions& opts) {
    return {opts.training, op_seed(opts.seed, op)};
  }
  bool is_input_op(int o) const { return kernels_[o] == nullptr; }
  Plan plan_for(const RunOptions& opts) const;
  long double plan_peak(const Plan& plan, int64_t batch, const RunOptions& opts) const;
  // g += t (or g = t); a shared g is copied first so no other holder sees the change.
  void accumulate(int v, TensorPtr t);

  const Analysis& analysis_;
  FlatGraph fg_;
  std::vector<const CpuKernel*> kernels_;
  std::vector<std::vector<const Tensor*>> op_params_;
  bool bound_ = false;

  RunOptions opts_;
  Plan plan_;
  bool has_run_ = false;
  int64_t batch_ = 0;
  std::vector<TensorPtr> vals_, grads_;
  std::vector<std::vector<TensorPtr>> saved_;
  std::vector<Shape> shapes_;  // batched shape of every value of the last forward

  std::vector<std::vector<size_t>> saved_size_;  // per op and slot: size in the last run

  std::vector<double> fwd_ms_, bwd_ms_;  // per op, with RunOptions::profile

  Pool pool_;
  std::map<const Tensor*, int64_t> counted_;  // bytes counted in live_ per tensor
  int64_t live_ = 0, peak_ = 0;
};

Plan CpuExecutor::plan_for(const RunOptions& opts) const {
  PlanOptions po;
  po.backward = opts.backward;
  po.grads = opts.grads;
  po.keep_all = opts.keep_all;
  po.keep = opts.keep;
  po.keep_attention = opts.keep_attention;
  return make_plan(fg_, analysis_.params, po, [&](int o, bool param_grads) {
    const BackwardNeeds nd = kernels_[o]->needs(*fg_.ops[o].attrs, param_grads);
    return OpTraits{nd.inputs, nd.output, kernels_[o]->saved};
  });
}

long double CpuExecutor::plan_peak(const Plan& plan, int64_t batch, const RunOptions& opts) const {
  const int n = int(fg_.ops.size());
  std::vector<bool> shares(n, false), passes(n, false);
  std::vector<long double> saved(n, 0);
  for (int o = 0; o < n; ++o) {
    if (is_input_op(o)) continue;
    const FlatOp& op = fg_.ops[o];
    shares[o] = kernels_[o]->is_identity(*op.attrs, mode_of(o, opts));
    passes[o] = shares[o] || kernels_[o]->grad_is_dout;
    if (kernels_[o]->saved_bytes && !op.inputs.empty())
      saved[o] = kernels_[o]->saved_bytes(
          *op.attrs, fg_.ops[op.inputs[0].op].out_shapes.at(op.inputs[0].port));
  }
  return plan_peak_bytes(plan, fg_, batch, shares, passes, saved);
}

std::vector<Tensor> CpuExecutor::forward(const std::vector<Tensor>& inputs,
                                         const RunOptions& opts) {
  if (!bound_ && !analysis_.params.empty())
    throw Error("forward: no parameters bound (call bind() first)");
  if (inputs.size() != fg_.inputs.size())
    throw Error("forward: the graph has " + std::to_string(fg_.inputs.size()) + " inputs, got " +
                std::to_string(inputs.size()));
  release_all();
  has_run_ = false;
  opts_ = opts;
  plan_ = plan_for(opts);
  batch_ = inputs.empty() ? 0 : inputs[0].rank() > 0 ? inputs[0].dim(0) : 0;
  // Before anything is allocated: a batch whose activations cannot fit is refused with its size.
  if (const long double need = plan_peak(plan_, batch_, opts); exceeds_memory(need))
    throw Error("a forward" + std::string(opts.backward ? " and backward" : "") + " at batch " +
                std::to_string(batch_) + " would need " + format_bytes(need) + " of activations (" +
                memory_limit_text() + "); use a smaller batch or input");
  const int n = int(fg_.ops.size());
  vals_.assign(plan_.num_values, nullptr);
  grads_.assign(plan_.num_values, nullptr);
  shapes_.assign(plan_.num_values, {});
  peak_ = live_;
  fwd_ms_.assign(opts.profile ? n : 0, 0.0);
  bwd_ms_.assign(opts.profile ? n : 0, 0.0);

  for (int o = 0; o < n; ++o) {
    if (opts.cancel && opts.cancel->load()) throw Cancelled();
    const FlatOp& op = fg_.ops[o];
    const double t0 = opts.profile ? now_ms() : 0.0;
    for (int p = 0; p < int(op.out_shapes.size()); ++p)
      shapes_[plan_.value_id({o, p})] = batched(batch_, op.out_shapes[p]);
    if (is_input_op(o)) {
      const size_t k = std::find(fg_.inputs.begin(), fg_.inputs.end(), o) - fg_.inputs.begin();
      const Tensor& x = inputs[k];
      const Shape& want = shapes_[plan_.value_id({o, 0})];
      if (x.shape != want || x.size() != numel(want))
        throw Error("input " + std::to_string(k) + " is " + shape_str(x.shape) + ", expected " +
                    shape_str(want));
      vals_[plan_.value_id({o, 0})] = copy_of(x);
    } else {
      const CpuKernel* k = kernels_[o];
      const RunMode mode = mode_of(o);
      const int out0 = plan_.value_id({o, 0});
      if (op.out_shapes.size() == 1 && k->is_identity(*op.attrs, mode)) {
        vals_[out0] = vals_[plan_.value_id(op.inputs.at(0))];
      } else {
        std::vector<Tensor> shape_only;  // stand-ins for freed shape-only inputs
        shape_only.reserve(op.inputs.size());
        ForwardArgs fa{*op.attrs, mode, {}, op_params_[o], {}, {}};
        for (const ValueRef& in : op.inputs) {
          const int id = plan_.value_id(in);
          if (vals_[id]) {
            fa.in.push_back(vals_[id].get());
          } else {
            shape_only.emplace_back();
            shape_only.back().shape = shapes_[id];
            fa.in.push_back(&shape_only.back());
          }
        }
        for (int p = 0; p < int(op.out_shapes.size()); ++p) {
          const int id = plan_.value_id({o, p});
          vals_[id] = fresh(shapes_[id]);
          fa.out.push_back(vals_[id].get());
        }
        if (plan_.keep_saved[o]) {
          saved_[o].clear();
          saved_size_[o].resize(k->saved, 0);
          for (int s = 0; s < k->saved; ++s) {  // sized as last time: no reallocation
            saved_[o].push_back(fresh_n(saved_size_[o][s], {0}));
            fa.saved.push_back(saved_[o].back().get());
          }
        }
        k->forward(fa);
        for (int p = 0; p < int(op.out_shapes.size()); ++p) {
          const int id = plan_.value_id({o, p});
          if (vals_[id]->shape != shapes_[id])
            throw Error(op.path + ": " + op.def->id + " produced " + shape_str(vals_[id]->shape) +
                        ", analysis says " + shape_str(shapes_[id]));
        }
        for (int s = 0; s < int(saved_[o].size()); ++s) {  // sized by the kernel
          count(saved_[o][s].get());
          saved_size_[o][s] = saved_[o][s]->data.size();
        }
      }
    }
    for (int v : plan_.free_after_forward[o]) vals_[v].reset();
    if (opts.profile) fwd_ms_[o] = now_ms() - t0;
  }
  has_run_ = true;
  std::vector<Tensor> outs;
  for (const ValueRef& v : fg_.outputs) outs.push_back(*vals_[plan_.value_id(v)]);
  return outs;
}

void CpuExecutor::accumulate(int v, TensorPtr t) {
  if (!grads_[v]) {
    grads_[v] = std::move(t);
    return;
  }
  if (grads_[v].use_count() > 1) grads_[v] = copy_of(*grads_[v]);
  float* g = grads_[v]->ptr();
  const float* s = t->ptr();
  parallel_for(0, t->size(), 1 << 15, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) g[i] += s[i];
  });
}

void CpuExecutor::backward(const std::vector<Tensor>& dout, Gradients& result) {
  if (!has_run_ || !opts_.backward)
    throw Error("backward: needs a forward() with RunOptions::backward set");
  if (dout.size() != fg_.outputs.size())
    throw Error("backward: the graph has " + std::to_string(fg_.outputs.size()) +
                " outputs, got " + std::to_string(dout.size()) + " gradients");
  for (size_t k = 0; k < dout.size(); ++k) {
    const int v = plan_.value_id(fg_.outputs[k]);
    if (dout[k].shape != shapes_[v] || dout[k].size() != numel(shapes_[v]))
      throw Error("backward: gradient of output " + std::to_string(k) + " is " +
                  shape_str(dout[k].shape) + ", expected " + shape_str(shapes_[v]));
    if (plan_.needs_grad[v]) accumulate(v, copy_of(dout[k]));
  }
  const int n = int(fg_.ops.size());
  // Requested parameters: their tensors in `result` are written in place (storage reused).
  std::map<std::string, bool> wanted;
  for (const ParamInfo& info : analysis_.params)
    if (!opts_.grads.param_names.empty()
            ? std::find(opts_.grads.param_names.begin(), opts_.grads.param_names.end(),
                        info.name) != opts_.grads.param_names.end()
            : opts_.grads.params && info.trainable)
      wanted[info.name] = false;  // not yet written
  for (auto it = result.params.begin(); it != result.params.end();)
    it = wanted.count(it->first) ? std::next(it) : result.params.erase(it);
  for (int o = n - 1; o >= 0; --o) {
    if (!plan_.run_backward[o]) continue;
    if (opts_.cancel && opts_.cancel->load()) throw Cancelled();
    const double t0 = opts_.profile ? now_ms() : 0.0;
    const FlatOp& op = fg_.ops[o];
    const CpuKernel* k = kernels_[o];
    const RunMode mode = mode_of(o);
    const Plan& P = plan_;
    BackwardArgs ba{*op.attrs, mode, {}, {}, op_params_[o], {}, {}, {}, {}, {}};
    for (int i = 0; i < int(op.inputs.size()); ++i) {
      const int id = P.value_id(op.inputs[i]);
      ba.in_shapes.push_back(shapes_[id]);
      ba.in.push_back((P.traits[o].needs_inputs >> i) & 1u ? vals_[id].get() : nullptr);
    }
    ba.out.push_back(P.traits[o].needs_output ? vals_[P.value_id({o, 0})].get() : nullptr);
    for (const TensorPtr& s : saved_[o]) ba.saved.push_back(s.get());
    std::vector<TensorPtr> zeros;  // outputs no gradient reached
    for (int p = 0; p < int(op.out_shapes.size()); ++p) {
      const int id = P.value_id({o, p});
      if (!grads_[id]) {
        zeros.push_back(fresh(shapes_[id]));
        std::fill(zeros.back()->data.begin(), zeros.back()->data.end(), 0.0f);
        ba.dout.push_back(zeros.back().get());
      } else {
        ba.dout.push_back(grads_[id].get());
      }
    }
    std::vector<TensorPtr> din(op.inputs.size());
    // Gradient pass-through (identity, add): every input gradient is the output gradient itself.
    const bool identity =
        op.out_shapes.size() == 1 && (k->grad_is_dout || k->is_identity(*op.attrs, mode));
    for (int i = 0; i < int(op.inputs.size()); ++i) {
      if (P.want_din[o][i] && !identity) din[i] = fresh(shapes_[P.value_id(op.inputs[i])]);
      ba.din.push_back(din[i].get());
    }
    for (int j = 0; j < int(op.params.size()); ++j) {
      Tensor* d = nullptr;
      if (P.want_dparam[o][j]) {
        const std::string& name = analysis_.params[op.params[j]].name;
        d = &result.params[name];
        wanted[name] = true;
      }
      ba.dparams.push_back(d);
    }
    if (identity) {
      TensorPtr g = grads_[P.value_id({o, 0})];
      if (!g) g = zeros.at(0);
      for (TensorPtr& d : din) d = g;
    } else {
      k->backward(ba);
    }
    for (int i = 0; i < int(op.inputs.size()); ++i)
      if (P.want_din[o][i]) accumulate(P.value_id(op.inputs[i]), din[i]);
    if (!P.keep_saved_after[o]) saved_[o].clear();
    for (int v : P.free_after_backward[o]) vals_[v].reset();
    for (int p = 0; p < int(op.out_shapes.size()); ++p) {
      const int id = P.value_id({o, p});
      if (!P.grad_target[id]) grads_[id].reset();
    }
    if (opts_.profile) bwd_ms_[o] = now_ms() - t0;
  }
  // Requested parameters that no gradient reached: zeros.
  for (const ParamInfo& info : analysis_.params) {
    auto it = wanted.find(info.name);
    if (it == wanted.end() || it->second) continue;
    Tensor& t = result.params[info.name];
    resize(t, info.shape);
    std::fill(t.data.begin(), t.data.end(), 0.0f);
  }
  auto grad_or_zeros = [&](ValueRef v) {
    const int id = plan_.value_id(v);
    return grads_[id] ? *grads_[id] : Tensor(shapes_[id]);
  };
  result.inputs.clear();
  result.values.clear();
  if (opts_.grads.inputs)
    for (int o : fg_.inputs) result.inputs.push_back(grad_or_zeros({o, 0}));
  for (const ValueRef& v : opts_.grads.values) result.values.push_back(grad_or_zeros(v));
}

class CpuBackend final : public Backend {
 public:
  std::string_view name() const override { return "cpu"; }
  bool supports(std::string_view op_id) const override {
    return op_id == "input" || op_id == "output" || cpu::supports(op_id);
  }
  std::unique_ptr<Executor> create(const Graph& g, const Analysis& a) const override {
    require_valid(a);
    return std::make_unique<CpuExecutor>(g, a);
  }
};

}  // namespace
}  // namespace fw::cpu

namespace fw {
const Backend& cpu_backend() {
  static const cpu::CpuBackend backend;
  return backend;
}
}  // namespace fw
