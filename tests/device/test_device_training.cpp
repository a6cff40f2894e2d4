// Training on a device backend gives the CPU's losses, step by step: the trainer
// (kernels/train/trainer.cpp) binds the weights again after every optimiser step, which a device
// backend needs (its executor uploads them in bind()). formwork_fm32 on a small synthetic dataset,
// FP32 (TF32 off), relative tolerance 1e-4 per step.
//  - DeviceTrainingEmulated.*: the CUDA backend's executor and programs under the host emulation
//    (every machine; label unit).
//  - DeviceTrainingCuda.*: on the GPU (label gpu; skipped without the CUDA backend in the build or
//    without a usable GPU).
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/init.h"
#include "core/templates.h"
#include "kernels/cuda/backends.h"
#include "kernels/parallel.h"
#include "kernels/train/trainer.h"

namespace {

// n 1x32x32 items of 2 classes: a bright or a dark square at a random place on noise.
fw::Dataset squares(int64_t n, uint64_t seed, const std::string& split) {
  fw::Dataset d;
  d.name = "squares";
  d.split = split;
  d.channels = 1, d.height = 32, d.width = 32;
  d.class_names = {"dark", "bright"};
  fw::Rng rng(seed);
  d.pixels.resize(size_t(n) * 32 * 32);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = int64_t(rng.next() % 2);
    d.labels.push_back(k);
    uint8_t* p = d.pixels.data() + i * 1024;
    for (int j = 0; j < 1024; ++j) p[j] = uint8_t(rng.next() % 40);
    const int y0 = int(rng.next() % 20), x0 = int(rng.next() % 20);
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 12; ++x) p[(y0 + y) * 32 + x0 + x] = k ? 220 : 90;
  }
  d.norm = {{0.2f}, {0.3f}};
  d.augment = {2, fw::PadMode::Zero, true};
  return d;
}

// Trains formwork_fm32 two epochs (12 steps) on the CPU and on `dev` from the same weights and
// seed, and compares the per-step mini-batch losses.
void expect_cpu_losses(const fw::Backend& dev) {
  const fw::Graph g = fw::build_template("formwork_fm32", {{1, 32, 32}, 2});
  const fw::Analysis a = fw::analyze(g);
  for (const fw::FlatOp& op : fw::flatten(g, a).ops)
    ASSERT_TRUE(dev.supports(op.def->id)) << dev.name() << " has no program for " << op.def->id;
  fw::gpu::set_tf32(false);
  fw::set_num_threads(1);
  fw::TrainData data;
  data.train = squares(48, 1, "train");
  data.test = squares(16, 2, "test");
  data.norm = data.train.norm;
  data.channels = 1;
  fw::TrainSettings s;
  s.epochs = 2;
  s.batch = 8;
  s.lr = 2e-3;
  s.warmup_epochs = 0.5;
  s.seed = 5;
  auto run = [&](const fw::Backend& be, std::vector<double>& losses) {
    fw::TrainCheckpoint ck;
    ck.weights = fw::init_weights(a, 3);
    fw::JobControl ctl;
    EXPECT_EQ(fw::train(
                  g, a, be, s, data, ck, ctl,
                  [&](const fw::StepInfo& st) { losses.push_back(st.batch_loss); }, nullptr),
              "done");
  };
  std::vector<double> cpu, on_dev;
  run(fw::cpu_backend(), cpu);
  run(dev, on_dev);
  ASSERT_EQ(cpu.size(), 12u);
  ASSERT_EQ(on_dev.size(), cpu.size());
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_NEAR(on_dev[i], cpu[i], 1e-4 * std::abs(cpu[i])) << "step " << i;
  // The steps moved the weights: the losses are not all the first one's.
  EXPECT_GT(std::abs(cpu.back() - cpu.front()), 1e-3 * std::abs(cpu.front()));
}

}  // namespace

TEST(DeviceTrainingEmulated, LossesAreTheCpus) {
  expect_cpu_losses(fw::gpu::host_emulation_backend());
}

TEST(DeviceTrainingCuda, LossesAreTheCpus) {
  const fw::Backend* cuda = fw::gpu::cuda_backend();
  if (!cuda) GTEST_SKIP() << fw::gpu::cuda_status();
  if (const std::string why = cuda->unavailable(); !why.empty()) GTEST_SKIP() << why;
  expect_cpu_losses(*cuda);
}
