// Deterministic initial weights, following timm's initialisers.
//
// - init_weights(analysis, seed): one tensor per parameter of the analysed graph, by full name.
//   Conv and linear weights: truncated normal, std 0.02, cut at +-2 (timm's trunc_normal_);
//   biases 0; norm weights 1; layer/res scale and StarReLU scale/bias their configured constants;
//   ViT cls_token normal(std 1e-6), pos_embed truncated normal(std 0.02); RandFormer's fixed
//   matrix softmax(U[0,1)) over each row.
// - Deterministic for (seed, parameter name): each tensor draws from its own generator seeded by
//   the seed and a hash of its name, so the values do not depend on the platform, the thread
//   count or on which other nodes exist.
#pragma once
#include <cstdint>

#include "core/analysis.h"
#include "core/tensor.h"

namespace fw {

TensorMap init_weights(const Analysis& a, uint64_t seed);
// One parameter (used by init_weights and by head re-initialisation).
Tensor init_param(const ParamInfo& p, uint64_t seed);

// A small, portable random generator (xoshiro256**, seeded through splitmix64).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();          // [0, 1)
  double normal();           // N(0, 1), Box-Muller
 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  double spare_ = 0;
};

uint64_t hash_name(const std::string& s);  // FNV-1a 64

}  // namespace fw
