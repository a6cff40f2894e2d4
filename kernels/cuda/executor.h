// DevExecutor<D>: the Executor of kernels/backend.h on a device D (device.h), following the same
// memory plan as the CPU executor (kernels/plan.h) with the device op programs of ops.h.
//
// Storage: every value, saved tensor and gradient is a shared_ptr<DTensor> whose device buffer
// comes from D's pool and goes back to it when the last reference drops. Parameters are uploaded
// by bind() into buffers the executor keeps (a re-bind of the same shapes reuses them). Inputs
// and output gradients are uploaded at the start of forward/backward; outputs, gradients, kept
// values and attention maps are downloaded (value() and attention() download on first use).
#pragma once
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/graph.h"
#include "core/sysmem.h"
#include "kernels/backend.h"
#include "kernels/cuda/ops.h"

namespace fw::gpu {

struct AddInto {  // g += s
  float* g;
  const float* s;
  FW_HD void operator()(int64_t i) const { g[i] += s[i]; }
};

template <class D>
class DevExecutor final : public Executor {
 public:
  using TPtr = std::shared_ptr<DTensor>;

  // `backend`: the name in error messages ("cuda").
  DevExecutor(const Graph& g, const Analysis& a, std::unique_ptr<D> dev, std::string backend)
      : analysis_(a), fg_(flatten(g, a)), dev_(std::move(dev)), backend_(std::move(backend)) {
    const int n = int(fg_.ops.size());
    kernels_.assign(n, nullptr);
    for (int o = 0; o < n; ++o) {
      const FlatOp& op = fg_.ops[o];
      if (op.def->id == "input") continue;
      kernels_[o] = find_dev_kernel<D>(op.def->id);
      if (!kernels_[o])
        throw Error(op.path + ": op '" + op.def->id + "' is not supported by the " + backend_ +
                    " backend");
    }
    op_params_.assign(n, {});
    saved_.assign(n, {});
  }
  ~DevExecutor() override {
    release_all();
    for (auto& [name, t] : params_dev_) dev_->give(t.p);
  }

