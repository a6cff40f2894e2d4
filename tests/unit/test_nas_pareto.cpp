// Dominance, non-dominated sorting, crowding distance and the rank correlations (nas/pareto.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "nas/pareto.h"

namespace fw {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The header's definition, written out again independently of the library.
bool ref_dominates(const ObjectivePoint& a, const ObjectivePoint& b) {
  auto nan_in = [](const ObjectivePoint& p) {
    for (double v : p)
      if (v != v) return true;
    return false;
  };
  if (nan_in(a)) return false;
  if (nan_in(b)) return true;
  int less = 0, less_or_equal = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k] < b[k]) ++less;
    if (a[k] <= b[k]) ++less_or_equal;
  }
  return less_or_equal == int(a.size()) && less > 0;
}

// Fronts by definition: the first front is the points no remaining point dominates; remove it
// and repeat.
std::vector<std::vector<int>> brute_fronts(const std::vector<ObjectivePoint>& pts) {
  std::vector<int> left(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) left[i] = int(i);
  std::vector<std::vector<int>> fronts;
  while (!left.empty()) {
    std::vector<int> front, rest;
    for (int i : left) {
      bool dominated = false;
      for (int j : left)
        if (ref_dominates(pts[size_t(j)], pts[size_t(i)])) dominated = true;
      (dominated ? rest : front).push_back(i);
    }
    fronts.push_back(front);
    left = rest;
  }
  return fronts;
}

std::vector<ObjectivePoint> random_points(std::mt19937_64& rng, int n, int objectives, int levels,
                                          bool with_nan) {
  std::vector<ObjectivePoint> pts(size_t(n), ObjectivePoint(size_t(objectives), 0.0));
  for (ObjectivePoint& p : pts)
    for (double& v : p) v = double(rng() % uint64_t(levels));
  if (with_nan)
    for (ObjectivePoint& p : pts)
      if (rng() % 7 == 0) p[rng() % uint64_t(objectives)] = kNaN;
  return pts;
}

TEST(NasPareto, DominanceDefinition) {
  EXPECT_TRUE(dominates({1, 2}, {2, 2}));
  EXPECT_TRUE(dominates({1, 1}, {2, 2}));
  EXPECT_FALSE(dominates({2, 2}, {1, 2}));
  EXPECT_FALSE(dominates({1, 3}, {2, 2}));  // incomparable
  EXPECT_FALSE(dominates({2, 2}, {1, 3}));
  // Equal points do not dominate each other.
  EXPECT_FALSE(dominates({1, 2}, {1, 2}));
  EXPECT_FALSE(dominates({0.5, 7, -1}, {0.5, 7, -1}));
  EXPECT_TRUE(dominates({0.5, 7, -2}, {0.5, 7, -1}));
}

TEST(NasPareto, DominanceNaNRule) {
  // A point with a NaN is dominated by every finite point, even a worse one, and dominates none.
  EXPECT_TRUE(dominates({100, 100}, {kNaN, 0}));
  EXPECT_TRUE(dominates({100, 100}, {0, kNaN}));
  EXPECT_FALSE(dominates({kNaN, 0}, {100, 100}));
  EXPECT_FALSE(dominates({0, kNaN}, {1, 1}));
  EXPECT_FALSE(dominates({kNaN, 0}, {kNaN, 1}));
  EXPECT_FALSE(dominates({kNaN, kNaN}, {kNaN, kNaN}));
}

TEST(NasPareto, SortSmallExample) {
  const std::vector<ObjectivePoint> pts = {{1, 5}, {2, 2}, {5, 1}, {3, 3}, {2, 2}, {6, 6}, {4, 4}};
  const std::vector<std::vector<int>> expect = {{0, 1, 2, 4}, {3}, {6}, {5}};
  EXPECT_EQ(non_dominated_sort(pts), expect);
  EXPECT_EQ(pareto_ranks(pts), (std::vector<int>{0, 0, 0, 1, 0, 3, 2}));
  EXPECT_EQ(pareto_mask(pts), (std::vector<bool>{true, true, true, false, true, false, false}));
  EXPECT_TRUE(non_dominated_sort({}).empty());
  EXPECT_TRUE(pareto_mask({}).empty());
}

TEST(NasPareto, NaNPointsFormTheLastFrontUnlessAllHaveOne) {
  const std::vector<ObjectivePoint> pts = {{kNaN, 0}, {9, 9}, {0, kNaN}, {1, 1}};
  const std::vector<std::vector<int>> expect = {{3}, {1}, {0, 2}};
  EXPECT_EQ(non_dominated_sort(pts), expect);
  const std::vector<ObjectivePoint> all_nan = {{kNaN, 0}, {kNaN, 5}, {1, kNaN}};
  EXPECT_EQ(non_dominated_sort(all_nan), (std::vector<std::vector<int>>{{0, 1, 2}}));
  EXPECT_EQ(pareto_mask(all_nan), (std::vector<bool>{true, true, true}));
}

