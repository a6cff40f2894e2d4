// OpRunnerT<D>: OpRunner (op_runner.h) over a device D. Included where D is instantiated.
#pragma once
#include "kernels/cuda/op_runner.h"
#include "kernels/cuda/ops.h"

namespace fw::gpu {

template <class D>
class OpRunnerT final : public OpRunner {
 public:
  explicit OpRunnerT(std::unique_ptr<D> dev) : dev_(std::move(dev)) {}
  std::string device() const override { return dev_->name(); }

  OpRun run(std::string_view id, const Attrs& attrs, const cpu::RunMode& mode,
            const std::vector<Tensor>& in, const std::vector<Tensor>& params,
            const std::vector<Tensor>& dout, const std::vector<bool>& want_din,
            const std::vector<bool>& want_dparam) override {
    const DevKernel<D>* k = find_dev_kernel<D>(id);
    if (!k) throw Error("no device program for op '" + std::string(id) + "'");
    D& d = *dev_;
    std::vector<DTensor> din_(in.size()), dpar(params.size()), dout_(dout.size());
    std::vector<DTensor> xin(in.size()), xpar(params.size());
    std::vector<DTensor> out(1), saved(k->meta->saved);
    auto up = [&](DTensor& t, const Tensor& h) {
      d.resize(t, h.shape);
      if (h.size()) d.upload(t.p, h.ptr(), h.size());
    };
    auto down = [&](const DTensor& t) {
      Tensor h(t.shape);
      if (h.size()) d.download(h.ptr(), t.p, h.size());
      return h;
    };
    struct Release {  // gives every buffer back, whatever happens
      D& d;
      std::vector<std::vector<DTensor>*> all;
      ~Release() {
        for (auto* v : all)
          for (DTensor& t : *v) d.give(t.p);
      }
    } release{d, {&din_, &dpar, &dout_, &xin, &xpar, &out, &saved}};
    for (size_t i = 0; i < in.size(); ++i) up(xin[i], in[i]);
    for (size_t i = 0; i < params.size(); ++i) up(xpar[i], params[i]);
    Fwd<D> fa{d, attrs, mode, {}, {}, {}, {}};
    for (DTensor& t : xin) fa.in.push_back(&t);
    for (DTensor& t : xpar) fa.params.push_back(&t);
    fa.out.push_back(&out[0]);
    if (!dout.empty())
      for (DTensor& t : saved) fa.saved.push_back(&t);
    k->forward(fa);
    OpRun r;
    r.out.push_back(down(out[0]));
    if (!dout.empty())
      for (const DTensor& t : saved) r.saved.push_back(down(t));
    if (dout.empty()) return r;
    Bwd<D> ba{d, attrs, mode, {}, {}, {}, {}, {}, {}, {}, {}};
    // Backward gets only what the CPU kernel's needs() declares, as in the executor (which
    // frees the rest): a program that reads more fails here.
    bool param_grads = false;
    for (size_t i = 0; i < params.size(); ++i)
      param_grads = param_grads || (i < want_dparam.size() && want_dparam[i]);
    const cpu::BackwardNeeds needs = k->meta->needs(attrs, param_grads);
    for (size_t i = 0; i < in.size(); ++i) {
      ba.in_shapes.push_back(in[i].shape);
      ba.in.push_back(needs.needs_input(int(i)) ? &xin[i] : nullptr);
    }
    for (DTensor& t : xpar) ba.params.push_back(&t);
    ba.out.push_back(needs.output ? &out[0] : nullptr);
    for (DTensor& t : saved) ba.saved.push_back(&t);
    for (size_t i = 0; i < dout.size(); ++i) {
      up(dout_[i], dout[i]);
      ba.dout.push_back(&dout_[i]);
    }
    for (size_t i = 0; i < in.size(); ++i)
      ba.din.push_back(i < want_din.size() && want_din[i] ? &din_[i] : nullptr);
    for (size_t i = 0; i < params.size(); ++i)
      ba.dparams.push_back(i < want_dparam.size() && want_dparam[i] ? &dpar[i] : nullptr);
    k->backward(ba);
    for (size_t i = 0; i < in.size(); ++i) r.din.push_back(ba.din[i] ? down(din_[i]) : Tensor());
    for (size_t i = 0; i < params.size(); ++i)
      r.dparams.push_back(ba.dparams[i] ? down(dpar[i]) : Tensor());
    return r;
  }

 private:
  std::unique_ptr<D> dev_;
};

}  // namespace fw::gpu
