// The device op sweep: every case of the CPU sweep (tests/unit/op_cases.h) plus larger shapes
// (rows longer than a block, many blocks, odd sizes), run through the device programs of
// kernels/cuda/ and compared with the CPU kernels by normalised error, with NaN/Inf checks:
// forward outputs, attention probabilities, and every input and parameter gradient.
//  - DeviceOpEmulated.*: the programs under HostDevice (every machine; label unit).
//  - DeviceOpCuda.*: the programs on the GPU (label gpu; skipped without a GPU or without the
//    CUDA backend in the build). FP32 tolerance; TF32 (FORMWORK_TEST_TF32=1) a looser one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "kernels/cpu/ops.h"
#include "kernels/cuda/backends.h"
#include "kernels/cuda/op_runner.h"
#include "op_cases.h"
#include "op_test_util.h"

namespace {

using fw::Attrs;
using fw::Shape;
using fw::Tensor;
using fwtest::OpCase;

std::vector<OpCase> device_cases() {
  std::vector<OpCase> v = fwtest::op_sweep_cases();
  auto add = [&](std::string op, Attrs a, std::vector<Shape> in, std::vector<Shape> p,
                 fw::cpu::RunMode m = {}, std::vector<int> shape_only = {}) {
    v.push_back(OpCase{std::move(op), std::move(a), std::move(in), std::move(p), m, shape_only});
  };
  // Larger shapes: MetaFormer stage sizes (scaled down), rows beyond one block of threads.
  add("group_norm", {{"bias", false}, {"eps", 1e-6}}, {{2, 64, 14, 15}}, {{64}});
  add("group_norm", {}, {{2, 24, 33, 31}}, {{24}, {24}});
  add("layer_norm2d", {}, {{2, 64, 14, 14}}, {{64}, {64}});
  add("layer_norm", {}, {{2, 49, 384}}, {{384}, {384}});
  add("layer_norm", {{"bias", false}}, {{3, 5, 1000}}, {{1000}});
  add("linear", {}, {{2, 196, 64}}, {{256, 64}, {256}});
  add("conv2d", {{"kernel", int64_t(7)}, {"stride", int64_t(4)}, {"padding", int64_t(2)}},
      {{2, 3, 64, 64}}, {{64, 3, 7, 7}, {64}});
  add("conv2d", {{"kernel", int64_t(3)}, {"stride", int64_t(2)}, {"padding", int64_t(1)}},
      {{2, 64, 16, 16}}, {{128, 64, 3, 3}, {128}});
  add("conv2d", {{"kernel", int64_t(1)}}, {{2, 64, 14, 14}}, {{256, 64, 1, 1}, {256}});
  add("conv2d", {{"kernel", int64_t(7)}, {"padding", int64_t(3)}, {"groups", int64_t(128)}},
      {{2, 128, 14, 14}}, {{128, 1, 7, 7}, {128}});
  add("pool_mixer", {}, {{2, 64, 56, 56}}, {});
  add("avg_pool2d", {{"kernel", int64_t(3)}, {"stride", int64_t(2)}, {"padding", int64_t(1)}},
      {{2, 32, 29, 31}}, {});
  add("global_avg_pool", {}, {{2, 512, 7, 7}}, {});
  add("self_attention", {{"heads", int64_t(4)}, {"head_dim", int64_t(32)}}, {{2, 50, 384}}, {});
  add("self_attention", {{"heads", int64_t(1)}, {"head_dim", int64_t(16)}}, {{1, 300, 48}}, {});
  add("star_relu", {}, {{2, 49, 1536}}, {{1}, {1}});
  add("gelu", {}, {{2, 1000003}}, {});
  add("scale", {{"dim", int64_t(64)}}, {{2, 64, 28, 28}}, {{64}});
  add("scale", {{"dim", int64_t(320)}, {"layout", std::string("last")}}, {{2, 196, 320}}, {{320}});
  add("random_mixing", {{"num_tokens", int64_t(196)}}, {{2, 32, 14, 14}}, {{196, 196}});
  add("to_tokens", {}, {{2, 320, 14, 14}}, {});
  add("to_nchw", {}, {{2, 196, 320}, {2, 1, 14, 14}}, {}, {}, {1});
  add("cls_pos_embed", {{"dim", int64_t(192)}, {"num_patches", int64_t(196)}}, {{2, 196, 192}},
      {{1, 1, 192}, {1, 197, 192}});
  add("dropout", {{"p", 0.1}}, {{2, 100003}}, {}, {true, 3});
  add("drop_path", {{"p", 0.2}}, {{16, 7, 300}}, {}, {true, 5});
  return v;
}

// max |a - b| / max(max |b|, 1e-6).
double norm_err(const Tensor& a, const Tensor& b) {
  if (a.shape != b.shape || a.size() != b.size()) return INFINITY;
  double diff = 0, mag = 0;
  for (int64_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a.data[i]) - double(b.data[i])));
    mag = std::max(mag, std::abs(double(b.data[i])));
  }
  return diff / std::max(mag, 1e-6);
}