TEST(NasPareto, SortMatchesBruteForceOnRandomPoints) {
  std::mt19937_64 rng(7);
  int checked = 0, multi_front = 0;
  for (int objectives : {2, 3}) {
    for (int trial = 0; trial < 150; ++trial) {
      const int n = 1 + int(rng() % 45);
      const int levels = 2 + int(rng() % 6);  // few levels: many ties and duplicates
      const std::vector<ObjectivePoint> pts =
          random_points(rng, n, objectives, levels, trial % 3 == 0);
      const std::vector<std::vector<int>> fronts = non_dominated_sort(pts);
      ASSERT_EQ(fronts, brute_fronts(pts)) << objectives << " objectives, trial " << trial;
      const std::vector<int> rank = pareto_ranks(pts);
      const std::vector<bool> mask = pareto_mask(pts);
      for (size_t f = 0; f < fronts.size(); ++f)
        for (int i : fronts[f]) {
          EXPECT_EQ(rank[size_t(i)], int(f));
          EXPECT_EQ(mask[size_t(i)], f == 0);
        }
      ++checked;
      if (fronts.size() > 2) ++multi_front;
    }
  }
  EXPECT_EQ(checked, 300);
  EXPECT_GT(multi_front, 100);  // the sets are not trivially one front
}

TEST(NasPareto, CrowdingDistanceHandWorked) {
  // Front of five points on two objectives, listed out of order.
  const std::vector<ObjectivePoint> pts = {{0, 10}, {1, 6}, {3, 4}, {6, 1}, {10, 0}};
  const std::vector<int> front = {3, 0, 4, 1, 2};
  // Objective 0, sorted 0 (p0), 1 (p1), 3 (p2), 6 (p3), 10 (p4); range 10:
  //   p1: (3 - 0) / 10 = 0.3, p2: (6 - 1) / 10 = 0.5, p3: (10 - 3) / 10 = 0.7.
  // Objective 1, sorted 0 (p4), 1 (p3), 4 (p2), 6 (p1), 10 (p0); range 10:
  //   p3: (4 - 0) / 10 = 0.4, p2: (6 - 1) / 10 = 0.5, p1: (10 - 4) / 10 = 0.6.
  // Totals: p1 0.9, p2 1.0, p3 1.1; p0 and p4 are extremes: infinity.
  const std::vector<double> d = crowding_distance(pts, front);
  ASSERT_EQ(d.size(), 5u);
  EXPECT_NEAR(d[0], 1.1, 1e-12);  // p3
  EXPECT_EQ(d[1], kInf);          // p0
  EXPECT_EQ(d[2], kInf);          // p4
  EXPECT_NEAR(d[3], 0.9, 1e-12);  // p1
  EXPECT_NEAR(d[4], 1.0, 1e-12);  // p2
}

TEST(NasPareto, CrowdingDistanceThreeObjectivesAndTies) {
  // Objective 0: 0, 1, 1, 5 (p0..p3); the tie by index: order p0, p1, p2, p3; range 5.
  //   p1: (1 - 0) / 5 = 0.2, p2: (5 - 1) / 5 = 0.8.
  // Objective 1: 8, 4, 6, 0: order p3, p1, p2, p0; range 8.
  //   p1: (6 - 0) / 8 = 0.75, p2: (8 - 4) / 8 = 0.5.
  // Objective 2: constant 3: max == min adds nothing; its extremes by index are p0 and p3.
  // Totals: p1 0.95, p2 1.3; p0 and p3 infinity.
  const std::vector<ObjectivePoint> pts = {{0, 8, 3}, {1, 4, 3}, {1, 6, 3}, {5, 0, 3}};
  const std::vector<double> d = crowding_distance(pts, {0, 1, 2, 3});
  EXPECT_EQ(d[0], kInf);
  EXPECT_NEAR(d[1], 0.95, 1e-12);
  EXPECT_NEAR(d[2], 1.3, 1e-12);
  EXPECT_EQ(d[3], kInf);
  // The same front listed in another order gives the same distances, per point.
  const std::vector<double> r = crowding_distance(pts, {2, 3, 0, 1});
  EXPECT_NEAR(r[0], 1.3, 1e-12);
  EXPECT_EQ(r[1], kInf);
  EXPECT_EQ(r[2], kInf);
  EXPECT_NEAR(r[3], 0.95, 1e-12);
}

