// AdamW, the learning-rate schedule, gradient clipping, the loss and accuracy helpers.
// (Step-by-step agreement with torch.optim.AdamW is checked by
// tests/python/test_optim_vs_torch.py.)
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/init.h"
#include "kernels/train/loss.h"
#include "kernels/train/optim.h"
#include "store_test_util.h"

namespace fw {
namespace {

Tensor randn(Shape s, uint64_t seed) {
  Tensor t(std::move(s));
  Rng rng(seed);
  for (float& v : t.data) v = float(rng.normal());
  return t;
}

TEST(LrSchedule, WarmupThenCosine) {
  const LrSchedule s(
      {.base_lr = 1.0, .warmup_lr = 0.1, .min_lr = 0.0, .warmup_steps = 2, .total_steps = 6});
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(1), 0.55);
  EXPECT_DOUBLE_EQ(s.lr_at(2), 1.0);
  EXPECT_DOUBLE_EQ(s.lr_at(3), 0.5 * (1 + std::cos(M_PI / 4)));
  EXPECT_NEAR(s.lr_at(4), 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(s.lr_at(5), 0.5 * (1 + std::cos(3 * M_PI / 4)));
  EXPECT_DOUBLE_EQ(s.lr_at(6), 0.0);
  EXPECT_DOUBLE_EQ(s.lr_at(1000), 0.0);
  const LrSchedule none({.base_lr = 0.01, .min_lr = 0.001, .warmup_steps = 0, .total_steps = 4});
  EXPECT_DOUBLE_EQ(none.lr_at(0), 0.01);
  EXPECT_DOUBLE_EQ(none.lr_at(2), 0.0055);
  EXPECT_THROW(LrSchedule({.warmup_steps = 5, .total_steps = 4}), UsageError);
  EXPECT_THROW(LrSchedule({.total_steps = 0}), UsageError);
  EXPECT_THROW(LrSchedule({.base_lr = -1}), UsageError);
}

TEST(AdamW, NoDecayRuleFollowsTimm) {
  EXPECT_TRUE(decays("stages.0.blocks.0.mlp.fc1.weight", {256, 64}));
  EXPECT_TRUE(decays("stem.conv.weight", {64, 3, 7, 7}));
  EXPECT_FALSE(decays("stem.conv.bias", {64}));
  EXPECT_FALSE(decays("head.fc.bias", {10, 1}));  // by name even if not 1-D
  EXPECT_FALSE(decays("stages.0.blocks.0.norm1.weight", {64}));
  EXPECT_FALSE(decays("stages.0.blocks.0.layer_scale1.scale", {64}));
  EXPECT_FALSE(decays("stages.0.blocks.0.mlp.act.scale", {1}));
  EXPECT_FALSE(decays("cls_token", {1, 1, 192}));
  EXPECT_FALSE(decays("pos_embed", {1, 197, 192}));
  EXPECT_TRUE(decays("blocks.0.attn.qkv.weight", {576, 192}));
  std::vector<ParamInfo> ps(2);
  ps[0].name = "a";
  ps[1].name = "fixed";
  ps[1].trainable = false;
  EXPECT_EQ(frozen_names(ps), (std::set<std::string>{"fixed"}));
}

TEST(AdamW, FirstStepByHand) {
  TensorMap p{{"w", Tensor({1, 1}, 1.0f)}, {"b", Tensor({1}, 1.0f)}};
  const TensorMap g{{"w", Tensor({1, 1}, 0.5f)}, {"b", Tensor({1}, 0.5f)}};
  AdamW opt({.weight_decay = 0.1});
  opt.step(p, g, 0.1);
  // w: decayed to 0.99, then m_hat = 0.5, v_hat = 0.25: p -= 0.1 * 0.5 / (0.5 + 1e-8).
  EXPECT_NEAR(p["w"].data[0], 0.99 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-7);
  EXPECT_NEAR(p["b"].data[0], 1.0 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-7);  // no decay for biases
  EXPECT_EQ(opt.steps(), 1);
}

TEST(AdamW, FrozenAndMissingGradientsAreSkipped) {
  TensorMap p{{"a", randn({3, 4}, 1)}, {"fixed", randn({4, 4}, 2)}, {"idle", randn({2, 2}, 3)}};
  const TensorMap before = p;
  AdamW opt;
  opt.set_frozen({"fixed"});
  const TensorMap g{{"a", randn({3, 4}, 4)}, {"fixed", randn({4, 4}, 5)}};
  opt.step(p, g, 0.01);
  EXPECT_NE(p["a"].data, before.at("a").data);
  EXPECT_EQ(p["fixed"].data, before.at("fixed").data);
  EXPECT_EQ(p["idle"].data, before.at("idle").data);
  const TensorMap st = opt.state();
  EXPECT_TRUE(st.count("adam.m.a"));
  EXPECT_FALSE(st.count("adam.m.fixed"));
  EXPECT_FALSE(st.count("adam.m.idle"));
  EXPECT_EQ(st.at("adam.t.a").data[0], 1.0f);
  EXPECT_EQ(st.at("adam.steps").shape, Shape{});
}

TEST(AdamW, BadGradientsLeaveEverythingUntouched) {
  TensorMap p{{"a", randn({3, 4}, 1)}};
  AdamW opt;
  opt.step(p, {{"a", randn({3, 4}, 2)}}, 0.01);
  const TensorMap before = p;
  const TensorMap st = opt.state();
  EXPECT_ERROR_HAS(opt.step(p, {{"a", randn({3, 4}, 2)}, {"zz", randn({1}, 3)}}, 0.01),
                   "gradient for unknown parameter 'zz'");
  EXPECT_ERROR_HAS(opt.step(p, {{"a", randn({4, 3}, 2)}}, 0.01),
                   "gradient of 'a' is 4x3, the parameter is 3x4");
  EXPECT_EQ(p["a"].data, before.at("a").data);
  EXPECT_EQ(opt.state().at("adam.m.a").data, st.at("adam.m.a").data);
  EXPECT_EQ(opt.steps(), 1);
}

// Ten steps in one go equal five, a save/load of the state into a fresh optimiser, five more.
void check_resume(bool amsgrad) {
  const AdamWOptions o{.weight_decay = 0.05, .amsgrad = amsgrad};
  const LrSchedule sched({.base_lr = 1e-2, .warmup_steps = 3, .total_steps = 10});
  TensorMap init{{"w", randn({5, 6}, 1)}, {"b", randn({6}, 2)}, {"s", randn({1}, 3)}};
  auto grads = [](int step) {
    TensorMap g{{"w", randn({5, 6}, 100 + step)}, {"b", randn({6}, 200 + step)}};
    if (step % 3 != 0) g["s"] = randn({1}, 300 + step);  // sometimes no gradient
    return g;
  };
  TensorMap straight = init;
  AdamW a(o);
  for (int s = 0; s < 10; ++s) a.step(straight, grads(s), sched.lr_at(a.steps()));
  TensorMap resumed = init;
  AdamW b(o);
  for (int s = 0; s < 5; ++s) b.step(resumed, grads(s), sched.lr_at(b.steps()));
  AdamW c(o);
  c.load_state(b.state());
  EXPECT_EQ(c.steps(), 5);
  for (int s = 5; s < 10; ++s) c.step(resumed, grads(s), sched.lr_at(c.steps()));
  for (const auto& [name, t] : straight) EXPECT_EQ(resumed[name].data, t.data) << name;
  const TensorMap sa = a.state(), sc = c.state();
  ASSERT_EQ(sa.size(), sc.size());
  for (const auto& [k, t] : sa) EXPECT_EQ(sc.at(k).data, t.data) << k;
  EXPECT_EQ(sa.count("adam.vmax.w"), amsgrad ? 1u : 0u);
}

TEST(AdamW, ResumesExactly) { check_resume(false); }
TEST(AdamW, ResumesExactlyWithAmsgrad) { check_resume(true); }

TEST(AdamW, LoadStateRejectsMalformedEntries) {
  AdamW opt;
  EXPECT_ERROR_HAS(opt.load_state({{"sgd.momentum.w", Tensor({1})}}), "unexpected entry");
  EXPECT_ERROR_HAS(opt.load_state({{"adam.m.w", Tensor({2})}, {"adam.t.w", Tensor({}, 1.0f)}}),
                   "adam.v.w is missing");
  EXPECT_ERROR_HAS(
      opt.load_state(
          {{"adam.m.w", Tensor({2})}, {"adam.v.w", Tensor({3})}, {"adam.t.w", Tensor({}, 1.0f)}}),
      "differ in shape");
  EXPECT_ERROR_HAS(opt.load_state({{"adam.steps", Tensor({}, 1.5f)}}), "whole number");
  // A state whose shape no longer matches the parameter is refused at the next step.
  opt.load_state(
      {{"adam.m.w", Tensor({2})}, {"adam.v.w", Tensor({2})}, {"adam.t.w", Tensor({}, 1.0f)}});
  TensorMap p{{"w", Tensor({3})}};
  EXPECT_ERROR_HAS(opt.step(p, {{"w", Tensor({3})}}, 0.1), "the state of 'w' is 2");
}

TEST(ClipGradNorm, ScalesOnlyAboveTheLimit) {
  TensorMap g{{"a", Tensor({2}, std::vector<float>{3, 0})}, {"b", Tensor({1}, 4.0f)}};
  EXPECT_DOUBLE_EQ(clip_grad_norm(g, 10.0), 5.0);
  EXPECT_EQ(g["a"].data[0], 3.0f);
  EXPECT_DOUBLE_EQ(clip_grad_norm(g, 1.0), 5.0);
  EXPECT_NEAR(g["a"].data[0], 3.0 / (5 + 1e-6), 1e-7);
  EXPECT_NEAR(g["b"].data[0], 4.0 / (5 + 1e-6), 1e-7);
}

TEST(Loss, CrossEntropyValuesAndGradient) {
  // Uniform logits: loss log K whatever the smoothing; grad (1/K - q) / B.
  const Tensor z({2, 4}, 0.5f);
  Tensor g;
  EXPECT_NEAR(cross_entropy(z, {1, 3}, 0.0, &g), std::log(4.0), 1e-12);
  EXPECT_NEAR(cross_entropy(z, {1, 3}, 0.2, &g), std::log(4.0), 1e-12);
  EXPECT_NEAR(g.data[1], (0.25 - (0.8 + 0.05)) / 2, 1e-7);
  EXPECT_NEAR(g.data[0], (0.25 - 0.05) / 2, 1e-7);
  // Huge logits stay finite (log-sum-exp).
  const Tensor big({1, 3}, std::vector<float>{1e4f, -1e4f, 0});
  EXPECT_NEAR(cross_entropy(big, {0}, 0.0, &g), 0.0, 1e-12);
  EXPECT_NEAR(cross_entropy(big, {1}, 0.0, &g), 2e4, 1e-6);
  EXPECT_NEAR(cross_entropy(big, {1}, 0.1, &g), 0.9 * 2e4 + 0.1 / 3 * (0 + 2e4 + 1e4), 1e-6);
  for (float v : g.data) EXPECT_TRUE(std::isfinite(v));
  // Gradient against central differences.
  const Tensor r = randn({3, 5}, 7);
  const std::vector<int64_t> y{4, 0, 2};
  cross_entropy(r, y, 0.1, &g);
  for (size_t i = 0; i < r.data.size(); ++i) {
    Tensor hi = r, lo = r;
    hi.data[i] += 1e-2f;
    lo.data[i] -= 1e-2f;
    const double fd = (cross_entropy(hi, y, 0.1, nullptr) - cross_entropy(lo, y, 0.1, nullptr)) /
                      double(hi.data[i] - lo.data[i]);
    EXPECT_NEAR(g.data[i], fd, 1e-4) << i;
  }
  EXPECT_ERROR_HAS(cross_entropy(r, {4, 5, 0}, 0.0, nullptr),
                   "label 5 of sample 1 is out of range [0, 5)");
  EXPECT_ERROR_HAS(cross_entropy(r, {1}, 0.0, nullptr), "3 rows of logits but 1 labels");
  EXPECT_THROW(cross_entropy(r, y, 1.5, nullptr), UsageError);
}

TEST(Loss, TopKAndAccuracy) {
  const Tensor z({3, 6}, std::vector<float>{0, 9, 1, 2, 3, 4,    // label 1: top-1
                                            9, 8, 7, 6, 5, 0,    // label 5: last -> not top-5
                                            1, 1, 1, 1, 1, 1});  // ties: label 3 ranks 4th
  const std::vector<int64_t> y{1, 5, 3};
  EXPECT_EQ(topk_correct(z, y, 1), 1);
  EXPECT_EQ(topk_correct(z, y, 3), 1);
  EXPECT_EQ(topk_correct(z, y, 4), 2);
  EXPECT_EQ(topk_correct(z, y, 5), 2);
  EXPECT_EQ(topk_correct(z, y, 6), 3);
  Accuracy acc;
  acc.add(z, y, 0.5);
  acc.add(z, y, 1.5);
  EXPECT_EQ(acc.n, 6);
  EXPECT_DOUBLE_EQ(acc.top1(), 2.0 / 6);
  EXPECT_DOUBLE_EQ(acc.loss(), 1.0);
}

// A network that outputs the same logit for every class predicts class 0 (torch.argmax), so
// its top-1 is the share of class 0 in the labels, and its top-5 the share of classes 0..4.
TEST(Loss, ConstantLogitsScoreTheShareOfTheFirstClasses) {
  const int64_t B = 20, K = 10;
  Tensor z({B, K});
  for (float& v : z.data) v = 0.25f;
  std::vector<int64_t> y(B);
  for (int64_t b = 0; b < B; ++b) y[b] = (b * 7) % K;  // each class twice
  EXPECT_EQ(topk_correct(z, y, 1), 2);
  EXPECT_EQ(topk_correct(z, y, 5), 10);
  EXPECT_EQ(topk_correct(z, y, 10), 20);
}

// Equal logits rank by class index, other values as usual; NaN ranks above every number.
TEST(Loss, TiedAndNaNLogitsRankAsPyTorch) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor z({4, 5}, std::vector<float>{1, 3, 3, 0, 3,      // 3s at 1, 2, 4: order 1, 2, 4, 0, 3
                                            2, 2, 5, 2, 2,      // 2, then 0, 1, 3, 4
                                            0, nan, 9, nan, 1,  // 1, 3, 2, 4, 0
                                            7, 7, 7, 7, 7});    // 0, 1, 2, 3, 4
  auto rank_of = [&](int64_t row, int64_t label) {  // smallest k that counts `label` as correct
    const Tensor one({1, 5}, std::vector<float>(z.data.begin() + row * 5, z.data.begin() + row * 5 + 5));
    for (int k = 1; k <= 5; ++k)
      if (topk_correct(one, {label}, k)) return k;
    return 0;
  };
  const int64_t want[4][5] = {{4, 1, 2, 5, 3}, {2, 3, 1, 4, 5}, {5, 1, 3, 2, 4}, {1, 2, 3, 4, 5}};
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t c = 0; c < 5; ++c) EXPECT_EQ(rank_of(r, c), want[r][c]) << "row " << r << " class " << c;
}

}  // namespace
}  // namespace fw
