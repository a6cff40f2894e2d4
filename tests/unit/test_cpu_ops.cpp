// The CPU op sweep: for every case, the fast kernel against the double reference (outputs,
// saved attention maps, every gradient) with NaN/Inf checks, and the reference's gradients
// against central finite differences. Backward only gets the inputs its needs() declares, so a
// kernel that reads more than it declares fails here.
#include <gtest/gtest.h>

#include <set>

#include "kernels/cpu/ops.h"
#include "kernels/parallel.h"
#include "op_cases.h"
#include "op_test_util.h"

namespace {

using fw::Attrs;
using fwtest::OpCase;

std::vector<OpCase> all_cases() { return fwtest::op_sweep_cases(); }

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
    const auto ref_out = fw::cpu::ref::forward(c.op, c.attrs, c.mode, d.din_d, d.params_d, &probs);
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
  for (const auto& o : out)
    dout.push_back(fw::cpu::ref::to_double(fwtest::random_tensor(o.shape, rng)));
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
      "conv2d",       "linear",          "avg_pool2d",    "pool_mixer", "group_norm",
      "layer_norm2d", "layer_norm",      "gelu",          "relu",       "squared_relu",
      "star_relu",    "self_attention",  "random_mixing", "identity",   "scale",
      "add",          "global_avg_pool", "to_tokens",     "to_nchw",    "cls_pos_embed",
      "select_token", "dropout",         "drop_path"};
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