TEST(NasPareto, CrowdingDistanceNonFiniteRangeAddsNothing) {
  // Objective 0, range 4: p1 (2 - 0) / 4, p2 (3 - 1) / 4, p3 (4 - 2) / 4: 0.5 each.
  // Objective 1 sorts p4 (0), p0 (1), p3 (2), p2 (3), p1 (inf): the extremes p4 and p1 get
  // infinity, and its range is infinite, so the inner points add nothing (not 0 / inf, inf / inf).
  const std::vector<ObjectivePoint> pts = {{0, 1}, {1, kInf}, {2, 3}, {3, 2}, {4, 0}};
  EXPECT_EQ(crowding_distance(pts, {0, 1, 2, 3, 4}),
            (std::vector<double>{kInf, kInf, 0.5, 0.5, kInf}));
  // A NaN sorts last and makes the range NaN: the same.
  const std::vector<ObjectivePoint> with_nan = {{0, 1}, {1, kNaN}, {2, 3}, {3, 2}, {4, 0}};
  EXPECT_EQ(crowding_distance(with_nan, {0, 1, 2, 3, 4}),
            (std::vector<double>{kInf, kInf, 0.5, 0.5, kInf}));
}

TEST(NasPareto, CrowdingDistanceSmallFrontsAreAllExtremes) {
  const std::vector<ObjectivePoint> pts = {{1, 2}, {2, 1}, {5, 5}};
  EXPECT_EQ(crowding_distance(pts, {2}), (std::vector<double>{kInf}));
  EXPECT_EQ(crowding_distance(pts, {0, 1}), (std::vector<double>{kInf, kInf}));
  EXPECT_TRUE(crowding_distance(pts, {}).empty());
  // A subset of the points: only the listed ones count.
  const std::vector<ObjectivePoint> line = {{0, 4}, {1, 3}, {2, 2}, {3, 1}, {4, 0}};
  // Front {0, 2, 4}: p2 gets (4 - 0) / 4 + (4 - 0) / 4 = 2.
  const std::vector<double> d = crowding_distance(line, {0, 2, 4});
  EXPECT_EQ(d[0], kInf);
  EXPECT_NEAR(d[1], 2.0, 1e-12);
  EXPECT_EQ(d[2], kInf);
}

// Kendall's tau-b by definition, over all pairs.
double brute_kendall(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  double s = 0, n1 = 0, n2 = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      s += double((dx > 0) - (dx < 0)) * double((dy > 0) - (dy < 0));
      n1 += dx == 0;
      n2 += dy == 0;
    }
  const double n0 = double(n) * double(n - 1) / 2;
  return s / std::sqrt((n0 - n1) * (n0 - n2));
}

// Spearman's rho by definition: rank_i = 1 + #{x_j < x_i} + (#{x_j == x_i} - 1) / 2, then
// Pearson's correlation of the ranks with their sample means.
double brute_spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  auto ranks = [n](const std::vector<double>& v) {
    std::vector<double> r(n);
    for (size_t i = 0; i < n; ++i) {
      double less = 0, equal = 0;
      for (size_t j = 0; j < n; ++j) {
        less += v[j] < v[i];
        equal += v[j] == v[i];
      }
      r[i] = 1 + less + (equal - 1) / 2;
    }
    return r;
  };
  const std::vector<double> rx = ranks(x), ry = ranks(y);
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += rx[i] / double(n);
    my += ry[i] / double(n);
  }
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

TEST(NasPareto, KendallTauScipyExample) {
  // scipy.stats.kendalltau documentation example: x1 = [12, 2, 1, 12, 2], x2 = [1, 4, 7, 1, 0]
  // gives tau = -0.47140452079103173. By hand: 10 pairs, 2 tied in x, 1 tied in y (also in x),
  // concordant - discordant = -4, so tau = -4 / sqrt(8 * 9) = -sqrt(2) / 3.
  const std::vector<double> x = {12, 2, 1, 12, 2}, y = {1, 4, 7, 1, 0};
  EXPECT_NEAR(kendall_tau(x, y), -0.47140452079103173, 1e-15);
  EXPECT_NEAR(kendall_tau(x, y), -std::sqrt(2.0) / 3, 1e-15);
  EXPECT_NEAR(kendall_tau(y, x), -0.47140452079103173, 1e-15);
}

TEST(NasPareto, SpearmanRhoScipyExample) {
  // scipy.stats.spearmanr documentation example: spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
  // gives 0.8207826816681233. By hand: ranks of y are 1, 2, 3.5, 5, 3.5; centred ranks
  // (-2, -1, 0, 1, 2) and (-2, -1, 0.5, 2, 0.5): 8 / sqrt(10 * 9.5) = 8 / sqrt(95).
  const std::vector<double> x = {1, 2, 3, 4, 5}, y = {5, 6, 7, 8, 7};
  EXPECT_NEAR(spearman_rho(x, y), 0.8207826816681233, 1e-15);
  EXPECT_NEAR(spearman_rho(x, y), 8 / std::sqrt(95.0), 1e-15);
}