  const FlatGraph& flat() const override { return fg_; }
  D& device() { return *dev_; }

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
        DTensor& t = params_dev_[info.name];
        dev_->resize(t, info.shape);
        dev_->upload(t.p, it->second.ptr(), it->second.size());
        op_params_[o].push_back(&t);
      }
    }
    bound_ = true;
  }

  std::vector<Tensor> forward(const std::vector<Tensor>& inputs, const RunOptions& opts) override;
  void backward(const std::vector<Tensor>& dout, Gradients& grads) override;

  const Tensor* value(ValueRef v) const override {
    if (!has_run_ || v.op < 0 || v.op >= int(fg_.ops.size())) return nullptr;
    const int id = plan_.value_id(v);
    if (id >= int(vals_.size()) || !vals_[id]) return nullptr;
    auto it = host_values_.find(id);
    if (it == host_values_.end()) it = host_values_.emplace(id, download(*vals_[id])).first;
    return &it->second;
  }
  const Tensor* attention(int op) const override {
    if (op < 0 || op >= int(saved_.size()) || saved_[op].empty()) return nullptr;
    auto it = host_attention_.find(op);
    if (it == host_attention_.end())
      it = host_attention_.emplace(op, download(*saved_[op][0])).first;
    return &it->second;
  }
  MemoryStats memory() const override { return {live_, peak_, dev_->allocations()}; }
  long double planned_peak_bytes(int64_t batch, const RunOptions& opts) const override {
    return plan_peak(plan_for(opts), batch, opts);
  }
  const std::vector<double>& forward_times() const override { return fwd_ms_; }
  const std::vector<double>& backward_times() const override { return bwd_ms_; }

 private:
  static double now_ms() {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static Shape batched(int64_t B, const Shape& s) {
    Shape b{B};
    b.insert(b.end(), s.begin(), s.end());
    return b;
  }
  Tensor download(const DTensor& t) const {
    Tensor h(t.shape);
    if (h.size()) dev_->download(h.ptr(), t.p, h.size());
    return h;
  }
  TPtr wrap(DTensor* t) {
    return TPtr(t, [this](DTensor* p) {
      live_ -= counted_[p];
      counted_.erase(p);
      dev_->give(p->p);
      delete p;
    });
  }
  TPtr fresh(const Shape& shape) {
    auto* t = new DTensor;
    TPtr r = wrap(t);
    dev_->resize(*t, shape);
    count(t);
    return r;
  }
  TPtr empty_slot() { return wrap(new DTensor); }
  void count(const DTensor* t) {
    const int64_t bytes = static_cast<int64_t>(t->cap * sizeof(float));
    live_ += bytes - counted_[t];
    counted_[t] = bytes;
    peak_ = std::max(peak_, live_);
  }
  TPtr upload_copy(const Tensor& src) {
    TPtr t = fresh(src.shape);
    if (src.size()) dev_->upload(t->p, src.ptr(), src.size());
    return t;
  }
  TPtr copy_of(const DTensor& src) {
    TPtr t = fresh(src.shape);
    dev_->copy(t->p, src.p, src.size());
    return t;
  }
  void release_all() {
    vals_.clear();
    grads_.clear();
    for (auto& s : saved_) s.clear();
    host_values_.clear();
    host_attention_.clear();
  }
  static cpu::RunMode mode_of(int op, const RunOptions& opts) {
    return {opts.training, op_seed(opts.seed, op)};
  }
  bool is_input_op(int o) const { return kernels_[o] == nullptr; }
  const cpu::CpuKernel& meta(int o) const { return *kernels_[o]->meta; }

  Plan plan_for(const RunOptions& opts) const {
    PlanOptions po;
    po.backward = opts.backward;
    po.grads = opts.grads;
    po.keep_all = opts.keep_all;
    po.keep = opts.keep;
    po.keep_attention = opts.keep_attention;
    return make_plan(fg_, analysis_.params, po, [&](int o, bool param_grads) {
      const cpu::BackwardNeeds nd = meta(o).needs(*fg_.ops[o].attrs, param_grads);
      return OpTraits{nd.inputs, nd.output, meta(o).saved};
    });
  }
  long double plan_peak(const Plan& plan, int64_t batch, const RunOptions& opts) const {
    const int n = int(fg_.ops.size());
    std::vector<bool> shares(n, false), passes(n, false);
    std::vector<long double> saved(n, 0);
    for (int o = 0; o < n; ++o) {
      if (is_input_op(o)) continue;
      const FlatOp& op = fg_.ops[o];
      shares[o] = meta(o).is_identity(*op.attrs, mode_of(o, opts));
      passes[o] = shares[o] || meta(o).grad_is_dout;
      if (meta(o).saved_bytes && !op.inputs.empty())
        saved[o] = meta(o).saved_bytes(*op.attrs,
                                       fg_.ops[op.inputs[0].op].out_shapes.at(op.inputs[0].port));
    }
    return plan_peak_bytes(plan, fg_, batch, shares, passes, saved);
  }
  // g += t (or g = t); a shared g is copied first so no other holder sees the change.
  void accumulate(int v, TPtr t) {
    if (!grads_[v]) {
      grads_[v] = std::move(t);
      return;
    }
    if (grads_[v].use_count() > 1) grads_[v] = copy_of(*grads_[v]);
    dev_->launch(t->size(), AddInto{grads_[v]->p, t->p});
  }

  const Analysis& analysis_;
  FlatGraph fg_;
  std::unique_ptr<D> dev_;
  std::string backend_;
  std::vector<const DevKernel<D>*> kernels_;
  std::map<std::string, DTensor> params_dev_;
  std::vector<std::vector<const DTensor*>> op_params_;
  bool bound_ = false;

  RunOptions opts_;
  Plan plan_;
  bool has_run_ = false;
  int64_t batch_ = 0;
  std::vector<TPtr> vals_, grads_;
  std::vector<std::vector<TPtr>> saved_;
  std::vector<Shape> shapes_;
  mutable std::map<int, Tensor> host_values_;     // downloaded by value()
  mutable std::map<int, Tensor> host_attention_;  // downloaded by attention()

  std::vector<double> fwd_ms_, bwd_ms_;
  std::map<const DTensor*, int64_t> counted_;
  int64_t live_ = 0, peak_ = 0;
};

