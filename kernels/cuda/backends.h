// The device backends built on kernels/cuda/: the GPU one, and its host emulation for tests.
#pragma once
#include <string>

#include "kernels/backend.h"

namespace fw::gpu {

// The CUDA backend, or nullptr when this build has none (FORMWORK_CUDA off or no nvcc). It is
// listed by fw::backends() either way it exists; Backend::unavailable() says when the machine has
// no usable GPU.
const Backend* cuda_backend();
// One line on the GPU: "NVIDIA H200, sm_90, 143 GB, driver 13.0", or why there is none
// ("this build has no CUDA backend", "no CUDA device: ...").
std::string cuda_status();

// TF32 tensor-core matrix products on the GPU (off by default: FP32 throughout). The CLI's
// --tf32 switches it on for the process.
void set_tf32(bool on);
bool tf32_enabled();

// The device programs run on the host by HostDevice, as a backend named "emulated": not offered
// to users (fw::backends() does not list it); the tests run whole networks through it to check
// the CUDA backend's executor and op programs where there is no GPU.
const Backend& host_emulation_backend();

}  // namespace fw::gpu
