// One op on a device, from host tensors to host tensors: what the op-sweep test compares with
// the CPU kernels (tests/unit/test_cuda_ops.cpp). OpRunnerT<D> is instantiated for HostDevice
// (kernels/cuda/emulation.cpp) and for CudaDevice (kernels/cuda/cuda_backend.cu).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/attrs.h"
#include "core/tensor.h"
#include "kernels/cpu/ops.h"

namespace fw::gpu {

struct OpRun {
  std::vector<Tensor> out;      // per output port
  std::vector<Tensor> saved;    // per saved slot of the CPU kernel
  std::vector<Tensor> din;      // per input: the gradient, or empty when not wanted
  std::vector<Tensor> dparams;  // per parameter: the gradient, or empty when not wanted
};

class OpRunner {
 public:
  virtual ~OpRunner() = default;
  virtual std::string device() const = 0;
  // Forward of op `id` on `in` (batched) with `params`, then, when `dout` is not empty, backward
  // with the inputs and output the CPU kernel's needs() declares (the others are nullptr, as the
  // executor frees them) and the forward's saved slots, computing the inputs' and parameters'
  // gradients flagged in want_din / want_dparam. Errors: fw::Error.
  virtual OpRun run(std::string_view id, const Attrs& attrs, const cpu::RunMode& mode,
                    const std::vector<Tensor>& in, const std::vector<Tensor>& params,
                    const std::vector<Tensor>& dout, const std::vector<bool>& want_din,
                    const std::vector<bool>& want_dparam) = 0;
};

// The op programs under HostDevice (always built); block_threads: threads per launch_rows
// block (HostDevice::set_block_threads).
std::unique_ptr<OpRunner> host_emulation_runner(int block_threads = 1);
// The op programs on the GPU: nullptr, with the reason in *why, when this build has no CUDA
// backend or the machine no usable GPU.
std::unique_ptr<OpRunner> cuda_op_runner(std::string* why);

}  // namespace fw::gpu
