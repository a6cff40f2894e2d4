// The device executor (kernels/cuda/executor.h) against the CPU executor on whole networks:
// built-in templates at a small input, forward logits, kept values and attention maps, every
// parameter and input gradient, dropout in training, a few AdamW-free SGD steps, the memory
// plan's steady state and its refusals. DeviceBackendEmulated.* runs the device programs under
// the host emulation (every machine); DeviceBackendCuda.* runs them on the GPU (label gpu,
// SKIP without one).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/analysis.h"
#include "core/error.h"
#include "core/init.h"
#include "core/templates.h"
#include "kernels/backend.h"
#include "kernels/cuda/backends.h"

namespace {

using fw::Tensor;

Tensor random_tensor(const fw::Shape& s, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, scale);
  Tensor t(s);
  for (float& v : t.data) v = n(rng);
  return t;
}

double max_abs(const Tensor& t) {
  double m = 0;
  for (float v : t.data) m = std::max(m, double(std::abs(v)));
  return m;
}

// max |a - b| / max(max |b|, floor)
double rel_err(const Tensor& a, const Tensor& b, double floor = 1e-6) {
  if (a.shape != b.shape || a.size() != b.size()) return INFINITY;
  double d = 0, m = floor;
  for (int64_t i = 0; i < a.size(); ++i) {
    if (!std::isfinite(a.data[i])) return INFINITY;
    d = std::max(d, std::abs(double(a.data[i]) - double(b.data[i])));
    m = std::max(m, std::abs(double(b.data[i])));
  }
  return d / m;
}

// The GPU backend when this machine can run it; nullptr (and the reason) otherwise.
const fw::Backend* usable_cuda(std::string* why) {
  const fw::Backend* b = fw::gpu::cuda_backend();
  if (!b) {
    *why = fw::gpu::cuda_status();
    return nullptr;
  }
  if (!b->unavailable().empty()) {
    *why = b->unavailable();
    return nullptr;
  }
  return b;
}

struct Net {
  fw::Graph g;
  fw::Analysis a;
  fw::TensorMap w;
  Net(const std::string& name, const fw::Shape& input) {
    fw::TemplateOptions o;
    o.input = input;
    o.num_classes = 7;
    g = fw::build_template(name, o);
    a = fw::analyze(g);
    fw::require_valid(a);
    w = fw::init_weights(a, 5);
    // Larger than timm's init, so that every path carries signal (layer scales start at 1e-5).
    std::mt19937 rng(11);
    std::normal_distribution<float> n(0.0f, 0.02f);
    for (auto& [name_, t] : w)
      for (float& v : t.data) v += n(rng);
  }
};

// Forward (with the first attention op's map kept), then backward of parameters and input.
void compare_network(const fw::Backend& dev, const std::string& name, const fw::Shape& input,
                     double fwd_tol, double bwd_tol) {
  SCOPED_TRACE(name + " on " + std::string(dev.name()));
  Net net(name, input);
  auto cpu = fw::cpu_backend().create(net.g, net.a);
  auto gpu = dev.create(net.g, net.a);
  cpu->bind(net.w);
  gpu->bind(net.w);
  fw::Shape xs{2};
  xs.insert(xs.end(), input.begin(), input.end());
  const Tensor x = random_tensor(xs, 3);
  fw::RunOptions o;
  o.backward = true;
  o.grads.params = true;
  o.grads.inputs = true;
  std::vector<int> attn;
  for (int op = 0; op < int(cpu->flat().ops.size()); ++op)
    if (cpu->flat().ops[op].def->id == "self_attention") attn.push_back(op);
  if (!attn.empty()) o.keep_attention = {attn.front()};
  const auto yc = cpu->forward({x}, o);
  const auto yg = gpu->forward({x}, o);
  ASSERT_EQ(yg.size(), 1u);
  EXPECT_LE(rel_err(yg[0], yc[0]), fwd_tol) << "logits";
  if (!attn.empty()) {
    const Tensor* pc = cpu->attention(attn.front());
    const Tensor* pg = gpu->attention(attn.front());
    ASSERT_TRUE(pc && pg);
    EXPECT_LE(rel_err(*pg, *pc), fwd_tol) << "attention map";
  }
  const Tensor dy = random_tensor(yc[0].shape, 4);
  const fw::Gradients gc = cpu->backward({dy});
  const fw::Gradients gg = gpu->backward({dy});
  ASSERT_EQ(gg.params.size(), gc.params.size());
  // A gradient that is zero in exact arithmetic is float noise on both sides (poolformer's
  // norm1.bias: the pooling mixer maps a constant shift to 0): errors are measured against at
  // least 1e-3 of the largest parameter gradient.
  double largest = 0;
  for (const auto& [pname, t] : gc.params) largest = std::max(largest, max_abs(t));
  for (const auto& [pname, t] : gc.params) {
    auto it = gg.params.find(pname);
    ASSERT_NE(it, gg.params.end()) << pname;
    EXPECT_LE(rel_err(it->second, t, 1e-3 * largest), bwd_tol) << pname;
  }
  ASSERT_EQ(gg.inputs.size(), 1u);
  EXPECT_LE(rel_err(gg.inputs[0], gc.inputs[0]), bwd_tol) << "input gradient";
}

