// Multi-objective and rank statistics shared by the strategies, `results --pareto`, the proxy
// study and the search view.
//
// Conventions
//  - Points are rows of objective values already oriented for minimisation (a maximised metric is
//    negated by the caller). A point with a NaN anywhere is dominated by every finite point and
//    dominates none; it is never on the first front unless every point has one.
//  - a dominates b: a[k] <= b[k] for every k and a[k] < b[k] for at least one k (Deb et al. 2002).
//    Equal points do not dominate each other (both stay on the same front).
#pragma once
#include <cstdint>
#include <vector>

namespace fw {

using ObjectivePoint = std::vector<double>;

bool dominates(const ObjectivePoint& a, const ObjectivePoint& b);

// Fast non-dominated sort (Deb et al. 2002): fronts[0] is the Pareto front; each front lists
// point indices in increasing order. Every index appears in exactly one front.
std::vector<std::vector<int>> non_dominated_sort(const std::vector<ObjectivePoint>& pts);
// rank[i] = index of the front holding point i.
std::vector<int> pareto_ranks(const std::vector<ObjectivePoint>& pts);
// true for the points of the first front.
std::vector<bool> pareto_mask(const std::vector<ObjectivePoint>& pts);

// Crowding distance of the points `front` (indices into pts), in the same order as `front`
// (Deb et al. 2002): per objective, sort the front by it; both extremes get +infinity; an inner
// point adds (next - previous) / (max - min) of that objective (nothing when max == min, or when
// the range is not finite: an infinite value, or a NaN, which sorts last). Ties in the sort are
// broken by index, so the result is deterministic.
std::vector<double> crowding_distance(const std::vector<ObjectivePoint>& pts,
                                      const std::vector<int>& front);

// Rank correlations of two equally long samples (pairs with a NaN are dropped first; fewer than 2
// pairs left, or a constant sample: NaN).
//  - Kendall's tau-b: (concordant - discordant) / sqrt((n0 - n1)(n0 - n2)), with ties as
//    scipy.stats.kendalltau counts them.
//  - Spearman's rho: Pearson correlation of the average ranks (ties get the mean rank), as
//    scipy.stats.spearmanr.
double kendall_tau(const std::vector<double>& x, const std::vector<double>& y);
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace fw
