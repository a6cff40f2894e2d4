// Training: loss goes down, runs are deterministic for a seed, a resumed run equals an
// uninterrupted one, cancellation keeps the last completed epoch.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/init.h"
#include "core/templates.h"
#include "core/weights.h"
#include "kernels/parallel.h"
#include "kernels/train/project_run.h"
#include "kernels/train/trainer.h"
#include "tests/unit/backend_doubles.h"

using namespace fw;

namespace {

// 4 classes of 1x32x32 images, each a shape at a random place on noise: a horizontal bar, a
// vertical bar, a checkerboard patch, a hollow square. (Position alone would not do: pooling
// heads are translation-invariant.)
Dataset shapes(int64_t n, uint64_t seed, const std::string& split) {
  Dataset d;
  d.name = "quadrants";
  d.split = split;
  d.channels = 1, d.height = 32, d.width = 32;
  d.class_names = {"hbar", "vbar", "checker", "ring"};
  Rng rng(seed);
  d.pixels.resize(size_t(n) * 32 * 32);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = int64_t(rng.next() % 4);
    d.labels.push_back(k);
    uint8_t* p = d.pixels.data() + i * 1024;
    for (int j = 0; j < 1024; ++j) p[j] = uint8_t(rng.next() % 60);
    const int y0 = 2 + int(rng.next() % 18), x0 = 2 + int(rng.next() % 18);
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 12; ++x) {
        const bool on = k == 0   ? (y >= 5 && y < 8)
                        : k == 1 ? (x >= 5 && x < 8)
                        : k == 2 ? ((x / 2 + y / 2) % 2 == 0)
                                 : (x < 2 || x >= 10 || y < 2 || y >= 10);
        if (on) p[(y0 + y) * 32 + x0 + x] = 220;
      }
  }
  d.norm = {{0.2f}, {0.3f}};
  d.augment = {2, PadMode::Zero, false};
  return d;
}

struct TrainFixture {
  Graph g = build_template("formwork_fm32", {{1, 32, 32}, 4});
  Analysis a = analyze(g);
  TrainData data;
  TrainSettings s;
  TrainFixture() {
    data.train = shapes(96, 1, "train");
    data.test = shapes(32, 2, "test");
    data.norm = data.train.norm;
    data.channels = 1;
    s.epochs = 3;
    s.batch = 16;
    s.lr = 3e-3;
    s.warmup_epochs = 0.5;
    s.seed = 7;
  }
  TrainCheckpoint start() const {
    TrainCheckpoint ck;
    ck.weights = init_weights(a, 3);
    return ck;
  }
};

bool same(const TensorMap& x, const TensorMap& y) {
  if (x.size() != y.size()) return false;
  for (const auto& [k, t] : x)
    if (!y.count(k) || y.at(k).data != t.data) return false;
  return true;
}

// A curve without its timing points (images/s differs from run to run).
std::vector<CurvePoint> timeless(std::vector<CurvePoint> c) {
  std::erase_if(c, [](const CurvePoint& p) { return p.key == "images_per_s"; });
  return c;
}

}  // namespace

TEST(Trainer, LossDecreasesAndLearns) {
  set_num_threads(1);
  TrainFixture su;
  su.s.epochs = 6;
  su.s.label_smoothing = 0.0;
  TrainCheckpoint ck = su.start();
  JobControl ctl;
  std::vector<EpochResult> rs;
  const std::string st =
      train(su.g, su.a, cpu_backend(), su.s, su.data, ck, ctl, nullptr,
            [&](const TrainCheckpoint&, const EpochResult& r) { rs.push_back(r); });
  EXPECT_EQ(st, "done");
  ASSERT_EQ(rs.size(), 6u);
  EXPECT_LT(rs.back().train_loss, rs.front().train_loss * 0.8);
  EXPECT_GE(rs.back().test_top1, 0.5);  // 4 classes: chance is 0.25
  EXPECT_EQ(ck.epochs_done, 6);
  EXPECT_FALSE(ck.optimizer.empty());
}

