#include "nas/study.h"

#include <cmath>

#include "nas/pareto.h"

namespace fw {

const std::vector<std::string>& study_metrics() {
  static const std::vector<std::string> m = {"synflow_log", "grad_norm", "snip", "naswot",
                                             "jacob_cov",   "params",    "macs"};
  return m;
}

std::string study_objectives() {
  std::string s = "accuracy:max";
  for (const std::string& m : study_metrics()) s += "," + m + ":max";
  return s;
}

std::vector<ProxyCorrelation> proxy_study(const std::vector<SearchRecord>& records) {
  std::vector<ProxyCorrelation> out;
  for (const std::string& m : study_metrics()) {
    std::vector<double> x, y;
    for (const SearchRecord& r : records) {
      if (r.status != "ok") continue;
      const auto a = r.metrics.find("accuracy");
      const auto v = r.metrics.find(m);
      if (a == r.metrics.end() || v == r.metrics.end()) continue;
      if (!std::isfinite(a->second) || !std::isfinite(v->second)) continue;
      x.push_back(v->second);
      y.push_back(a->second);
    }
    ProxyCorrelation c;
    c.metric = m;
    c.n = int64_t(x.size());
    c.kendall = kendall_tau(x, y);
    c.spearman = spearman_rho(x, y);
    out.push_back(c);
  }
  return out;
}

}  // namespace fw
