// The execution plan of a flattened graph: which ops run backward, which gradients they produce,
// and when every activation can be freed. Device-independent: the CPU executor uses it, a CUDA
// executor would use the same plan with its own kernels (their needs() tables agree).
//
// Model
//  - A value is one output port of one op (ValueRef). Values are numbered densely: value_id().
//  - Forward runs ops in FlatGraph order; backward in reverse order, only the ops that lie
//    between a requested gradient target and a graph output (PyTorch's requires_grad rule: a
//    value needs a gradient when it is a target or depends on a target or a requested parameter).
//  - A value stays alive after its last forward reader only when a backward that runs reads it
//    (the consumer's needs(), or the producer's needs().output), when it is a graph output, or
//    when the caller asked to keep it; it is freed right after its last use otherwise.
//  - Saved tensors (normalisation statistics, attention probabilities) are produced only for ops
//    that run backward, or whose attention maps the caller wants.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/analysis.h"

namespace fw {

// What a backward pass will compute; it must be known before forward so that forward keeps what
// backward reads.
struct GradRequest {
  bool params = false;                   // all trainable parameters (ParamInfo::trainable)...
  std::vector<std::string> param_names;  // ...or exactly these (any parameter), when not empty
  bool inputs = false;                   // the graph inputs (saliency, jacob_cov)
  std::vector<ValueRef> values;          // intermediate values (Grad-CAM's layer)
};

struct PlanOptions {
  bool backward = false;             // a backward pass will follow, with `grads`
  GradRequest grads;
  bool keep_all = false;             // keep every activation (debugging, activation views)
  std::vector<ValueRef> keep;        // values to keep after forward
  std::vector<int> keep_attention;   // ops whose saved slot 0 (attention probabilities) to keep
};

// The backend's answers about one op (from its kernel table).
struct OpTraits {
  uint32_t needs_inputs = 0;  // bit i: backward reads input i
  bool needs_output = false;  // backward reads output 0
  int saved = 0;              // saved slots
};
// traits(op index, param_grads): param_grads = whether backward will ask for parameter grads.
using TraitsFn = std::function<OpTraits(int op, bool param_grads)>;

struct Plan {
  // Value numbering: value_id(v) = first_value[v.op] + v.port.
  std::vector<int> first_value;
  int num_values = 0;
  int value_id(ValueRef v) const { return first_value[v.op] + v.port; }

  std::vector<OpTraits> traits;            // per op
  // ---- backward ------------------------------------------------------------------------------
  std::vector<bool> run_backward;          // per op
  std::vector<std::vector<bool>> want_din;     // per op, per input: compute that input's gradient
  std::vector<std::vector<bool>> want_dparam;  // per op, per parameter (FlatOp::params order)
  std::vector<bool> needs_grad;            // per value: its gradient is computed
  std::vector<bool> grad_target;           // per value: a requested gradient (kept, returned)
  // ---- memory --------------------------------------------------------------------------------
  std::vector<bool> keep_saved;            // per op: give forward its saved slots
  std::vector<bool> keep_saved_after;      // per op: saved slots survive backward (attention)
  std::vector<std::vector<int>> free_after_forward;   // per op: value ids to free after it
  std::vector<std::vector<int>> free_after_backward;  // per op: value ids to free after its bw
  std::vector<bool> kept;                  // per value: never freed by the plan
};

// Builds the plan. `param_info` is Analysis::params (for names and trainable flags). Throws
// fw::Error when a requested parameter name is unknown.
Plan make_plan(const FlatGraph& fg, const std::vector<ParamInfo>& param_info,
               const PlanOptions& opts, const TraitsFn& traits);

// The most bytes of values and value gradients alive at once when a backend follows `p` at batch
// `batch`: every value is numel(batch, shape) floats from the op that produces it until the plan
// frees it; a backward adds each value gradient from its first contribution until its producer's
// backward has run (targets stay). `shares_input` (per op, optional): the op's output is its
// input 0's storage (an identity: dropout when not training); `grad_shares_dout` (per op,
// optional): its input gradients are its output gradient (add, identities); `saved_per_sample`
// (per op, optional): bytes per sample of its saved slots where the plan keeps them (attention
// probabilities), from forward until its backward. Kernel scratch and small saved slots
// (normalisation statistics) are not counted: the figure is a lower bound. Computed in long
// double: absurd sizes do not wrap.
long double plan_peak_bytes(const Plan& p, const FlatGraph& fg, int64_t batch,
                            const std::vector<bool>& shares_input = {},
                            const std::vector<bool>& grad_shares_dout = {},
                            const std::vector<long double>& saved_per_sample = {});

}  // namespace fw