template <class D>
std::vector<Tensor> DevExecutor<D>::forward(const std::vector<Tensor>& inputs,
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
  const MemoryLimit lim = dev_->limit();
  if (const long double need = plan_peak(plan_, batch_, opts); need > lim.bytes)
    throw Error("a forward" + std::string(opts.backward ? " and backward" : "") + " at batch " +
                std::to_string(batch_) + " would need " + format_bytes(need) + " of activations (" +
                lim.text + "); use a smaller batch or input");
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
      vals_[plan_.value_id({o, 0})] = upload_copy(x);
    } else {
      const DevKernel<D>* k = kernels_[o];
      const cpu::RunMode mode = mode_of(o, opts);
      const int out0 = plan_.value_id({o, 0});
      if (op.out_shapes.size() == 1 && k->meta->is_identity(*op.attrs, mode)) {
        vals_[out0] = vals_[plan_.value_id(op.inputs.at(0))];
      } else {
        std::vector<DTensor> shape_only;  // stand-ins for freed shape-only inputs
        shape_only.reserve(op.inputs.size());
        Fwd<D> fa{*dev_, *op.attrs, mode, {}, op_params_[o], {}, {}};
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
          for (int s = 0; s < k->meta->saved; ++s) {
            saved_[o].push_back(empty_slot());
            fa.saved.push_back(saved_[o].back().get());
          }
        }
        try {
          k->forward(fa);
        } catch (const Cancelled&) {
          throw;
        } catch (const Error& e) {
          throw Error(op.path + ": " + e.what());
        }
        for (int p = 0; p < int(op.out_shapes.size()); ++p) {
          const int id = plan_.value_id({o, p});
          count(vals_[id].get());
          if (vals_[id]->shape != shapes_[id])
            throw Error(op.path + ": " + op.def->id + " produced " + shape_str(vals_[id]->shape) +
                        ", analysis says " + shape_str(shapes_[id]));
        }
        for (const TPtr& s : saved_[o]) count(s.get());
      }
    }
    for (int v : plan_.free_after_forward[o]) vals_[v].reset();
    if (opts.profile) {
      dev_->sync();
      fwd_ms_[o] = now_ms() - t0;
    }
  }
  has_run_ = true;
  std::vector<Tensor> outs;
  for (const ValueRef& v : fg_.outputs) outs.push_back(download(*vals_[plan_.value_id(v)]));
  return outs;
}