TEST(NasPareto, RankCorrelationsPerfectOrders) {
  const std::vector<double> x = {0.1, 0.5, 0.7, 2, 9}, up = {1, 2, 3, 4, 50},
                            down = {5, 4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(kendall_tau(x, up), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau(x, down), -1.0);
  EXPECT_DOUBLE_EQ(spearman_rho(x, up), 1.0);
  EXPECT_DOUBLE_EQ(spearman_rho(x, down), -1.0);
  // One swapped pair of ten: tau = (9 - 1) / 10.
  EXPECT_NEAR(kendall_tau({1, 2, 3, 4, 5}, {1, 2, 3, 5, 4}), 0.8, 1e-15);
}

TEST(NasPareto, RankCorrelationsMatchBruteForce) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 2 + size_t(rng() % 60);
    const uint64_t levels = 2 + rng() % 8;  // many ties
    std::vector<double> x(n), y(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = double(rng() % levels) * 0.5 - 1;
      y[i] = trial % 2 ? double(rng() % levels) : x[i] * 2 + double(rng() % 3);  // correlated
    }
    const double bk = brute_kendall(x, y), bs = brute_spearman(x, y);
    if (std::isnan(bk)) {
      EXPECT_TRUE(std::isnan(kendall_tau(x, y)));
    } else {
      EXPECT_NEAR(kendall_tau(x, y), bk, 1e-12) << "trial " << trial;
    }
    if (std::isnan(bs)) {
      EXPECT_TRUE(std::isnan(spearman_rho(x, y)));
    } else {
      EXPECT_NEAR(spearman_rho(x, y), bs, 1e-12) << "trial " << trial;
    }
  }
}

TEST(NasPareto, KendallTauLargeSampleMatchesBruteForce) {
  // Long enough for many merge passes, with ties in both samples.
  std::mt19937_64 rng(5);
  const size_t n = 3001;
  std::vector<double> x(n), y(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = double(rng() % 400);
    y[i] = x[i] + double(rng() % 300);
  }
  EXPECT_NEAR(kendall_tau(x, y), brute_kendall(x, y), 1e-12);
  EXPECT_NEAR(spearman_rho(x, y), brute_spearman(x, y), 1e-12);
}

TEST(NasPareto, RankCorrelationsDropNaNPairs) {
  const std::vector<double> x = {12, kNaN, 2, 1, 12, 4, 2}, y = {1, 3, 4, 7, 1, kNaN, 0};
  // Dropping the pairs with a NaN leaves the scipy examples' samples.
  EXPECT_NEAR(kendall_tau(x, y), -0.47140452079103173, 1e-15);
  const std::vector<double> a = {1, 2, kNaN, 3, 4, 5}, b = {5, 6, 1, 7, 8, 7};
  EXPECT_NEAR(spearman_rho(a, b), 0.8207826816681233, 1e-15);
  const std::vector<double> c = {kNaN, 1, 2, 3, 4, 5}, d = {0, 5, 6, 7, 8, kNaN};
  EXPECT_NEAR(spearman_rho(c, d), 1.0, 1e-15);  // pairs (1,5) (2,6) (3,7) (4,8)
}

TEST(NasPareto, RankCorrelationsUndefinedCases) {
  // A constant sample.
  EXPECT_TRUE(std::isnan(kendall_tau({1, 2, 3}, {4, 4, 4})));
  EXPECT_TRUE(std::isnan(kendall_tau({7, 7, 7}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(spearman_rho({1, 2, 3}, {4, 4, 4})));
  EXPECT_TRUE(std::isnan(spearman_rho({7, 7, 7}, {1, 2, 3})));
  // Fewer than two pairs (after dropping NaN pairs).
  EXPECT_TRUE(std::isnan(kendall_tau({}, {})));
  EXPECT_TRUE(std::isnan(kendall_tau({1}, {2})));
  EXPECT_TRUE(std::isnan(spearman_rho({1}, {2})));
  EXPECT_TRUE(std::isnan(kendall_tau({1, kNaN, 3}, {kNaN, 2, 5})));
  EXPECT_TRUE(std::isnan(spearman_rho({1, kNaN, 3}, {kNaN, 2, 5})));
  // Constant once the NaN pair is dropped.
  EXPECT_TRUE(std::isnan(spearman_rho({1, 2, 3}, {4, kNaN, 4})));
}

}  // namespace
}  // namespace fw
