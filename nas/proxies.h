// Zero-cost proxies (Abdelfattah et al. 2021, "Zero-Cost Proxies for Lightweight NAS"; NASWOT:
// Mellor et al. 2021), plus params, MACs and measured latency — what `formwork score` prints.
//
// Common rules
//  - "Layers" are every conv2d and linear node, and only their `weight` tensors: biases, norm
//    weights, layer/res scales, StarReLU scale/bias, RandFormer's matrix and ViT's cls_token /
//    pos_embed are never summed (as the zero-cost-nas code does). Per-layer values are summed.
//  - loss L = cross-entropy of the logits against the labels, mean over the batch.
//  - Norms (GroupNorm, LayerNorm) stay in place and use the current input's statistics.
// Definitions (W_l: weight of layer l, ⊙ elementwise product, Σ over all elements)
//  grad_norm   = Σ_l ‖∂L/∂W_l‖₂ (Frobenius norm per layer)
//  snip        = Σ_l Σ |W_l ⊙ ∂L/∂W_l|
//  synflow     = Σ_l Σ |W_l ⊙ ∂R/∂W_l| with every parameter replaced by its absolute value, one
//                all-ones image as input and R = Σ logits; labels are not used
//  synflow_log = ln(synflow) as a log-sum-exp of ln|W| + ln|∂R/∂W| in double precision: finite
//                where synflow itself overflows
//  jacob_cov   = -Σ_i (ln(λ_i + k) + 1/(λ_i + k)), k = 1e-5, λ the eigenvalues of the
//                correlation matrix of J[b] = ∂(Σ_j logits[b,j])/∂x[b] (needs 2+ samples)
//  naswot      = ln|det K|, K[a,b] = number of units on which samples a and b agree in the binary
//                code [pre-activation > 0], over the inputs of every activation node (GELU, ReLU,
//                StarReLU, SquaredReLU)
//  params, macs: the analysis' totals; latency_ms: median wall time of a batch-1 forward over
//  `latency_repeats` runs after 2 warm-ups, on the current thread count.
// The engine computes in float32; the sums are accumulated in double.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "kernels/backend.h"

namespace fw {

const std::vector<std::string>& proxy_names();  // synflow, grad_norm, snip, naswot, jacob_cov

struct ProxyInput {
  const Graph* graph = nullptr;
  const Analysis* analysis = nullptr;
  const Backend* backend = nullptr;
  const TensorMap* weights = nullptr;
  Tensor x;                      // (B, C, H, W)
  std::vector<int64_t> labels;   // B labels (grad_norm, snip)
  int latency_repeats = 10;      // 0: no latency_ms
};

// Computes the named proxies (and always params, macs, and latency_ms unless latency_repeats is 0;
// synflow_log with synflow).
// Throws fw::Error for an unknown proxy name, a label out of range, or jacob_cov on one sample.
std::map<std::string, double> compute_proxies(const ProxyInput& in, const std::vector<std::string>& names);

// Median wall time (ms) of a forward of the first `batch` samples of in.x (repeated when x has
// fewer) over `repeats` runs after 2 warm-ups, on the current thread count.
double forward_latency_ms(const ProxyInput& in, int64_t batch, int repeats);

}  // namespace fw