// The MetaFormer families at 3x64x64: pooling, separable conv + attention, separable conv,
// random mixing, identity, and ViT (class token, token layer norm, GELU).
const std::vector<std::pair<std::string, fw::Shape>>& networks() {
  static const std::vector<std::pair<std::string, fw::Shape>> v = {
      {"poolformer_s12", {3, 64, 64}},     {"caformer_s18", {3, 64, 64}},
      {"convformer_s18", {3, 64, 64}},     {"randformer_s12", {3, 64, 64}},
      {"identityformer_s12", {3, 64, 64}}, {"vit_tiny_patch16_224", {3, 32, 32}},
      {"formwork_fm32", {1, 32, 32}}};
  return v;
}

// Dropout and drop path in training draw the CPU's masks (the same hash of seed and element).
void compare_training_masks(const fw::Backend& dev) {
  fw::Graph g;
  const fw::NodeId in =
      g.add(fw::kNoNode, "input", "input",
            fw::Attrs({{"channels", int64_t(4)}, {"height", int64_t(5)}, {"width", int64_t(6)}}));
  const fw::NodeId drop = g.add(fw::kNoNode, "dropout", "drop", fw::Attrs({{"p", 0.4}}));
  const fw::NodeId path = g.add(fw::kNoNode, "drop_path", "path", fw::Attrs({{"p", 0.5}}));
  const fw::NodeId out = g.add(fw::kNoNode, "output", "output");
  g.connect({in, 0}, drop);
  g.connect({drop, 0}, path);
  g.connect({path, 0}, out);
  const fw::Analysis a = fw::analyze(g);
  fw::require_valid(a);
  auto cpu = fw::cpu_backend().create(g, a);
  auto gpu = dev.create(g, a);
  cpu->bind({});
  gpu->bind({});
  fw::RunOptions o;
  o.training = true;
  o.seed = 1234;
  o.backward = true;
  o.grads.inputs = true;
  const Tensor x = random_tensor({8, 4, 5, 6}, 9);
  const auto yc = cpu->forward({x}, o);
  const auto yg = gpu->forward({x}, o);
  EXPECT_EQ(yg[0].data, yc[0].data);
  const Tensor dy = random_tensor({8, 4, 5, 6}, 10);
  EXPECT_EQ(gpu->backward({dy}).inputs.at(0).data, cpu->backward({dy}).inputs.at(0).data);
}

// Plain SGD steps through bind(): the losses (Σ logits·t) of both executors stay together.
void compare_steps(const fw::Backend& dev) {
  Net net("poolformer_s12", {3, 32, 32});
  fw::TensorMap wc = net.w, wg = net.w;
  auto cpu = fw::cpu_backend().create(net.g, net.a);
  auto gpu = dev.create(net.g, net.a);
  const Tensor x = random_tensor({4, 3, 32, 32}, 21);
  const Tensor t = random_tensor({4, 7}, 22);
  fw::RunOptions o;
  o.backward = true;
  o.grads.params = true;
  for (int step = 0; step < 3; ++step) {
    cpu->bind(wc);
    gpu->bind(wg);
    const auto yc = cpu->forward({x}, o);
    const auto yg = gpu->forward({x}, o);
    EXPECT_LE(rel_err(yg[0], yc[0]), 1e-4) << "step " << step;
    const fw::Gradients gc = cpu->backward({t});
    const fw::Gradients gg = gpu->backward({t});
    for (auto& [name, w] : wc)
      if (gc.params.count(name))
        for (int64_t i = 0; i < w.size(); ++i) w.data[i] -= 0.05f * gc.params.at(name).data[i];
    for (auto& [name, w] : wg)
      if (gg.params.count(name))
        for (int64_t i = 0; i < w.size(); ++i) w.data[i] -= 0.05f * gg.params.at(name).data[i];
  }
  for (const auto& [name, w] : wc) EXPECT_LE(rel_err(wg.at(name), w), 1e-4) << name;
}

// Steady state: a second run of the same shapes allocates nothing; kept values are there;
// memory stats count live bytes.
void check_memory_plan(const fw::Backend& dev) {
  Net net("caformer_s18", {3, 64, 64});
  auto ex = dev.create(net.g, net.a);
  ex->bind(net.w);
  const Tensor x = random_tensor({2, 3, 64, 64}, 1);
  fw::RunOptions o;
  o.keep = {fw::find_value(net.g, ex->flat(), "stages.1")};
  ex->forward({x}, o);
  const int64_t after_first = ex->memory().allocations;
  const Tensor* v = ex->value(o.keep[0]);
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->shape.size(), 4u);
  ex->forward({x}, o);
  EXPECT_EQ(ex->memory().allocations, after_first) << "a second run allocated";
  EXPECT_GT(ex->memory().peak_bytes, 0);
  // The planned peak (a lower bound) stays below what the run measured.
  EXPECT_LE(ex->planned_peak_bytes(2, o), static_cast<long double>(ex->memory().peak_bytes));
}

