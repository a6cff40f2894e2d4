// views/faithfulness.h and views/mixing.h arithmetic: the bilinear saliency (torch's
// F.interpolate values), the stable pixel ranking, the trapezoid AUC, deletion/insertion curves
// and the pointing game on a network whose class probabilities are known in closed form, and the
// mixing map of a pooling mixer against its Jacobian written out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "core/analysis.h"
#include "core/error.h"
#include "core/graph.h"
#include "kernels/backend.h"
#include "views/faithfulness.h"
#include "views/mixing.h"

namespace {

using fw::Attrs;
using fw::kNoNode;
using fw::NodeId;
using fw::Tensor;

fw::AttrValue iv(int64_t v) { return fw::AttrValue(v); }

TEST(ViewsSaliency, BilinearMatchesTorchInterpolate) {
  // torch.nn.functional.interpolate(tensor([[0., 1.], [2., 3.]])[None, None], size=(4, 4),
  // mode="bilinear", align_corners=False)
  const float cam[] = {0, 1, 2, 3};
  const Tensor s = fw::saliency(cam, 2, 2, 4, 4);
  const float want[] = {0,   0.25, 0.75, 1,   0.5, 0.75, 1.25, 1.5,
                        1.5, 1.75, 2.25, 2.5, 2,   2.25, 2.75, 3};
  ASSERT_EQ(s.shape, (fw::Shape{4, 4}));
  for (int i = 0; i < 16; ++i) EXPECT_FLOAT_EQ(s.data[i], want[i]) << i;
}

TEST(ViewsSaliency, SameSizeIsIdentityAndNonSquare) {
  const float cam[] = {1, 5, 2, 7, 3, 0};
  const Tensor s = fw::saliency(cam, 2, 3, 2, 3);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(s.data[i], cam[i]);
  // 1x2 -> 1x4: src x = (o + 0.5) / 2 - 0.5 -> 0 (clamped), 0.25, 0.75, 1.25 (edge)
  const float row[] = {0, 4};
  const Tensor r = fw::saliency(row, 1, 2, 1, 4);
  EXPECT_FLOAT_EQ(r.data[0], 0);
  EXPECT_FLOAT_EQ(r.data[1], 1);
  EXPECT_FLOAT_EQ(r.data[2], 3);
  EXPECT_FLOAT_EQ(r.data[3], 4);
}

TEST(ViewsSaliency, PixelOrderIsStableDescending) {
  const Tensor s({2, 3}, std::vector<float>{1, 3, 3, 0, 1, 3});
  EXPECT_EQ(fw::pixel_order(s), (std::vector<int64_t>{1, 2, 5, 0, 4, 3}));
  const Tensor flat({1, 4}, 2.0f);
  EXPECT_EQ(fw::pixel_order(flat), (std::vector<int64_t>{0, 1, 2, 3}));
}

TEST(ViewsSaliency, TrapezoidAuc) {
  EXPECT_DOUBLE_EQ(fw::curve_auc(std::vector<double>(33, 1.0)), 1.0);
  std::vector<double> ramp;
  for (int k = 0; k <= 32; ++k) ramp.push_back(k / 32.0);
  EXPECT_NEAR(fw::curve_auc(ramp), 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(fw::curve_auc({0.0, 1.0, 0.0}), 0.5);  // (0+1)/4 + (1+0)/4
}

// input [1,2,2] -> global_avg_pool -> linear 1->2 (w = [1, -1], no bias): logits (m, -m) with m
// the mean pixel, so p(class 0) = sigmoid(2m).
struct MeanNet {
  fw::Graph g;
  fw::Analysis a;
  fw::TensorMap w;
  std::unique_ptr<fw::Executor> ex;
  MeanNet() {
    const NodeId in = g.add(kNoNode, "input", "input", Attrs{{"channels", iv(1)}, {"height", iv(2)}, {"width", iv(2)}});
    const NodeId gap = g.add(kNoNode, "global_avg_pool", "pool");
    const NodeId fc = g.add(kNoNode, "linear", "fc",
                            Attrs{{"in_features", iv(1)}, {"out_features", iv(2)}, {"bias", fw::AttrValue(false)}});
    const NodeId out = g.add(kNoNode, "output", "output");
    g.connect({in, 0}, gap);
    g.connect({gap, 0}, fc);
    g.connect({fc, 0}, out);
    a = fw::analyze(g);
    fw::require_valid(a);
    w["fc.weight"] = Tensor({2, 1}, std::vector<float>{1, -1});
    ex = fw::cpu_backend().create(g, a);
    ex->bind(w);
  }
};

double sigmoid2(double m) { return 1.0 / (1.0 + std::exp(-2 * m)); }

TEST(ViewsFaithfulness, CurvesOfAKnownNetwork) {
  MeanNet net;
  const Tensor x({1, 1, 2, 2}, std::vector<float>{4, -3, 2, 1});
  // Ranking 2, 0, 3, 1.
  const Tensor cam({2, 2}, std::vector<float>{0.3f, 0.1f, 0.4f, 0.2f});
  const fw::Faithfulness f = fw::faithfulness(*net.ex, x, cam, 0, fw::PixelBox{0, 1, 1, 2});
  ASSERT_EQ(f.deletion.size(), 33u);
  ASSERT_EQ(f.insertion.size(), 33u);
  const int order[] = {2, 0, 3, 1};
  double del_auc = 0, ins_auc = 0, prev_d = 0, prev_i = 0;
  for (int k = 0; k <= 32; ++k) {
    const int m = k * 4 / 32;
    double kept = 0, put = 0;
    for (int r = 0; r < 4; ++r) (r < m ? put : kept) += x.data[order[r]];
    const double pd = sigmoid2(kept / 4), pi = sigmoid2(put / 4);
    EXPECT_NEAR(f.deletion[k], pd, 1e-6) << k;
    EXPECT_NEAR(f.insertion[k], pi, 1e-6) << k;
    if (k) del_auc += (prev_d + pd) / 64, ins_auc += (prev_i + pi) / 64;
    prev_d = pd, prev_i = pi;
  }
  EXPECT_NEAR(f.deletion_auc, del_auc, 1e-6);
  EXPECT_NEAR(f.insertion_auc, ins_auc, 1e-6);
  EXPECT_EQ(f.peak_x, 0);
  EXPECT_EQ(f.peak_y, 1);
  ASSERT_TRUE(f.pointing_hit.has_value());
  EXPECT_TRUE(*f.pointing_hit);  // box x in [0,1), y in [1,2)
  // class 1: p = 1 - p(class 0)
  const fw::Faithfulness f1 = fw::faithfulness(*net.ex, x, cam, 1, std::nullopt);
  EXPECT_FALSE(f1.pointing_hit.has_value());
  EXPECT_NEAR(f1.deletion[0], 1 - sigmoid2(1.0), 1e-6);
}

TEST(ViewsFaithfulness, PointingGameToleranceAndErrors) {
  MeanNet net;
  const Tensor x({1, 1, 2, 2}, 1.0f);
  const Tensor cam({2, 2}, std::vector<float>{0.0f, 0.5f, 0.5f, 0.0f});  // first maximum: (1, 0)
  EXPECT_FALSE(*fw::faithfulness(*net.ex, x, cam, 0, fw::PixelBox{0, 0, 1, 2}).pointing_hit);
  EXPECT_TRUE(*fw::faithfulness(*net.ex, x, cam, 0, fw::PixelBox{0, 0, 1, 2}, 1).pointing_hit);
  EXPECT_TRUE(*fw::faithfulness(*net.ex, x, cam, 0, fw::PixelBox{1, 0, 2, 1}).pointing_hit);
  EXPECT_THROW(fw::faithfulness(*net.ex, x, cam, 0, fw::PixelBox{0, 0, 3, 2}), fw::Error);
  EXPECT_THROW(fw::faithfulness(*net.ex, x, cam, 0, fw::PixelBox{1, 1, 1, 2}), fw::Error);
  EXPECT_THROW(fw::faithfulness(*net.ex, x, cam, 2, std::nullopt), fw::Error);
  fw::JobControl c;
  c.cancel = true;
  EXPECT_THROW(fw::faithfulness(*net.ex, x, cam, 0, std::nullopt, 0, &c), fw::Cancelled);
}

// input [2,3,3] -> pool_mixer (3x3, stride 1, pad 1, count_include_pad false) -> global pool ->
// output. y = avgpool(x) - x acts on each channel alike: block (i, j) is d_ij * I_C with
// d_ij = [j in window(i)] / |window(i)| - [i == j], so M[i, j] = sqrt(C) |d_ij|.
TEST(ViewsMixing, PoolingMixerJacobianNorms) {
  fw::Graph g;
  const NodeId in = g.add(kNoNode, "input", "input", Attrs{{"channels", iv(2)}, {"height", iv(3)}, {"width", iv(3)}});
  const NodeId mix = g.add(kNoNode, "pool_mixer", "token_mixer", Attrs{{"pool_size", iv(3)}});
  const NodeId gap = g.add(kNoNode, "global_avg_pool", "pool");
  const NodeId out = g.add(kNoNode, "output", "output");
  g.connect({in, 0}, mix);
  g.connect({mix, 0}, gap);
  g.connect({gap, 0}, out);
  const fw::Analysis a = fw::analyze(g);
  fw::require_valid(a);
  const fw::TensorMap w;
  auto ex = fw::cpu_backend().create(g, a);
  ex->bind(w);
  Tensor x({1, 2, 3, 3});
  for (int64_t i = 0; i < x.size(); ++i) x.data[i] = float(i % 5) - 2.0f;
  const Tensor m = fw::mixing_map(fw::cpu_backend(), *ex, g, w, x, "token_mixer");
  ASSERT_EQ(m.shape, (fw::Shape{1, 9, 9}));
  for (int i = 0; i < 9; ++i) {
    const int yi = i / 3, xi = i % 3;
    const int cnt = (std::min(yi + 1, 2) - std::max(yi - 1, 0) + 1) * (std::min(xi + 1, 2) - std::max(xi - 1, 0) + 1);
    for (int j = 0; j < 9; ++j) {
      const bool in_win = std::abs(j / 3 - yi) <= 1 && std::abs(j % 3 - xi) <= 1;
      const double d = (in_win ? 1.0 / cnt : 0.0) - (i == j ? 1.0 : 0.0);
      EXPECT_NEAR(m.data[i * 9 + j], std::sqrt(2.0) * std::abs(d), 1e-6) << i << "," << j;
    }
  }
  const Tensor row = fw::mixing_map(fw::cpu_backend(), *ex, g, w, x, "token_mixer", 4);
  ASSERT_EQ(row.shape, (fw::Shape{1, 9}));
  for (int j = 0; j < 9; ++j) EXPECT_FLOAT_EQ(row.data[j], m.data[4 * 9 + j]);
  EXPECT_THROW(fw::mixing_map(fw::cpu_backend(), *ex, g, w, x, "token_mixer", 9), fw::Error);
  EXPECT_THROW(fw::mixing_map(fw::cpu_backend(), *ex, g, w, x, "pool"), fw::Error);
  const std::vector<fw::MixerInfo> mixers = fw::token_mixers(g, ex->flat());
  ASSERT_EQ(mixers.size(), 1u);
  EXPECT_EQ(mixers[0].path, "token_mixer");
  EXPECT_EQ(mixers[0].tokens, 9);
  EXPECT_EQ(mixers[0].h, 3);
}

}  // namespace
