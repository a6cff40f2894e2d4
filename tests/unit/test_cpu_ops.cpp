// The CPU op sweep: for every case, the fast kernel against the double reference (outputs,
// saved attention maps, every gradient) with NaN/Inf checks, and the reference's gradients
// against central finite differences. Backward only gets the inputs its needs() declares, so a
// kernel that reads more than it declares fails here.
#include <gtest/gtest.h>

#include <set>

#include "kernels/cpu/ops.h"
#include "kernels/parallel.h"
#include "op_test_util.h"

namespace {

using fw::Attrs;
using fwtest::OpCase;

std::vector<OpCase> all_cases() {
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
    add("conv2d", {{"kernel", int64_t(3)}, {"stride", int64_t(2)}, {"padding", int64_t(1)},
                   {"bias", false}},
        {{B, 6, 9, 10}}, {{4, 6, 3, 3}});
    add("conv2d", {{"kernel", int64_t(7)}, {"stride", int64_t(4)}, {"padding", int64_t(2)}},
        {{B, 3, 23, 21}}, {{8, 3, 7, 7}, {8}});
    add("conv2d", {{"kernel", int64_t(7)}, {"padding", int64_t(3)}, {"groups", int64_t(6)}},
        {{B, 6, 9, 13}}, {{6, 1, 7, 7}, {6}});
    add("conv2d", {{"kernel", int64_t(7)}, {"padding", int64_t(3)}, {"groups", int64_t(2)}},
        {{B, 2, 5, 70}}, {{2, 1, 7, 7}, {2}});
    add("conv2d", {{"kernel", int64_t(5)}, {"padding", int64_t(2)}, {"groups", int64_t(3)}},
        {{B, 3, 6, 29}}, {{3, 1, 5, 5}, {3}});
    add("conv2d", {{"kernel", int64_t(3)}, {"padding", int64_t(1)}, {"groups", int64_t(2)},
                   {"bias", false}},
        {{B, 2, 7, 33}}, {{2, 1, 3, 3}});
    add("conv2d", {{"kernel", int64_t(3)}, {"stride", int64_t(2)}, {"padding", int64_t(1)},
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

class CpuOp : public ::testing::TestWithParam<OpCase> {};

// Fast forward/backward against the reference; NaN/Inf checks.
TEST_P(CpuOp, FastMatchesReference) {
  const OpCase& c = GetParam();
  SCOPED_TRACE(c.label());
  ASSERT_TRUE(fw::cpu::supports(c.op));
  for (int threads : {3, 1}) {
    fw::set_num_threads(threads);
    fwtest::Data d = fwtest::make_data(c, 1234);
    std::mt19937 rng(99);
    fw::cpu::ref::DTensor probs;
    const auto ref_out = fw::cpu::ref::forward(c.op, c.attrs, c.mode, d.din_d, d.params_d,
                                               &probs);
    for (const auto& o : ref_out) d.dout.push_back(fwtest::random_tensor(o.shape, rng));
    for (const auto& t : d.dout) d.dout_d.push_back(fw::cpu::ref::to_double(t));
    const fwtest::FastResult r = fwtest::run_fast(c, d, &d.dout);
    ASSERT_EQ(r.out.size(), ref_out.size());
    EXPECT_TRUE(fwtest::all_finite(r.out[0]));
    EXPECT_LE(fwtest::norm_err(r.out[0], ref_out[0]), 1e-5) << "forward, threads " << threads;
    if (c.op == "self_attention") {
      EXPECT_LE(fwtest::norm_err(r.saved.at(0), probs), 1e-5) << "attention probabilities";
    }

    const auto g = fw::cpu::ref::backward(c.op, c.attrs, c.mode, d.din_d, d.params_d, d.dout_d);
    for (size_t i = 0; i < d.in.size(); ++i) {
      if (c.is_shape_only(i)) continue;
      EXPECT_TRUE(fwtest::all_finite(r.din[i]));
      EXPECT_LE(fwtest::norm_err(r.din[i], g.din[i]), 1e-4) << "d input " << i;
    }
    for (size_t i = 0; i < d.params.size(); ++i) {
      EXPECT_TRUE(fwtest::all_finite(r.dparams[i]));
      EXPECT_LE(fwtest::norm_err(r.dparams[i], g.dparams[i]), 1e-4) << "d param " << i;
    }
  }
  fw::set_num_threads(0);
}

// The reference's gradients against central finite differences (double precision).
TEST_P(CpuOp, ReferenceGradientsMatchFiniteDifferences) {
  const OpCase& c = GetParam();
  SCOPED_TRACE(c.label());
  fwtest::Data d = fwtest::make_data(c, 4321);
  std::mt19937 rng(5);
  const auto out = fw::cpu::ref::forward(c.op, c.attrs, c.mode, d.din_d, d.params_d);
  std::vector<fw::cpu::ref::DTensor> dout;
  for (const auto& o : out) dout.push_back(fw::cpu::ref::to_double(fwtest::random_tensor(o.shape, rng)));
  const auto g = fw::cpu::ref::backward(c.op, c.attrs, c.mode, d.din_d, d.params_d, dout);
  for (size_t i = 0; i < d.in.size(); ++i) {
    if (c.is_shape_only(i)) continue;
    EXPECT_LE(fwtest::fd_check(c, d.din_d, d.params_d, dout, false, i, g.din[i], 10, rng), 1e-6)
        << "d input " << i;
  }
  for (size_t i = 0; i < d.params.size(); ++i) {
    EXPECT_LE(fwtest::fd_check(c, d.din_d, d.params_d, dout, true, i, g.dparams[i], 10, rng), 1e-6)
        << "d param " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Sweep, CpuOp, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<OpCase>& info) {
                           return info.param.op + "_" + std::to_string(info.index);
                         });

// Every leaf op of core/OPS.md but input/output has a CPU kernel, a reference and a sweep case.
TEST(CpuOps, EveryOpHasKernelReferenceAndCase) {
  const std::vector<std::string> ops = {
      "conv2d",   "linear",         "avg_pool2d",    "pool_mixer",   "group_norm",
      "layer_norm2d", "layer_norm", "gelu",          "relu",         "squared_relu",
      "star_relu", "self_attention", "random_mixing", "identity",    "scale",
      "add",      "global_avg_pool", "to_tokens",    "to_nchw",      "cls_pos_embed",
      "select_token", "dropout",    "drop_path"};
  std::set<std::string> covered;
  for (const OpCase& c : all_cases()) covered.insert(c.op);
  for (const std::string& op : ops) {
    EXPECT_TRUE(fw::cpu::supports(op)) << op;
    EXPECT_TRUE(fw::cpu::ref::supports(op)) << op;
    EXPECT_TRUE(covered.count(op)) << op;
  }
  EXPECT_EQ(fw::cpu::all_kernels().size(), ops.size());
  EXPECT_FALSE(fw::cpu::supports("input"));
  EXPECT_EQ(fw::cpu::find_kernel("no_such_op"), nullptr);
}

}  // namespace
