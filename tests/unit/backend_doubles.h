// Backends for the tests of code that takes a fw::Backend (the trainer, the inference service,
// the GUI's device choice): each runs on the CPU executor underneath and behaves, towards its
// caller, like a device backend in one chosen respect.
//
//   DeviceLikeBackend b("fake_gpu");
//   b.copy_on_bind = true;     // bind() takes a copy, as a GPU uploads: updates need a re-bind
//   b.oom_on_forward = true;   // forward() throws fw::gpu::DeviceOutOfMemory
//   b.oom_on_bind = true;      // bind() throws it (the model does not fit)
//   b.why_unavailable = "...";  // unavailable(): the machine cannot run it
// Counters (atomics: executors run on worker threads) say what reached it.
#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "kernels/backend.h"
#include "kernels/cuda/device.h"

namespace fwtest {

class DeviceLikeBackend final : public fw::Backend {
 public:
  explicit DeviceLikeBackend(std::string name) : name_(std::move(name)) {}

  bool copy_on_bind = false;
  bool oom_on_forward = false;
  bool oom_on_bind = false;
  std::string why_unavailable;

  mutable std::atomic<int> created{0}, binds{0}, forwards{0};

  std::string_view name() const override { return name_; }
  bool supports(std::string_view op) const override { return fw::cpu_backend().supports(op); }
  std::string unavailable() const override { return why_unavailable; }
  std::unique_ptr<fw::Executor> create(const fw::Graph& g, const fw::Analysis& a) const override {
    if (!why_unavailable.empty()) throw fw::Error(why_unavailable);
    ++created;
    return std::make_unique<Ex>(*this, fw::cpu_backend().create(g, a));
  }

 private:
  class Ex final : public fw::Executor {
   public:
    Ex(const DeviceLikeBackend& b, std::unique_ptr<fw::Executor> inner)
        : b_(b), inner_(std::move(inner)) {}
    void bind(const fw::TensorMap& params) override {
      ++b_.binds;
      if (b_.oom_on_bind)
        throw fw::gpu::DeviceOutOfMemory("out of GPU memory: the weights do not fit (" +
                                         std::string(b_.name()) + ")");
      if (b_.copy_on_bind) {
        copy_ = params;  // "uploaded": later changes to `params` are not seen
        inner_->bind(copy_);
      } else {
        inner_->bind(params);
      }
    }
    std::vector<fw::Tensor> forward(const std::vector<fw::Tensor>& in,
                                    const fw::RunOptions& o) override {
      ++b_.forwards;
      if (b_.oom_on_forward)
        throw fw::gpu::DeviceOutOfMemory(
            "out of GPU memory: a buffer of 1.00 TB could not be "
            "allocated (" +
            std::string(b_.name()) + ")");
      return inner_->forward(in, o);
    }
    void backward(const std::vector<fw::Tensor>& dout, fw::Gradients& g) override {
      inner_->backward(dout, g);
    }
    const fw::Tensor* value(fw::ValueRef v) const override { return inner_->value(v); }
    const fw::Tensor* attention(int op) const override { return inner_->attention(op); }
    fw::MemoryStats memory() const override { return inner_->memory(); }
    long double planned_peak_bytes(int64_t batch, const fw::RunOptions& o) const override {
      return inner_->planned_peak_bytes(batch, o);
    }
    const fw::FlatGraph& flat() const override { return inner_->flat(); }
    const std::vector<double>& forward_times() const override { return inner_->forward_times(); }
    const std::vector<double>& backward_times() const override { return inner_->backward_times(); }

   private:
    const DeviceLikeBackend& b_;
    std::unique_ptr<fw::Executor> inner_;
    fw::TensorMap copy_;
  };

  std::string name_;
};

}  // namespace fwtest