void check_against_cpu(fw::gpu::OpRunner& runner, const OpCase& c, double fwd_tol, double bwd_tol) {
  SCOPED_TRACE(c.label() + " on " + runner.device());
  fwtest::Data d = fwtest::make_data(c, 1234);
  std::mt19937 rng(99);
  const fwtest::FastResult probe = fwtest::run_fast(c, d, nullptr);
  for (const Tensor& o : probe.out) d.dout.push_back(fwtest::random_tensor(o.shape, rng));
  const fwtest::FastResult cpu = fwtest::run_fast(c, d, &d.dout);
  std::vector<bool> want_din, want_dparam(d.params.size(), true);
  for (size_t i = 0; i < d.in.size(); ++i) want_din.push_back(!c.is_shape_only(i));
  const fw::gpu::OpRun dev =
      runner.run(c.op, c.attrs, c.mode, d.in, d.params, d.dout, want_din, want_dparam);
  ASSERT_EQ(dev.out.size(), cpu.out.size());
  EXPECT_TRUE(fwtest::all_finite(dev.out[0]));
  EXPECT_LE(norm_err(dev.out[0], cpu.out[0]), fwd_tol) << "forward";
  if (c.op == "self_attention") {
    ASSERT_FALSE(dev.saved.empty());
    EXPECT_LE(norm_err(dev.saved[0], cpu.saved.at(0)), fwd_tol) << "attention probabilities";
  }
  for (size_t i = 0; i < d.in.size(); ++i) {
    if (c.is_shape_only(i)) continue;
    EXPECT_TRUE(fwtest::all_finite(dev.din.at(i))) << "d input " << i;
    EXPECT_LE(norm_err(dev.din.at(i), cpu.din.at(i)), bwd_tol) << "d input " << i;
  }
  // Input gradients alone (Grad-CAM's pass): backward gets only what needs(attrs, false)
  // declares, and must still give the same input gradients.
  if (!d.params.empty()) {
    const fw::gpu::OpRun only = runner.run(c.op, c.attrs, c.mode, d.in, d.params, d.dout, want_din,
                                           std::vector<bool>(d.params.size(), false));
    for (size_t i = 0; i < d.in.size(); ++i) {
      if (c.is_shape_only(i)) continue;
      EXPECT_LE(norm_err(only.din.at(i), cpu.din.at(i)), bwd_tol) << "d input " << i << " alone";
    }
  }
  for (size_t i = 0; i < d.params.size(); ++i) {
    EXPECT_TRUE(fwtest::all_finite(dev.dparams.at(i))) << "d param " << i;
    // A parameter of a few elements (StarReLU's scale and bias) gets a sum over the whole
    // tensor, with cancellation: the two summation orders differ by more than 1e-4 of it.
    const double tol = dev.dparams.at(i).size() <= 16 ? 10 * bwd_tol : bwd_tol;
    EXPECT_LE(norm_err(dev.dparams.at(i), cpu.dparams.at(i)), tol) << "d param " << i;
  }
}

