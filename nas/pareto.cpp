#include "nas/pareto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace fw {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool has_nan(const ObjectivePoint& p) {
  return std::any_of(p.begin(), p.end(), [](double v) { return std::isnan(v); });
}

// The pairs of (x, y) with no NaN.
void drop_nan_pairs(const std::vector<double>& x, const std::vector<double>& y,
                    std::vector<double>& xs, std::vector<double>& ys) {
  FW_ASSERT(x.size() == y.size(), "rank correlations need two samples of the same length");
  xs.clear();
  ys.clear();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) continue;
    xs.push_back(x[i]);
    ys.push_back(y[i]);
  }
}

// Sum over groups of equal values of t(t-1)/2: the pairs tied in `v` (v sorted ascending).
int64_t tied_pairs_sorted(const std::vector<double>& v) {
  int64_t ties = 0;
  for (size_t i = 0; i < v.size();) {
    size_t j = i + 1;
    while (j < v.size() && v[j] == v[i]) ++j;
    const int64_t t = int64_t(j - i);
    ties += t * (t - 1) / 2;
    i = j;
  }
  return ties;
}

// Pairs i < j with v[i] > v[j], by merge sort (sorts v).
int64_t count_inversions(std::vector<double>& v) {
  const size_t n = v.size();
  std::vector<double> tmp(n);
  int64_t inv = 0;
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      const size_t mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      size_t a = lo, b = mid, o = lo;
      while (a < mid && b < hi) {
        if (v[b] < v[a]) {
          inv += int64_t(mid - a);  // v[b] is smaller than every remaining left element
          tmp[o++] = v[b++];
        } else {
          tmp[o++] = v[a++];
        }
      }
      while (a < mid) tmp[o++] = v[a++];
      while (b < hi) tmp[o++] = v[b++];
    }
    std::swap(v, tmp);
  }
  return inv;
}

// Average ranks (1-based; ties get the mean of the ranks they span).
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return v[a] < v[b] || (v[a] == v[b] && a < b); });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
    const double mean_rank = 0.5 * double(i + 1 + j);  // mean of i+1 .. j
    for (size_t k = i; k < j; ++k) r[order[k]] = mean_rank;
    i = j;
  }
  return r;
}

}  // namespace

bool dominates(const ObjectivePoint& a, const ObjectivePoint& b) {
  FW_ASSERT(a.size() == b.size(), "points compared for dominance have as many objectives");
  if (has_nan(a)) return false;
  if (has_nan(b)) return true;
  bool strictly = false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) strictly = true;
  }
  return strictly;
}

std::vector<std::vector<int>> non_dominated_sort(const std::vector<ObjectivePoint>& pts) {
  const int n = int(pts.size());
  std::vector<std::vector<int>> dominated(n);  // dominated[p]: the points p dominates
  std::vector<int> count(n, 0);                // how many points dominate p
  for (int p = 0; p < n; ++p) {
    for (int q = p + 1; q < n; ++q) {
      if (dominates(pts[p], pts[q])) {
        dominated[p].push_back(q);
        ++count[q];
      } else if (dominates(pts[q], pts[p])) {
        dominated[q].push_back(p);
        ++count[p];
      }
    }
  }
  std::vector<std::vector<int>> fronts;
  std::vector<int> current;
  for (int p = 0; p < n; ++p)
    if (count[p] == 0) current.push_back(p);
  while (!current.empty()) {
    std::vector<int> next;
    for (int p : current)
      for (int q : dominated[p])
        if (--count[q] == 0) next.push_back(q);
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(current));
    current = std::move(next);
  }
  return fronts;
}

std::vector<int> pareto_ranks(const std::vector<ObjectivePoint>& pts) {
  std::vector<int> rank(pts.size(), 0);
  const std::vector<std::vector<int>> fronts = non_dominated_sort(pts);
  for (size_t f = 0; f < fronts.size(); ++f)
    for (int i : fronts[f]) rank[size_t(i)] = int(f);
  return rank;
}

std::vector<bool> pareto_mask(const std::vector<ObjectivePoint>& pts) {
  std::vector<bool> mask(pts.size(), false);
  const std::vector<std::vector<int>> fronts = non_dominated_sort(pts);
  if (!fronts.empty())
    for (int i : fronts[0]) mask[size_t(i)] = true;
  return mask;
}

std::vector<double> crowding_distance(const std::vector<ObjectivePoint>& pts,
                                      const std::vector<int>& front) {
  const size_t m = front.size();
  std::vector<double> dist(m, 0.0);
  if (m == 0) return dist;
  const size_t objectives = pts[size_t(front[0])].size();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<size_t> order(m);
  for (size_t k = 0; k < objectives; ++k) {
    auto value = [&](size_t pos) { return pts[size_t(front[pos])][k]; };
    std::iota(order.begin(), order.end(), size_t(0));
    // By value (NaN last), ties by point index.
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const double va = value(a), vb = value(b);
      const bool na = std::isnan(va), nb = std::isnan(vb);
      if (na != nb) return nb;
      if (!na && va != vb) return va < vb;
      return front[a] < front[b];
    });
    dist[order.front()] = kInf;
    dist[order.back()] = kInf;
    const double range = value(order.back()) - value(order.front());
    if (!(std::isfinite(range) && range > 0)) continue;
    for (size_t i = 1; i + 1 < m; ++i)
      dist[order[i]] += (value(order[i + 1]) - value(order[i - 1])) / range;
  }
  return dist;
}

double kendall_tau(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> xs, ys;
  drop_nan_pairs(x, y, xs, ys);
  const size_t n = xs.size();
  if (n < 2) return kNaN;
  // Sort the pairs by (x, y); then the discordant pairs are the strict inversions of y.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (xs[a] != xs[b]) return xs[a] < xs[b];
    if (ys[a] != ys[b]) return ys[a] < ys[b];
    return a < b;
  });
  std::vector<double> sx(n), sy(n);
  for (size_t i = 0; i < n; ++i) {
    sx[i] = xs[order[i]];
    sy[i] = ys[order[i]];
  }
  int64_t joint = 0;  // pairs tied in both x and y
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && sx[j] == sx[i] && sy[j] == sy[i]) ++j;
    const int64_t t = int64_t(j - i);
    joint += t * (t - 1) / 2;
    i = j;
  }
  const int64_t xtie = tied_pairs_sorted(sx);
  const int64_t dis = count_inversions(sy);  // leaves sy sorted
  const int64_t ytie = tied_pairs_sorted(sy);
  const int64_t tot = int64_t(n) * int64_t(n - 1) / 2;
  if (xtie == tot || ytie == tot) return kNaN;
  // concordant - discordant = (tot - xtie - ytie + joint) - 2 * discordant, as scipy.
  const double con_minus_dis = double(tot - xtie - ytie + joint - 2 * dis);
  const double tau = con_minus_dis / std::sqrt(double(tot - xtie)) / std::sqrt(double(tot - ytie));
  return std::clamp(tau, -1.0, 1.0);
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<double> xs, ys;
  drop_nan_pairs(x, y, xs, ys);
  const size_t n = xs.size();
  if (n < 2) return kNaN;
  const std::vector<double> rx = average_ranks(xs), ry = average_ranks(ys);
  const double mean = 0.5 * double(n + 1);  // the mean of average ranks is always (n+1)/2
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double dx = rx[i] - mean, dy = ry[i] - mean;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return kNaN;
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

}  // namespace fw
