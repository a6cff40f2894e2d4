// The proxy study: do the zero-cost scores predict accuracy on this space? (issue #12 part 7)
//
// A study is a random search whose objectives are accuracy (after --train-steps) and every proxy,
// params and MACs, so that each sampled subnet carries all of them. proxy_study ranks each metric
// against accuracy over the search's ok records: Kendall's tau-b and Spearman's rho as scipy
// computes them (nas/pareto.h), pairs with a non-finite value dropped.
#pragma once
#include <string>
#include <vector>

#include "nas/search.h"

namespace fw {

// The metrics a study correlates with accuracy, in table order.
const std::vector<std::string>& study_metrics();
// The objectives of a study's search ("accuracy:max,synflow_log:max,...").
std::string study_objectives();

struct ProxyCorrelation {
  std::string metric;
  int64_t n = 0;                     // pairs used
  double kendall = 0, spearman = 0;  // NaN when undefined
};

std::vector<ProxyCorrelation> proxy_study(const std::vector<SearchRecord>& records);

}  // namespace fw
