// The op-sweep cases: every leaf op, several attribute sets and shapes (odd sizes included), at
// batch 1 and 3. The CPU sweep (test_cpu_ops.cpp) checks the fast kernels against the double
// reference on them; the device sweep (tests/device) checks the device programs against the CPU
// kernels on them and on a few larger shapes.
#pragma once
#include <string>
#include <vector>

#include "op_test_util.h"

namespace fwtest {

inline std::vector<OpCase> op_sweep_cases() {
  using fw::Attrs;
  std::vector<OpCase> v;
  auto add = [&](std::string op, Attrs a, std::vector<fw::Shape> in, std::vector<fw::Shape> p,
                 fw::cpu::RunMode m = {}, std::vector<int> shape_only = {}) {
    v.push_back(OpCase{std::move(op), std::move(a), std::move(in), std::move(p), m, shape_only});
  };
  for (int64_t B : {1, 3}) {
    // conv2d: pointwise, pointwise grouped, general, strided, stem-like, depthwise (vector,
    // 4-vector and strided paths, padding > k-1), grouped, channel multiplier, 1x1 stride 2.
    add("conv2d", {{"kernel", int64_t(1)}}, {{B, 8, 5, 7}}, {{12, 8, 1, 1}, {12}});
    add("conv2d", {{"kernel", int64_t(1)}, {"groups", int64_t(2)}}, {{B, 8, 5, 7}},
        {{12, 4, 1, 1}, {12}});
    add("conv2d", {{"kernel", int64_t(3)}, {"padding", int64_t(1)}}, {{B, 5, 9, 11}},
        {{7, 5, 3, 3}, {7}});
    add("conv2d",
        {{"kernel", int64_t(3)}, {"stride", int64_t(2)}, {"padding", int64_t(1)}, {"bias", false}},
        {{B, 6, 9, 10}}, {{4, 6, 3, 3}});
    add("conv2d", {{"kernel", int64_t(7)}, {"stride", int64_t(4)}, {"padding", int64_t(2)}},
        {{B, 3, 23, 21}}, {{8, 3, 7, 7}, {8}});
    add("conv2d", {{"kernel", int64_t(7)}, {"padding", int64_t(3)}, {"groups", int64_t(6)}},
        {{B, 6, 9, 13}}, {{6, 1, 7, 7}, {6}});
    add("conv2d", {{"kernel", int64_t(7)}, {"padding", int64_t(3)}, {"groups", int64_t(2)}},
        {{B, 2, 5, 70}}, {{2, 1, 7, 7}, {2}});
    add("conv2d", {{"kernel", int64_t(5)}, {"padding", int64_t(2)}, {"groups", int64_t(3)}},
        {{B, 3, 6, 29}}, {{3, 1, 5, 5}, {3}});
    add("conv2d",
        {{"kernel", int64_t(3)}, {"padding", int64_t(1)}, {"groups", int64_t(2)}, {"bias", false}},
        {{B, 2, 7, 33}}, {{2, 1, 3, 3}});
    add("conv2d",
        {{"kernel", int64_t(3)},
         {"stride", int64_t(2)},
         {"padding", int64_t(1)},
         {"groups", int64_t(5)}},
        {{B, 5, 9, 9}}, {{5, 1, 3, 3}, {5}});
    add("conv2d", {{"kernel", int64_t(3)}, {"padding", int64_t(3)}, {"groups", int64_t(4)}},
        {{B, 4, 6, 5}}, {{4, 1, 3, 3}, {4}});
    add("conv2d", {{"kernel", int64_t(3)}, {"padding", int64_t(1)}, {"groups", int64_t(3)}},
        {{B, 6, 7, 8}}, {{9, 2, 3, 3}, {9}});
    add("conv2d", {{"kernel", int64_t(3)}, {"padding", int64_t(1)}, {"groups", int64_t(4)}},
        {{B, 4, 6, 6}}, {{8, 1, 3, 3}, {8}});
    add("conv2d", {{"kernel", int64_t(1)}, {"stride", int64_t(2)}}, {{B, 4, 7, 8}},
        {{6, 4, 1, 1}, {6}});
    // linear on tokens, vectors, rank 3, no bias
    add("linear", {}, {{B, 7, 5}}, {{6, 5}, {6}});
    add("linear", {}, {{B, 10}}, {{4, 10}, {4}});
    add("linear", {{"bias", false}}, {{B, 2, 3, 8}}, {{5, 8}});
    add("linear", {}, {{B, 70, 9}}, {{130, 9}, {130}});
    // pooling
    add("avg_pool2d", {}, {{B, 3, 9, 11}}, {});
    add("avg_pool2d", {{"kernel", int64_t(3)}, {"stride", int64_t(2)}, {"padding", int64_t(1)}},
        {{B, 2, 10, 9}}, {});
    add("avg_pool2d", {{"kernel", int64_t(2)}, {"stride", int64_t(2)}, {"padding", int64_t(0)}},
        {{B, 2, 8, 8}}, {});
    add("avg_pool2d", {{"kernel", int64_t(5)}, {"stride", int64_t(2)}, {"padding", int64_t(2)}},
        {{B, 2, 7, 9}}, {});
    add("pool_mixer", {}, {{B, 3, 9, 11}}, {});
    add("pool_mixer", {{"pool_size", int64_t(5)}}, {{B, 2, 6, 7}}, {});
    add("pool_mixer", {{"pool_size", int64_t(1)}}, {{B, 2, 3, 4}}, {});
    add("global_avg_pool", {}, {{B, 5, 3, 7}}, {});
    // norms
    add("group_norm", {}, {{B, 6, 5, 7}}, {{6}, {6}});
    add("group_norm", {{"groups", int64_t(3)}, {"eps", 1e-3}}, {{B, 6, 4, 5}}, {{6}, {6}});
    add("group_norm", {{"affine", false}}, {{B, 4, 3, 3}}, {});
    add("group_norm", {{"bias", false}, {"eps", 1e-6}}, {{B, 5, 3, 4}}, {{5}});
    add("layer_norm2d", {}, {{B, 7, 5, 9}}, {{7}, {7}});
    add("layer_norm2d", {{"bias", false}}, {{B, 3, 40, 40}}, {{3}});
    add("layer_norm", {}, {{B, 5, 24}}, {{24}, {24}});
    add("layer_norm", {{"bias", false}, {"eps", 1e-5}}, {{B, 17}}, {{17}});
    // activations
    for (const char* act : {"gelu", "relu", "squared_relu"}) {
      add(act, {}, {{B, 4, 5, 6}}, {});
      add(act, {}, {{B, 40003}}, {});
    }
    add("star_relu", {}, {{B, 4, 5, 6}}, {{1}, {1}});
    add("star_relu", {}, {{B, 30001}}, {{1}, {1}});
    // attention
    add("self_attention", {{"heads", int64_t(2)}, {"head_dim", int64_t(4)}}, {{B, 7, 24}}, {});
    add("self_attention", {{"heads", int64_t(3)}, {"head_dim", int64_t(8)}}, {{B, 33, 72}}, {});
    add("random_mixing", {{"num_tokens", int64_t(20)}}, {{B, 3, 4, 5}}, {{20, 20}});
    // elementwise
    add("identity", {}, {{B, 3, 4}}, {});
    add("scale", {{"dim", int64_t(6)}}, {{B, 6, 3, 4}}, {{6}});
    add("scale", {{"dim", int64_t(6)}, {"layout", std::string("last")}}, {{B, 5, 6}}, {{6}});
    add("add", {}, {{B, 3, 4, 5}, {B, 3, 4, 5}}, {});
    // layout
    add("to_tokens", {}, {{B, 6, 3, 5}}, {});
    add("to_tokens", {}, {{B, 70, 9, 8}}, {});
    add("to_nchw", {}, {{B, 15, 6}, {B, 2, 3, 5}}, {}, {}, {1});
    add("cls_pos_embed", {{"dim", int64_t(6)}, {"num_patches", int64_t(4)}}, {{B, 4, 6}},
        {{1, 1, 6}, {1, 5, 6}});
    add("select_token", {}, {{B, 4, 6}}, {});
    add("select_token", {{"index", int64_t(-1)}}, {{B, 4, 6}}, {});
    // stochastic ops: evaluation (identity) and training with a seed
    add("dropout", {{"p", 0.3}}, {{B, 5, 6}}, {});
    add("dropout", {{"p", 0.3}}, {{B, 5, 6}}, {}, {true, 7});
    add("drop_path", {{"p", 0.5}}, {{B, 5, 6}}, {});
    add("drop_path", {{"p", 0.5}}, {{B + 5, 5, 6}}, {}, {true, 11});
  }
  return v;
}

}  // namespace fwtest