TEST(Trainer, DeterministicForASeed) {
  set_num_threads(1);
  TrainFixture su;
  su.s.epochs = 2;
  TrainCheckpoint a = su.start(), b = su.start();
  JobControl c1, c2;
  train(su.g, su.a, cpu_backend(), su.s, su.data, a, c1, nullptr, nullptr);
  train(su.g, su.a, cpu_backend(), su.s, su.data, b, c2, nullptr, nullptr);
  EXPECT_TRUE(same(a.weights, b.weights));
  su.s.seed = 8;
  TrainCheckpoint c = su.start();
  JobControl c3;
  train(su.g, su.a, cpu_backend(), su.s, su.data, c, c3, nullptr, nullptr);
  EXPECT_FALSE(same(a.weights, c.weights));
}

TEST(Trainer, ResumedRunEqualsUninterrupted) {
  set_num_threads(1);
  TrainFixture su;
  TrainCheckpoint full = su.start();
  JobControl c1;
  train(su.g, su.a, cpu_backend(), su.s, su.data, full, c1, nullptr, nullptr);

  // Stop after the first epoch (cancel from inside the second), keep that epoch's checkpoint,
  // then resume from it as the CLI does.
  TrainCheckpoint part = su.start();
  TrainCheckpoint saved;
  JobControl c2;
  const std::string st = train(
      su.g, su.a, cpu_backend(), su.s, su.data, part, c2,
      [&](const StepInfo& s) {
        if (s.epoch == 1 && s.step == 2) c2.cancel = true;
      },
      [&](const TrainCheckpoint& ck, const EpochResult&) { saved = ck; });
  EXPECT_EQ(st, "cancelled");
  ASSERT_EQ(saved.epochs_done, 1);
  // What the cancelled run hands back is that epoch's checkpoint, not the partial second epoch.
  EXPECT_EQ(part.epochs_done, 1);
  EXPECT_TRUE(same(part.weights, saved.weights));
  EXPECT_TRUE(same(part.optimizer, saved.optimizer));
  EXPECT_EQ(part.curve, saved.curve);
  JobControl c3;
  EXPECT_EQ(train(su.g, su.a, cpu_backend(), su.s, su.data, saved, c3, nullptr, nullptr), "done");
  EXPECT_EQ(saved.epochs_done, 3);
  EXPECT_TRUE(same(saved.weights, full.weights));
  EXPECT_TRUE(same(saved.optimizer, full.optimizer));
}

// A device backend holds its own copy of the weights (it uploads them in bind()): the trainer must
// bind again after every optimiser step, or every step after the first would run on the initial
// weights. A backend that copies in bind() (as DevExecutor uploads) gets the CPU's losses, step by
// step, and its final weights.
TEST(Trainer, ADeviceBackendSeesEveryOptimiserStep) {
  set_num_threads(1);
  TrainFixture su;
  su.s.epochs = 2;
  auto run = [&](const Backend& be, std::vector<double>& losses) {
    TrainCheckpoint ck = su.start();
    JobControl ctl;
    EXPECT_EQ(train(
                  su.g, su.a, be, su.s, su.data, ck, ctl,
                  [&](const StepInfo& st) { losses.push_back(st.batch_loss); }, nullptr),
              "done");
    return ck;
  };
  std::vector<double> cpu_losses, dev_losses;
  const TrainCheckpoint cpu = run(cpu_backend(), cpu_losses);
  fwtest::DeviceLikeBackend dev("uploading");
  dev.copy_on_bind = true;
  const TrainCheckpoint on_dev = run(dev, dev_losses);
  ASSERT_EQ(dev_losses.size(), cpu_losses.size());
  ASSERT_EQ(cpu_losses.size(), 12u);  // 96 items / 16 a batch, 2 epochs
  for (size_t i = 0; i < cpu_losses.size(); ++i)
    EXPECT_NEAR(dev_losses[i], cpu_losses[i], 1e-4 * std::abs(cpu_losses[i])) << "step " << i;
  EXPECT_TRUE(same(on_dev.weights, cpu.weights));
  EXPECT_EQ(dev.binds.load(), 1 + 12);  // once before the first step, then after every step
}

