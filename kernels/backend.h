// Execution backends: run a validated graph forward and backward on a device.
//
// Contents
//  1. RunOptions  - training mode, seed, what backward will want, what to keep
//  2. Gradients   - what backward returns
//  3. Executor    - one graph on one device: bind parameters, forward, backward, kept values
//  4. Backend     - a device kind: supports(op), create an executor; lookup
//  5. Locating values by module path (Grad-CAM layers, attention nodes)
//
// Usage
//   Analysis a = analyze(g); require_valid(a);
//   auto ex = cpu_backend().create(g, a);        // g and a must outlive ex
//   ex->bind(weights);                           // TensorMap by full parameter name
//   RunOptions o; o.backward = true; o.grads.params = true;
//   auto logits = ex->forward({x}, o);           // x: (B, C, H, W)
//   Gradients g = ex->backward({dlogits});       // g.params["head.fc.weight"], ...
//
// Contract
//  - Inputs are batched (B, per-sample shape of the input node); every input has the same B.
//    Outputs are (B, per-sample output shape). Shapes are checked; errors are fw::Error.
//  - Parameters are bound by reference: the map must stay alive while the executor runs and may
//    be updated in place between runs (an optimiser step); call bind() again after adding or
//    replacing tensors. A device backend uploads in bind(), so call it after every update there.
//  - Memory: forward first estimates its peak (planned_peak_bytes) and refuses a batch that
//    cannot fit in memory with the size it would need, allocating nothing. It frees every
//    activation as soon as nothing later reads it, keeping only what the planned backward reads
//    (see kernels/plan.h), the values in RunOptions::keep and the attention maps in keep_attention;
//    keep_all keeps everything. Buffers are recycled between runs, so steady-state runs do not
//    allocate.
//  - backward() follows the last forward() and computes exactly RunOptions::grads: gradients of
//    Σ dout·outputs with respect to parameters, graph inputs and chosen intermediate values. The
//    overload that fills a caller-owned Gradients reuses its tensors' storage (a training loop
//    that keeps one Gradients object allocates nothing per step).
//  - dropout/drop_path get a per-op seed derived from RunOptions::seed (deterministic).
#pragma once
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"
#include "core/tensor.h"
#include "kernels/plan.h"

