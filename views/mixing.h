// The effective token mixing of a token mixer node, and attention rollout (CONTRACT.md, "Views").
//
// - token_mixers(): every token mixer node of the graph in execution order: nodes of kind
//   pool_mixer, sepconv, attention, random_mixing, identity (whatever their names), with the grid
//   their tokens form (layer_grid of their input; ViT's class token: prefix 1).
// - mixing_map(): M[b,i,j] = ||d y[b,i,:] / d x[b,j,:]||_F, the Frobenius norm of the C_out x C_in
//   Jacobian block of the mixer's output token i with respect to its input token j, at the input
//   the mixer sees when the network runs on `input`. Tokens n = h*W + w for NCHW nodes; token
//   outputs in their order (a class token is token 0). Output [B, N, N], or [B, N] (row `query`).
//   Computed exactly by reverse mode through the mixer alone (a graph holding a copy of the mixer
//   node, its parameters bound from `weights`), C_out vector-Jacobian products per query row,
//   batched. Errors: "no layer", "'x' is not a token mixer (pooling, sepconv, attention,
//   random_mixing, identity)", "--query 40 is out of range: the mixer has 16 tokens (0..15)".
// - attention_layers(): module paths of every attention node (the module that holds one
//   self_attention op, e.g. stages.2.blocks.0.token_mixer), in execution order.
// - attention_rollout(): Abnar & Zuidema over the attention nodes at or under `under` ("" = the
//   whole network), in execution order, all with the same token count N:
//   A~_l = rownorm(0.5 * mean_heads(A_l) + 0.5 * I), R = A~_L ... A~_1. Output [B, N, N].
//   Errors: no attention node there; nodes with different token counts (naming two of them).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "kernels/backend.h"
#include "views/gradcam.h"

namespace fw {

struct MixerInfo {
  std::string path;   // module path
  std::string kind;   // node kind (pool_mixer, sepconv, attention, random_mixing, identity)
  int64_t tokens = 0; // N
  int64_t prefix = 0; // class token in front
  int64_t h = 0, w = 0;  // the grid of the N - prefix spatial tokens
};

std::vector<MixerInfo> token_mixers(const Graph& g, const FlatGraph& fg);
MixerInfo token_mixer(const Graph& g, const FlatGraph& fg, const std::string& layer);

Tensor mixing_map(const Backend& backend, Executor& ex, const Graph& g, const TensorMap& weights,
                  const Tensor& input, const std::string& layer,
                  std::optional<int64_t> query = std::nullopt, const JobControl* control = nullptr);

std::vector<std::string> attention_layers(const Graph& g, const FlatGraph& fg);
Tensor attention_rollout(Executor& ex, const Graph& g, const Tensor& input, const std::string& under = "");

}  // namespace fw
