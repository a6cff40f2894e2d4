// The CPU op library's contract beyond numerics (kernels/cpu/ops.h): error messages, optional
// saved state, dropout/drop_path masks, identity flags, input-gradient-only backward, output
// reuse.
#include <gtest/gtest.h>

#include <mutex>

#include "core/error.h"
#include "kernels/cpu/common.h"
#include "kernels/cpu/ops.h"
#include "kernels/parallel.h"
#include "op_test_util.h"

namespace {

using fw::Attrs;
using fw::Tensor;
using fw::cpu::BackwardArgs;
using fw::cpu::ForwardArgs;
using fw::cpu::RunMode;

// Runs forward and returns the fw::Error message ("" when none is thrown).
std::string forward_error(const std::string& op, const Attrs& attrs, std::vector<Tensor> in,
                          std::vector<Tensor> params) {
  Tensor out;
  ForwardArgs a{attrs, {}, {}, {}, {&out}, {}};
  for (const Tensor& t : in) a.in.push_back(&t);
  for (const Tensor& t : params) a.params.push_back(&t);
  try {
    fw::cpu::find_kernel(op)->forward(a);
  } catch (const fw::Error& e) {
    return e.what();
  }
  return "";
}

TEST(CpuOpsContract, ErrorsNameTheOpAndTheProblem) {
  const Attrs k3{{"kernel", int64_t(3)}, {"padding", int64_t(1)}};
  EXPECT_EQ(forward_error("conv2d", k3, {Tensor({1, 3, 8, 8})}, {Tensor({4, 3, 5, 5}), Tensor({4})}),
            "conv2d: weight is 4x3x5x5, expected 4x3x3x3");
  EXPECT_EQ(forward_error("conv2d", {{"kernel", int64_t(3)}, {"in_channels", int64_t(4)}},
                          {Tensor({1, 3, 8, 8})}, {Tensor({4, 3, 3, 3}), Tensor({4})}),
            "conv2d: expects 4 input channels, gets 3");
  EXPECT_EQ(forward_error("conv2d", {{"kernel", int64_t(9)}}, {Tensor({1, 3, 4, 4})},
                          {Tensor({4, 3, 9, 9}), Tensor({4})}),
            "conv2d: kernel 9 is larger than the padded input (4 + 2*0)");
  EXPECT_EQ(forward_error("linear", {}, {Tensor({2, 5})}, {Tensor({3, 4}), Tensor({3})}),
            "linear: weight is 3x4, expected 3x5");
  EXPECT_EQ(forward_error("pool_mixer", {{"pool_size", int64_t(4)}}, {Tensor({1, 2, 5, 5})}, {}),
            "pool_mixer: pool_size must be odd (pool(x) - x needs the input size), got 4");
  EXPECT_EQ(forward_error("self_attention", {{"heads", int64_t(2)}, {"head_dim", int64_t(8)}},
                          {Tensor({1, 4, 40})}, {}),
            "self_attention: expects 48 input features (3 * 2 heads * 8), gets 40");
  EXPECT_EQ(forward_error("select_token", {{"index", int64_t(5)}}, {Tensor({1, 4, 3})}, {}),
            "select_token: index 5 is out of range for 4 tokens");
  EXPECT_EQ(forward_error("to_nchw", {}, {Tensor({1, 10, 3}), Tensor({1, 3, 3, 3})}, {}),
            "to_nchw: has 10 tokens, the grid 3x3 needs 9");
  EXPECT_EQ(forward_error("random_mixing", {{"num_tokens", int64_t(16)}}, {Tensor({1, 2, 3, 3})},
                          {Tensor({9, 9})}),
            "random_mixing: num_tokens is 16 but the input has 3x3 tokens");
  EXPECT_EQ(forward_error("group_norm", {{"groups", int64_t(4)}}, {Tensor({1, 6, 2, 2})},
                          {Tensor({6}), Tensor({6})}),
            "group_norm: groups 4 must divide channels 6");
  EXPECT_EQ(forward_error("scale", {{"layout", std::string("nhwc")}}, {Tensor({1, 2, 2, 2})},
                          {Tensor({2})}),
            "scale: layout must be channels_first or last, got 'nhwc'");
  EXPECT_EQ(forward_error("dropout", {{"p", 1.5}}, {Tensor({1, 3})}, {}), "");  // eval: p unused
}

TEST(CpuOpsContract, BackwardWithoutItsInputsSaysSo) {
  const fw::cpu::CpuKernel* k = fw::cpu::find_kernel("gelu");
  Tensor dy({2, 3}, 1.0f), dx;
  BackwardArgs b{{}, {}, {{2, 3}}, {nullptr}, {}, {}, {}, {&dy}, {&dx}, {}};
  try {
    k->backward(b);
    FAIL() << "no error";
  } catch (const fw::Error& e) {
    EXPECT_STREQ(e.what(), "gelu: backward needs the values of input 0 (freed too early?)");
  }
}

// Conv and linear backward for input gradients only need neither x nor a saved tensor.
TEST(CpuOpsContract, InputGradientsOnlyNeedLess) {
  for (const char* op : {"conv2d", "linear", "scale", "random_mixing"}) {
    EXPECT_EQ(fw::cpu::find_kernel(op)->needs({}, false).inputs, 0u) << op;
    EXPECT_EQ(fw::cpu::find_kernel(op)->needs({}, true).inputs, 1u) << op;
  }
  std::mt19937 rng(3);
  const Attrs a{{"kernel", int64_t(3)}, {"padding", int64_t(1)}};
  Tensor x = fwtest::random_tensor({2, 3, 6, 6}, rng), w = fwtest::random_tensor({4, 3, 3, 3}, rng);
  Tensor bias = fwtest::random_tensor({4}, rng), y, dx;
  const fw::cpu::CpuKernel* k = fw::cpu::find_kernel("conv2d");
  k->forward(ForwardArgs{a, {}, {&x}, {&w, &bias}, {&y}, {}});
  Tensor dy = fwtest::random_tensor(y.shape, rng);
  k->backward(BackwardArgs{a, {}, {x.shape}, {nullptr}, {&w, &bias}, {}, {}, {&dy}, {&dx}, {}});
  const auto g = fw::cpu::ref::backward("conv2d", a, {}, {fw::cpu::ref::to_double(x)},
                                        {fw::cpu::ref::to_double(w), fw::cpu::ref::to_double(bias)},
                                        {fw::cpu::ref::to_double(dy)});
  EXPECT_LE(fwtest::norm_err(dx, g.din[0]), 1e-5);
}

TEST(CpuOpsContract, AttentionBackwardRecomputesProbabilitiesWithoutSavedSlot) {
  std::mt19937 rng(8);
  const Attrs a{{"heads", int64_t(2)}, {"head_dim", int64_t(4)}};
  Tensor qkv = fwtest::random_tensor({2, 9, 24}, rng), y1, y2, probs;
  const fw::cpu::CpuKernel* k = fw::cpu::find_kernel("self_attention");
  k->forward(ForwardArgs{a, {}, {&qkv}, {}, {&y1}, {&probs}});
  k->forward(ForwardArgs{a, {}, {&qkv}, {}, {&y2}, {}});  // no slot: scratch
  EXPECT_EQ(probs.shape, (fw::Shape{2, 2, 9, 9}));
  EXPECT_EQ(y1.data, y2.data);
  for (int64_t r = 0; r < 2 * 2 * 9; ++r) {  // rows sum to one
    float s = 0;
    for (int64_t i = 0; i < 9; ++i) s += probs.data[r * 9 + i];
    EXPECT_NEAR(s, 1.0f, 1e-5);
  }
  Tensor dy = fwtest::random_tensor(y1.shape, rng), d1, d2;
  k->backward(BackwardArgs{a, {}, {qkv.shape}, {&qkv}, {}, {}, {&probs}, {&dy}, {&d1}, {}});
  k->backward(BackwardArgs{a, {}, {qkv.shape}, {&qkv}, {}, {}, {}, {&dy}, {&d2}, {}});
  ASSERT_EQ(d1.size(), d2.size());
  for (int64_t i = 0; i < d1.size(); ++i) EXPECT_NEAR(d1.data[i], d2.data[i], 1e-5);
}

TEST(CpuOpsContract, DropoutMaskIsSeededAndScaled) {
  const fw::cpu::CpuKernel* k = fw::cpu::find_kernel("dropout");
  const Attrs a{{"p", 0.25}};
  Tensor x({4, 5000}, 2.0f), y1, y2, y3;
  k->forward(ForwardArgs{a, {true, 42}, {&x}, {}, {&y1}, {}});
  k->forward(ForwardArgs{a, {true, 42}, {&x}, {}, {&y2}, {}});
  k->forward(ForwardArgs{a, {true, 43}, {&x}, {}, {&y3}, {}});
  EXPECT_EQ(y1.data, y2.data);
  EXPECT_NE(y1.data, y3.data);
  int64_t zeros = 0;
  for (float v : y1.data) {
    if (v == 0.0f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(v, 2.0f / 0.75f);
  }
  EXPECT_NEAR(double(zeros) / double(x.size()), 0.25, 0.02);
  EXPECT_FALSE(k->is_identity(a, {true, 1}));
  EXPECT_TRUE(k->is_identity(a, {false, 1}));
  EXPECT_TRUE(k->is_identity({{"p", 0.0}}, {true, 1}));
  // Backward applies the same mask.
  Tensor dy({4, 5000}, 1.0f), dx;
  k->backward(BackwardArgs{a, {true, 42}, {x.shape}, {}, {}, {}, {}, {&dy}, {&dx}, {}});
  for (int64_t i = 0; i < x.size(); ++i) EXPECT_EQ(dx.data[i] * 2.0f, y1.data[i]);
}

TEST(CpuOpsContract, DropPathDropsWholeSamples) {
  const fw::cpu::CpuKernel* k = fw::cpu::find_kernel("drop_path");
  const Attrs a{{"p", 0.5}};
  Tensor x({64, 3, 2}, 1.0f), y;
  k->forward(ForwardArgs{a, {true, 5}, {&x}, {}, {&y}, {}});
  int dropped = 0;
  for (int64_t b = 0; b < 64; ++b) {
    const float first = y.data[b * 6];
    EXPECT_TRUE(first == 0.0f || first == 2.0f);
    for (int64_t i = 1; i < 6; ++i) EXPECT_EQ(y.data[b * 6 + i], first);
    dropped += first == 0.0f;
  }
  EXPECT_GT(dropped, 16);
  EXPECT_LT(dropped, 48);
}

TEST(CpuOpsContract, OutputsAreResizedAndOverwritten) {
  const fw::cpu::CpuKernel* k = fw::cpu::find_kernel("relu");
  Tensor x({2, 3}, -1.0f), y({7}, 99.0f);  // wrong shape, stale values
  k->forward(ForwardArgs{{}, {}, {&x}, {}, {&y}, {}});
  EXPECT_EQ(y.shape, (fw::Shape{2, 3}));
  EXPECT_EQ(y.data, std::vector<float>(6, 0.0f));
  EXPECT_TRUE(fw::cpu::find_kernel("identity")->is_identity({}, {}));
  EXPECT_FALSE(k->is_identity({}, {}));
}

}  // namespace

namespace {

// parallel_chunks calls every chunk it counts exactly once, non-empty, covering [0, n).
TEST(CpuOpsContract, ParallelChunksCoverTheRangeOnce) {
  for (int threads : {1, 2, 3, 5}) {
    fw::set_num_threads(threads);
    for (int64_t n : {1, 2, 3, 4, 7, 10, 100, 1001})
      for (int64_t grain : {1, 3, 64}) {
        const int64_t chunks = fw::cpu::num_chunks(n, grain);
        std::vector<int> calls(chunks, 0), seen(n, 0);
        std::mutex mu;
        const int64_t got = fw::cpu::parallel_chunks(n, grain, [&](int64_t c, int64_t lo, int64_t hi) {
          std::lock_guard<std::mutex> lk(mu);
          ASSERT_LT(c, chunks);
          ASSERT_LT(lo, hi);
          ++calls[c];
          for (int64_t i = lo; i < hi; ++i) ++seen[i];
        });
        EXPECT_EQ(got, chunks);
        EXPECT_LE(chunks, threads);
        for (int c : calls) EXPECT_EQ(c, 1) << "n " << n << " grain " << grain;
        for (int s : seen) EXPECT_EQ(s, 1);
      }
  }
  fw::set_num_threads(0);
}

}  // namespace
