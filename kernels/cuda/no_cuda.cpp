// A build without the CUDA backend (FORMWORK_CUDA=OFF, or no nvcc): what backends.h and
// op_runner.h answer then.
#include "kernels/cuda/backends.h"
#include "kernels/cuda/op_runner.h"

namespace fw::gpu {

const Backend* cuda_backend() { return nullptr; }

std::string cuda_status() {
  return "this build has no CUDA backend (configured without nvcc or with FORMWORK_CUDA=OFF)";
}

std::unique_ptr<OpRunner> cuda_op_runner(std::string* why) {
  if (why) *why = cuda_status();
  return nullptr;
}

}  // namespace fw::gpu
