// The CPU op library: batched float32 forward and backward for every leaf op of core/OPS.md.
//
// Contents
//  1. RunMode        - evaluation/training and the dropout seed
//  2. ForwardArgs    - what a forward call reads and writes
//  3. BackwardArgs   - what a backward call reads and writes
//  4. CpuKernel      - one dispatch entry: forward, backward, and what backward keeps alive
//  5. lookup         - find_kernel(), supports(), all_kernels()
//
// Contract
//  - Tensors carry the batch: an op whose per-sample input is [C,H,W] takes (B, C, H, W).
//    Attributes are the node's (names and defaults as core/OPS.md; a missing attribute takes its
//    OPS.md default, and attributes without a default are inferred from the input shapes and
//    checked when present). Parameters come in the order OPS.md lists them.
//  - Kernels size their outputs themselves (fw::cpu::resize: the storage is reused when the
//    element count is unchanged, so an executor that keeps its tensors allocates only once) and
//    overwrite every element. Gradients are overwritten too, never accumulated: the caller sums
//    the gradients of a value read by several ops.
//  - Memory planning: backward reads the upstream gradient, the parameters, the inputs named by
//    `needs()`, the forward output if `needs().output`, and the op's `saved` tensors (statistics,
//    attention probabilities) that forward wrote. Everything else may be freed after forward.
//  - Shape or attribute errors (a weight of the wrong shape, a kernel larger than the padded
//    input) throw fw::Error naming the op and the tensor; the caller prefixes the node's path.
//  - Threads: kernels split their work with fw::parallel_for (kernels/parallel.h) and call Eigen
//    single-threaded inside each chunk. Results do not depend on the thread count except for the
//    order of float summations in parameter gradients.
//  - A plain double-precision reference of every op lives in kernels/cpu/reference.h; the unit
//    tests compare these fast kernels against it and against PyTorch.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/attrs.h"
#include "core/tensor.h"

namespace fw::cpu {

// 1. RunMode --------------------------------------------------------------------------------------
struct RunMode {
  bool training = false;  // dropout/drop_path are the identity when false
  uint64_t seed = 0;      // dropout/drop_path masks are a pure function of (seed, element index):
                          // backward must get the same seed as its forward
};

// 2. ForwardArgs ----------------------------------------------------------------------------------
struct ForwardArgs {
  const Attrs& attrs;
  RunMode mode;
  std::vector<const Tensor*> in;      // one per input port, batched: (B, ...)
  std::vector<const Tensor*> params;  // in OPS.md order; empty for parameterless ops
  std::vector<Tensor*> out;           // one per output port; the kernel sets shape and values
  // One slot per CpuKernel::saved. nullptr (or a shorter vector) = backward will not run: the
  // kernel then uses scratch memory. self_attention's slot 0 receives the softmax probabilities
  // (B, heads, N, N) — also what `formwork attention` shows.
  std::vector<Tensor*> saved;
};

// 3. BackwardArgs ---------------------------------------------------------------------------------
struct BackwardArgs {
  const Attrs& attrs;
  RunMode mode;                       // the forward's mode (dropout masks are recomputed)
  std::vector<Shape> in_shapes;       // batched shapes of every input (values may be freed)
  std::vector<const Tensor*> in;      // values of the inputs that needs() names, else nullptr
  std::vector<const Tensor*> params;  // all parameters, as in forward
  std::vector<const Tensor*> out;     // forward outputs if needs().output, else nullptr
  std::vector<const Tensor*> saved;   // what forward wrote into its saved slots
  std::vector<const Tensor*> dout;    // upstream gradient, one per output port (output's shape)
  // Gradients wanted: one slot per input / parameter; nullptr (or a shorter vector) = not
  // wanted. Shape-only inputs (to_nchw's grid) never get one.
  std::vector<Tensor*> din;
  std::vector<Tensor*> dparams;
};

// 4. CpuKernel ------------------------------------------------------------------------------------
// What backward reads besides dout and the parameters.
struct BackwardNeeds {
  uint32_t inputs = 0;  // bit i set: the values of input i
  bool output = false;  // the values of output 0
  bool needs_input(int i) const { return (inputs >> i) & 1u; }
};

struct CpuKernel {
  std::string_view id;  // OPS.md op id
  // `param_grads`: whether backward will be asked for parameter gradients (a Grad-CAM pass that
  // wants only input gradients may free more).
  BackwardNeeds (*needs)(const Attrs& attrs, bool param_grads);
  int saved = 0;                 // number of saved slots forward fills for backward
  const char* saved_doc = "";    // what they hold, with shapes
  void (*forward)(const ForwardArgs&);
  void (*backward)(const BackwardArgs&);
  // True when forward is the identity for these attributes and mode (identity, dropout in
  // evaluation...): an executor may alias output to input instead of copying. Never null.
  bool (*is_identity)(const Attrs& attrs, const RunMode& mode);
  // True when backward sets every input gradient to dout[0] unchanged (add): an executor may
  // share the upstream gradient instead of calling backward.
  bool grad_is_dout = false;
  // Bytes its saved slots take per sample for an input 0 of per-sample shape `in0`, when they
  // can be large (attention probabilities); nullptr: small, not counted by planned_peak_bytes.
  long double (*saved_bytes)(const Attrs& attrs, const Shape& in0) = nullptr;
};

// 5. Lookup ---------------------------------------------------------------------------------------
const CpuKernel* find_kernel(std::string_view op_id);  // nullptr if the op has no CPU kernel
bool supports(std::string_view op_id);
const std::vector<const CpuKernel*>& all_kernels();    // table order (OPS.md order)

// Sets t's shape; keeps its storage when the element count does not change (values are then
// stale: kernels overwrite them).
void resize(Tensor& t, const Shape& shape);

}  // namespace fw::cpu