TEST(Trainer, SettingsRoundTripThroughJson) {
  TrainSettings s;
  s.dataset = "/data/x";
  s.epochs = 12;
  s.lr = 1.5e-3;
  s.augment = false;
  s.seed = 99;
  const TrainSettings t = TrainSettings::from_json(s.to_json());
  EXPECT_EQ(t.to_json(), s.to_json());
  EXPECT_THROW(TrainSettings::from_json("{"), Error);
  const Normalization n{{0.5f}, {0.25f}};
  EXPECT_EQ(normalization_from_json(normalization_to_json(n)), n);
}

// A run whose weights turn NaN in its second epoch (a NaN written into them mid-epoch, what an
// overflowing gradient leaves): it stops with the reason, the project keeps epoch 1 (finite
// weights, that epoch's curve) and marks the run failed.
TEST(ProjectRun, ADivergingRunStopsAndKeepsTheLastGoodEpoch) {
  set_num_threads(1);
  TrainFixture su;
  su.s.epochs = 3;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("formwork_nan_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "nan.formwork").string();
  ProjectRun run = start_run(path, {}, su.g, su.start().weights, su.s, "formwork_fm32");
  JobControl ctl;
  TensorMap after_first;
  std::string msg;
  try {
    run_training(
        run, su.data, cpu_backend(), ctl,
        [&](const StepInfo& st) {
          if (st.epoch == 1 && st.step == 1) run.ck.weights.begin()->second.data[0] = std::nanf("");
        },
        [&](const EpochResult&) { after_first = run.ck.weights; });
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("training diverged"), std::string::npos) << msg;
  EXPECT_NE(msg.find("epoch 2"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path + " keeps the last completed epoch (1), the run marked failed"),
            std::string::npos)
      << msg;
  const ProjectData p = load_project(path);
  ASSERT_EQ(p.runs.size(), 1u);
  EXPECT_EQ(p.runs[0].status, "failed");
  EXPECT_EQ(p.meta.at("train_epochs_done"), "1");
  EXPECT_TRUE(same(p.weights, after_first));
  EXPECT_EQ(non_finite_weight(p.weights), "");
  EXPECT_EQ(epoch_results(p.runs[0].curve).size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(Weights, NonFiniteValuesAreNamed) {
  TensorMap w;
  w["a"] = Tensor({2}, std::vector<float>{1, 2});
  w["b"] = Tensor({3}, std::vector<float>{0, 0, INFINITY});
  EXPECT_EQ(non_finite_weight(w), "tensor 'b' holds +Inf at element 2 of 3");
  w["b"].data[1] = std::nanf("");
  EXPECT_EQ(non_finite_weight(w), "tensor 'b' holds NaN at element 1 of 3");
  try {
    require_finite_weights(w, "w.safetensors");
    ADD_FAILURE() << "not refused";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "w.safetensors: tensor 'b' holds NaN at element 1 of 3; weights must be finite");
  }
  w.erase("b");
  EXPECT_EQ(non_finite_weight(w), "");
}

// A run kept in a project file (kernels/train/project_run.h): saved before the first step, after
// every epoch, marked cancelled with the last completed epoch, resumed to the same weights as an
// uninterrupted run.
TEST(ProjectRun, SavesCancelsAndResumes) {
  set_num_threads(1);
  TrainFixture su;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("formwork_run_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string full_path = (dir / "full.formwork").string();
  const std::string part_path = (dir / "part.formwork").string();

  ProjectRun full = start_run(full_path, {}, su.g, su.start().weights, su.s, "formwork_fm32");
  JobControl c1;
  std::vector<EpochResult> seen;
  EXPECT_EQ(run_training(full, su.data, cpu_backend(), c1, nullptr,
                         [&](const EpochResult& r) { seen.push_back(r); }),
            "done");
  ASSERT_EQ(seen.size(), 3u);
  // The curve gives the epochs back (what the GUI shows for a stored run).
  const std::vector<EpochResult> rs = epoch_results(full.ck.curve);
  ASSERT_EQ(rs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rs[i].epoch, seen[i].epoch);
    EXPECT_EQ(rs[i].train_loss, seen[i].train_loss);
    EXPECT_EQ(rs[i].train_top1, seen[i].train_top1);
    EXPECT_EQ(rs[i].test_loss, seen[i].test_loss);
    EXPECT_EQ(rs[i].test_top1, seen[i].test_top1);
    EXPECT_EQ(rs[i].test_top5, seen[i].test_top5);
    EXPECT_EQ(rs[i].lr, seen[i].lr);
  }
  const ProjectData done = load_project(full_path);
  ASSERT_EQ(done.runs.size(), 1u);
  EXPECT_EQ(done.runs[0].status, "done");
  EXPECT_EQ(done.meta.at("train_epochs_done"), "3");
  EXPECT_EQ(done.meta.at("template"), "formwork_fm32");
  EXPECT_TRUE(done.blobs.count(kOptimizerBlob));
  EXPECT_TRUE(same(done.weights, full.ck.weights));

  // Cancelled in the second epoch: the file holds epoch 1, marked cancelled.
  ProjectRun part = start_run(part_path, {}, su.g, su.start().weights, su.s, "formwork_fm32");
  // From start_run until run_training returns the run holds the project's write lock: a save
  // (the GUI's, another command's) is refused naming the run, and so is a second run.
  std::string busy;
  try {
    save_project(part_path, ProjectData{});
  } catch (const Error& e) {
    busy = e.what();
  }
  EXPECT_NE(busy.find(part_path + ": "), std::string::npos) << busy;
  EXPECT_NE(busy.find(", training, since "), std::string::npos) << busy;
  EXPECT_NE(busy.find("is writing this project"), std::string::npos) << busy;
  EXPECT_FALSE(std::filesystem::exists(part_path));
  EXPECT_NE(project_lock_holder(part_path).find("training"), std::string::npos);
  JobControl c2;
  TensorMap after_first;
  EXPECT_EQ(run_training(
                part, su.data, cpu_backend(), c2,
                [&](const StepInfo& s) {
                  if (s.epoch == 1 && s.step == 1) c2.cancel = true;
                },
                [&](const EpochResult&) { after_first = part.ck.weights; }),
            "cancelled");
  const ProjectData cancelled = load_project(part_path);
  EXPECT_EQ(cancelled.runs.back().status, "cancelled");
  EXPECT_EQ(cancelled.meta.at("train_epochs_done"), "1");
  EXPECT_TRUE(same(cancelled.weights, after_first));
  EXPECT_EQ(last_run(cancelled).epochs_done, 1);

  // Resumed: the same weights as the uninterrupted run, one run marked done.
  ProjectRun resumed = resume_run(part_path, 0);
  EXPECT_EQ(resumed.settings.epochs, 3);
  JobControl c3;
  EXPECT_EQ(run_training(resumed, su.data, cpu_backend(), c3, nullptr, nullptr), "done");
  const ProjectData after = load_project(part_path);
  ASSERT_EQ(after.runs.size(), 1u);
  EXPECT_EQ(after.runs[0].status, "done");
  EXPECT_TRUE(same(after.weights, done.weights));
  EXPECT_EQ(timeless(after.runs[0].curve), timeless(done.runs[0].curve));
  EXPECT_THROW(resume_run(part_path, 3), Error);  // nothing left to do
  EXPECT_THROW(resume_run((dir / "missing.formwork").string(), 5), Error);

  // Stopped before its first epoch: the file says so and resumes from the starting weights.
  const std::string early_path = (dir / "early.formwork").string();
  ProjectRun early = start_run(early_path, {}, su.g, su.start().weights, su.s, "formwork_fm32");
  JobControl c4;
  c4.cancel = true;
  EXPECT_EQ(run_training(early, su.data, cpu_backend(), c4, nullptr, nullptr), "cancelled");
  const ProjectData e = load_project(early_path);
  EXPECT_EQ(e.runs.back().status, "cancelled");
  EXPECT_EQ(e.meta.at("train_epochs_done"), "0");
  EXPECT_TRUE(same(e.weights, su.start().weights));
  std::filesystem::remove_all(dir);
}