// A batch that cannot fit is refused before anything is allocated; wrong inputs are errors.
void check_refusals(const fw::Backend& dev) {
  Net net("poolformer_s12", {3, 64, 64});
  auto ex = dev.create(net.g, net.a);
  ex->bind(net.w);
  try {
    ex->forward({Tensor({2, 3, 32, 32})}, {});
    ADD_FAILURE() << "a wrong input shape ran";
  } catch (const fw::Error& e) {
    EXPECT_NE(std::string(e.what()).find("expected"), std::string::npos) << e.what();
  }
  fw::RunOptions o;
  // 2^40 samples' activations exceed any machine; the refusal names the size.
  EXPECT_GT(ex->planned_peak_bytes(int64_t(1) << 40, o), 1e15L);
  auto fresh = dev.create(net.g, net.a);
  EXPECT_THROW(fresh->forward({random_tensor({1, 3, 64, 64}, 2)}, {}), fw::Error)
      << "forward before bind()";
}

class DeviceBackendEmulated : public ::testing::TestWithParam<std::pair<std::string, fw::Shape>> {};
TEST_P(DeviceBackendEmulated, NetworkMatchesCpu) {
  compare_network(fw::gpu::host_emulation_backend(), GetParam().first, GetParam().second, 1e-4,
                  1e-3);
}
INSTANTIATE_TEST_SUITE_P(Templates, DeviceBackendEmulated, ::testing::ValuesIn(networks()),
                         [](const auto& info) { return info.param.first; });
TEST(DeviceBackendEmulatedRuns, DropoutMasksAreTheCpus) {
  compare_training_masks(fw::gpu::host_emulation_backend());
}
TEST(DeviceBackendEmulatedRuns, StepsThroughBindFollowTheCpu) {
  compare_steps(fw::gpu::host_emulation_backend());
}
TEST(DeviceBackendEmulatedRuns, SteadyStateAllocatesNothing) {
  check_memory_plan(fw::gpu::host_emulation_backend());
}
TEST(DeviceBackendEmulatedRuns, RefusesWhatCannotRun) {
  check_refusals(fw::gpu::host_emulation_backend());
}

class DeviceBackendCuda : public ::testing::TestWithParam<std::pair<std::string, fw::Shape>> {};
TEST_P(DeviceBackendCuda, NetworkMatchesCpu) {
  std::string why;
  const fw::Backend* b = usable_cuda(&why);
  if (!b) GTEST_SKIP() << why;
  compare_network(*b, GetParam().first, GetParam().second, 1e-4, 1e-3);
}
INSTANTIATE_TEST_SUITE_P(Templates, DeviceBackendCuda, ::testing::ValuesIn(networks()),
                         [](const auto& info) { return info.param.first; });
TEST(DeviceBackendCudaRuns, DropoutMasksAreTheCpus) {
  std::string why;
  const fw::Backend* b = usable_cuda(&why);
  if (!b) GTEST_SKIP() << why;
  compare_training_masks(*b);
}
TEST(DeviceBackendCudaRuns, StepsThroughBindFollowTheCpu) {
  std::string why;
  const fw::Backend* b = usable_cuda(&why);
  if (!b) GTEST_SKIP() << why;
  compare_steps(*b);
}
TEST(DeviceBackendCudaRuns, SteadyStateAllocatesNothing) {
  std::string why;
  const fw::Backend* b = usable_cuda(&why);
  if (!b) GTEST_SKIP() << why;
  check_memory_plan(*b);
}
TEST(DeviceBackendCudaRuns, RefusesWhatCannotRun) {
  std::string why;
  const fw::Backend* b = usable_cuda(&why);
  if (!b) GTEST_SKIP() << why;
  check_refusals(*b);
}

// Without a usable GPU, the cuda backend says why in one line and creates nothing.
TEST(DeviceBackendCudaRuns, WithoutAGpuCreateSaysWhy) {
  const fw::Backend* b = fw::gpu::cuda_backend();
  if (!b) GTEST_SKIP() << "this build has no CUDA backend";
  if (b->unavailable().empty()) GTEST_SKIP() << "this machine has a GPU";
  Net net("poolformer_s12", {3, 32, 32});
  try {
    b->create(net.g, net.a);
    ADD_FAILURE() << "created an executor without a GPU";
  } catch (const fw::Error& e) {
    EXPECT_NE(std::string(e.what()).find(b->unavailable()), std::string::npos) << e.what();
  }
}

}  // namespace