std::string case_name(const ::testing::TestParamInfo<OpCase>& info) {
  return info.param.op + "_" + std::to_string(info.index);
}

class DeviceOpEmulated : public ::testing::TestWithParam<OpCase> {};

TEST_P(DeviceOpEmulated, MatchesCpu) {
  auto runner = fw::gpu::host_emulation_runner();
  check_against_cpu(*runner, GetParam(), 1e-5, 1e-4);
}
INSTANTIATE_TEST_SUITE_P(Sweep, DeviceOpEmulated, ::testing::ValuesIn(device_cases()), case_name);

// The row programs with real blocks of threads meeting at barriers (5, 32 and 256 a block;
// CudaDevice launches 32 to 256): a reduction every thread does not reach, a per-row value written
// by every thread, or a row's elements split wrongly between threads shows here.
class DeviceOpEmulatedBlocks : public ::testing::TestWithParam<OpCase> {};

TEST_P(DeviceOpEmulatedBlocks, MatchesCpuWithBlocksOfThreads) {
  // 5: an odd split; 32: one warp; 256 (small cases only: 256 host threads meeting at barriers
  // cost seconds on two cores): CudaDevice's largest block.
  const bool small = fw::numel(GetParam().in.at(0)) <= 5000;
  for (int threads : {5, 32, 256}) {
    if (threads == 256 && !small) continue;
    auto runner = fw::gpu::host_emulation_runner(threads);
    check_against_cpu(*runner, GetParam(), 1e-5, 1e-4);
  }
}
std::vector<OpCase> row_program_cases() {
  std::vector<OpCase> v;
  for (const OpCase& c : device_cases())
    if (fw::numel(c.in.at(0)) <= 30000 &&
        (c.op == "group_norm" || c.op == "layer_norm" || c.op == "layer_norm2d" ||
         c.op == "global_avg_pool" || c.op == "self_attention" || c.op == "star_relu" ||
         c.op == "scale" || c.op == "linear" || c.op == "conv2d" || c.op == "cls_pos_embed"))
      v.push_back(c);
  return v;
}
INSTANTIATE_TEST_SUITE_P(Sweep, DeviceOpEmulatedBlocks, ::testing::ValuesIn(row_program_cases()),
                         case_name);

class DeviceOpCuda : public ::testing::TestWithParam<OpCase> {};

TEST_P(DeviceOpCuda, MatchesCpu) {
  struct Gpu {
    std::string why;
    std::unique_ptr<fw::gpu::OpRunner> runner = fw::gpu::cuda_op_runner(&why);
  };
  static Gpu gpu;
  if (!gpu.runner) GTEST_SKIP() << gpu.why;
  fw::gpu::OpRunner* runner = gpu.runner.get();
  const char* tf32 = std::getenv("FORMWORK_TEST_TF32");
  const bool use_tf32 = tf32 && std::string(tf32) == "1";
  fw::gpu::set_tf32(use_tf32);
  check_against_cpu(*runner, GetParam(), use_tf32 ? 5e-3 : 1e-5, use_tf32 ? 1e-2 : 1e-4);
  fw::gpu::set_tf32(false);
}
INSTANTIATE_TEST_SUITE_P(Sweep, DeviceOpCuda, ::testing::ValuesIn(device_cases()), case_name);

// Every op the CPU runs has a device program and a sweep case.
TEST(DeviceOps, EveryCpuOpHasADeviceProgramAndCase) {
  std::set<std::string> covered;
  for (const OpCase& c : device_cases()) covered.insert(c.op);
  const fw::Backend& emu = fw::gpu::host_emulation_backend();
  for (const fw::cpu::CpuKernel* k : fw::cpu::all_kernels()) {
    EXPECT_TRUE(emu.supports(k->id)) << k->id;
    EXPECT_TRUE(covered.count(std::string(k->id))) << k->id;
  }
}

}  // namespace