namespace fw {

// 1. RunOptions -----------------------------------------------------------------------------------
struct RunOptions {
  bool training = false;   // dropout / drop_path active
  uint64_t seed = 0;       // for dropout / drop_path
  bool backward = false;   // a backward() follows: keep what it reads
  GradRequest grads;       // what that backward computes (kernels/plan.h)
  bool keep_all = false;   // keep every activation and saved tensor
  std::vector<ValueRef> keep;        // activations to keep (see find_value)
  std::vector<int> keep_attention;   // self_attention ops whose probabilities to keep
  bool profile = false;              // time every op (Executor::op_times)
  // Checked before every op of forward and of the backward that follows: when it reads true the
  // run stops with fw::Cancelled (the executor stays usable; the next forward starts afresh).
  const std::atomic<bool>* cancel = nullptr;
};

// The seed dropout/drop_path of op `op` (FlatGraph index) get in a run with RunOptions::seed.
uint64_t op_seed(uint64_t run_seed, int op);

// 2. Gradients ----------------------------------------------------------------------------------
struct Gradients {
  TensorMap params;             // by full name: every requested parameter (zeros if no gradient
                                // reaches it)
  std::vector<Tensor> inputs;   // per graph input, when GradRequest::inputs
  std::vector<Tensor> values;   // per GradRequest::values entry, in order
};

struct MemoryStats {
  int64_t live_bytes = 0;   // activations, saved tensors and gradients alive now
  int64_t peak_bytes = 0;   // maximum since the last forward() started
  int64_t allocations = 0;  // buffers allocated since the executor was created (steady-state
                            // runs reuse buffers: this stops growing)
};

// 3. Executor ------------------------------------------------------------------------------------
class Executor {
 public:
  virtual ~Executor() = default;
  // Binds every parameter of the graph by full name; throws fw::Error naming a missing or
  // mis-shaped one ("missing parameter 'head.fc.weight'").
  virtual void bind(const TensorMap& params) = 0;
  // Runs forward; returns one tensor per graph output.
  virtual std::vector<Tensor> forward(const std::vector<Tensor>& inputs, const RunOptions& opts) = 0;
  // Runs backward after a forward with opts.backward; dout: one gradient per graph output.
  // Overwrites `grads` (entries of other parameters are removed; storage is reused).
  virtual void backward(const std::vector<Tensor>& dout, Gradients& grads) = 0;
  Gradients backward(const std::vector<Tensor>& dout) {
    Gradients g;
    backward(dout, g);
    return g;
  }
  // A value of the last forward, if it was kept (RunOptions::keep/keep_all) or is still alive;
  // nullptr otherwise.
  virtual const Tensor* value(ValueRef v) const = 0;
  // The attention probabilities (B, heads, N, N) of a self_attention op listed in
  // RunOptions::keep_attention (or keep_all) of the last forward; nullptr otherwise.
  virtual const Tensor* attention(int op) const = 0;
  virtual MemoryStats memory() const = 0;
  // The most bytes of activations and value gradients a forward at batch `batch` with `opts`
  // (and the backward it asks for) keeps alive at once: plan_peak_bytes (kernels/plan.h) with
  // this backend's kernels, a lower bound. Allocates nothing in proportion to the batch.
  // forward() refuses (fw::Error) a batch whose figure exceeds memory_limit_bytes()
  // (core/sysmem.h) before allocating anything.
  virtual long double planned_peak_bytes(int64_t batch, const RunOptions& opts) const = 0;
  virtual const FlatGraph& flat() const = 0;
  // With RunOptions::profile: milliseconds per op (FlatGraph order) of the last forward and of
  // the last backward (0 for ops that did not run). Empty otherwise.
  virtual const std::vector<double>& forward_times() const = 0;
  virtual const std::vector<double>& backward_times() const = 0;
};

// 3b. Memory needs -------------------------------------------------------------------------------
// What a run of an executor at a batch would hold at its peak, in bytes (long double: absurd
// batches and input sizes do not wrap).
struct MemoryNeed {
  long double activations = 0;  // planned_peak_bytes plus the caller's input batch
  long double weights = 0;      // every parameter, F32
  long double training = 0;     // with an optimiser: the gradients and AdamW's two moments of the
                                // trainable parameters (3 x their bytes)
  long double total() const { return activations + weights + training; }
};
// `a`: the graph's analysis, for the weights (nullptr: not counted, when they are loaded already).
MemoryNeed memory_need(const Executor& ex, const Analysis* a, int64_t batch, const RunOptions& opts,
                       bool optimiser);
// Refuses (fw::Error) a need above memory_limit_bytes() (core/sysmem.h) before anything is
// allocated: "<what> would need 412 GB: 412 GB of activations, 47.8 MB of weights (this machine
// has 23.6 GB)", then "; <hint>" when a hint is given.
void require_memory(const MemoryNeed& need, const std::string& what, const std::string& hint = "");

// 4. Backend -------------------------------------------------------------------------------------
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;  // "cpu", "cuda"
  // Whether the backend has a kernel for this op id (callers fall back to another backend).
  virtual bool supports(std::string_view op_id) const = 0;
  // Why this backend cannot run on this machine ("no CUDA device on this machine"), or empty
  // when it can. create() throws fw::Error with this line when it is not empty.
  virtual std::string unavailable() const { return {}; }
  // An executor for a valid graph (throws fw::Error if `a` has problems or an op is not
  // supported, naming the node). The graph and the analysis must outlive the executor.
  virtual std::unique_ptr<Executor> create(const Graph& g, const Analysis& a) const = 0;
};

const Backend& cpu_backend();
// Every backend built in ("cpu" first, then "cuda" when built, usable or not: see
// Backend::unavailable); find_backend: nullptr if unknown or not built.
std::vector<const Backend*> backends();
const Backend* find_backend(std::string_view name);

// 5. Locating values -------------------------------------------------------------------------------
// The value a node outputs (port `port`), by module path: a leaf op, or a group/composite whose
// output is resolved to the leaf inside that produces it. Throws fw::Error("no node 'x'") or
// when the value is not produced by a leaf op (an output wired straight to a group input is
// resolved through the group).
ValueRef find_value(const Graph& g, const FlatGraph& fg, const std::string& path, int port = 0);
// The ops of kind `kind` at or under the module path, in execution order (self_attention nodes
// inside an attention block).
std::vector<int> find_ops(const Graph& g, const FlatGraph& fg, const std::string& path,
                          std::string_view kind);

}  // namespace fw
