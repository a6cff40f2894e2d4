// Internal to the reference implementations (reference.h): one forward and one backward
// function per op, registered in reference.cpp.
#pragma once
#include "kernels/cpu/common.h"
#include "kernels/cpu/reference.h"

namespace fw::cpu::ref {

struct Call {
  const Attrs& attrs;
  const RunMode& mode;
  const std::vector<DTensor>& in;
  const std::vector<DTensor>& params;
  DTensor* probs;  // self_attention only; may be null
};

using FwdFn = std::vector<DTensor> (*)(const Call&);
using BwdFn = Grads (*)(const Call&, const std::vector<DTensor>& dout);

struct RefOp {
  std::string_view id;
  FwdFn forward;
  BwdFn backward;
};

// ref_spatial.cpp: conv2d, avg_pool2d, pool_mixer, global_avg_pool, random_mixing
// ref_norm.cpp:    group_norm, layer_norm2d, layer_norm
// ref_misc.cpp:    everything else
const std::vector<RefOp>& spatial_ops();
const std::vector<RefOp>& norm_ops();
const std::vector<RefOp>& misc_ops();

// Zero tensors shaped like the inputs / parameters of a call (shape-only inputs included; the
// dispatcher clears those afterwards).
Grads zero_grads(const Call& c);

}  // namespace fw::cpu::ref