template <class D>
void DevExecutor<D>::backward(const std::vector<Tensor>& dout, Gradients& result) {
  if (!has_run_ || !opts_.backward)
    throw Error("backward: needs a forward() with RunOptions::backward set");
  if (dout.size() != fg_.outputs.size())
    throw Error("backward: the graph has " + std::to_string(fg_.outputs.size()) + " outputs, got " +
                std::to_string(dout.size()) + " gradients");
  for (size_t k = 0; k < dout.size(); ++k) {
    const int v = plan_.value_id(fg_.outputs[k]);
    if (dout[k].shape != shapes_[v] || dout[k].size() != numel(shapes_[v]))
      throw Error("backward: gradient of output " + std::to_string(k) + " is " +
                  shape_str(dout[k].shape) + ", expected " + shape_str(shapes_[v]));
    if (plan_.needs_grad[v]) accumulate(v, upload_copy(dout[k]));
  }
  const int n = int(fg_.ops.size());
  std::map<std::string, bool> wanted;
  for (const ParamInfo& info : analysis_.params)
    if (!opts_.grads.param_names.empty()
            ? std::find(opts_.grads.param_names.begin(), opts_.grads.param_names.end(),
                        info.name) != opts_.grads.param_names.end()
            : opts_.grads.params && info.trainable)
      wanted[info.name] = false;
  for (auto it = result.params.begin(); it != result.params.end();)
    it = wanted.count(it->first) ? std::next(it) : result.params.erase(it);
  std::map<std::string, DTensor> dparams;  // device parameter gradients, downloaded at the end
  for (int o = n - 1; o >= 0; --o) {
    if (!plan_.run_backward[o]) continue;
    if (opts_.cancel && opts_.cancel->load()) {
      for (auto& [name, t] : dparams) dev_->give(t.p);
      throw Cancelled();
    }
    const double t0 = opts_.profile ? now_ms() : 0.0;
    const FlatOp& op = fg_.ops[o];
    const DevKernel<D>* k = kernels_[o];
    const cpu::RunMode mode = mode_of(o, opts_);
    const Plan& P = plan_;
    Bwd<D> ba{*dev_, *op.attrs, mode, {}, {}, op_params_[o], {}, {}, {}, {}, {}};
    for (int i = 0; i < int(op.inputs.size()); ++i) {
      const int id = P.value_id(op.inputs[i]);
      ba.in_shapes.push_back(shapes_[id]);
      ba.in.push_back((P.traits[o].needs_inputs >> i) & 1u ? vals_[id].get() : nullptr);
    }
    ba.out.push_back(P.traits[o].needs_output ? vals_[P.value_id({o, 0})].get() : nullptr);
    for (const TPtr& s : saved_[o]) ba.saved.push_back(s.get());
    std::vector<TPtr> zeros;
    for (int p = 0; p < int(op.out_shapes.size()); ++p) {
      const int id = P.value_id({o, p});
      if (!grads_[id]) {
        zeros.push_back(fresh(shapes_[id]));
        dev_->zero(zeros.back()->p, zeros.back()->size());
        ba.dout.push_back(zeros.back().get());
      } else {
        ba.dout.push_back(grads_[id].get());
      }
    }
    std::vector<TPtr> din(op.inputs.size());
    const bool identity = op.out_shapes.size() == 1 &&
                          (k->meta->grad_is_dout || k->meta->is_identity(*op.attrs, mode));
    for (int i = 0; i < int(op.inputs.size()); ++i) {
      if (P.want_din[o][i] && !identity) din[i] = fresh(shapes_[P.value_id(op.inputs[i])]);
      ba.din.push_back(din[i].get());
    }
    for (int j = 0; j < int(op.params.size()); ++j) {
      DTensor* d = nullptr;
      if (P.want_dparam[o][j]) {
        const std::string& name = analysis_.params[op.params[j]].name;
        d = &dparams[name];
        wanted[name] = true;
      }
      ba.dparams.push_back(d);
    }
    if (identity) {
      TPtr g = grads_[P.value_id({o, 0})];
      if (!g) g = zeros.at(0);
      for (TPtr& d : din) d = g;
    } else {
      try {
        k->backward(ba);
      } catch (const Error& e) {
        for (auto& [name, t] : dparams) dev_->give(t.p);
        throw Error(op.path + ": " + e.what());
      }
    }
    for (int i = 0; i < int(op.inputs.size()); ++i)
      if (P.want_din[o][i]) accumulate(P.value_id(op.inputs[i]), din[i]);
    if (!P.keep_saved_after[o]) saved_[o].clear();
    for (int v : P.free_after_backward[o]) vals_[v].reset();
    for (int p = 0; p < int(op.out_shapes.size()); ++p) {
      const int id = P.value_id({o, p});
      if (!P.grad_target[id]) grads_[id].reset();
    }
    if (opts_.profile) {
      dev_->sync();
      bwd_ms_[o] = now_ms() - t0;
    }
  }
  for (auto& [name, t] : dparams) {
    Tensor& h = result.params[name];
    cpu::resize(h, t.shape);
    if (h.size()) dev_->download(h.ptr(), t.p, h.size());
    dev_->give(t.p);
  }
  for (const ParamInfo& info : analysis_.params) {
    auto it = wanted.find(info.name);
    if (it == wanted.end() || it->second) continue;
    Tensor& t = result.params[info.name];
    cpu::resize(t, info.shape);
    std::fill(t.data.begin(), t.data.end(), 0.0f);
  }
  auto grad_or_zeros = [&](ValueRef v) {
    const int id = plan_.value_id(v);
    return grads_[id] ? download(*grads_[id]) : Tensor(shapes_[id]);
  };
  result.inputs.clear();
  result.values.clear();
  if (opts_.grads.inputs)
    for (int o : fg_.inputs) result.inputs.push_back(grad_or_zeros({o, 0}));
  for (const ValueRef& v : opts_.grads.values) result.values.push_back(grad_or_zeros(v));
}

}  // namespace fw::gpu
