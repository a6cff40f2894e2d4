#include "core/weights.h"

#include <cmath>
#include <set>

#include "core/error.h"

namespace fw {

WeightsMatch match_weights(const Analysis& a, const TensorMap& w) {
  WeightsMatch m;
  std::set<std::string> expected;
  for (const ParamInfo& p : a.params) {
    expected.insert(p.name);
    auto it = w.find(p.name);
    if (it == w.end())
      m.missing.push_back(p.name);
    else if (it->second.shape != p.shape)
      m.misshaped.push_back(p.name + " (file " + shape_str(it->second.shape) + ", model " +
                            shape_str(p.shape) + ")");
  }
  for (const auto& [name, t] : w)
    if (!expected.count(name)) m.unexpected.push_back(name + " (" + shape_str(t.shape) + ")");
  return m;
}

std::string WeightsMatch::summary() const {
  auto part = [](size_t n, const char* what, const std::vector<std::string>& names) {
    std::string s = std::to_string(n) + " " + what;
    if (names.empty()) return s;
    s += " (";
    for (size_t i = 0; i < names.size() && i < 3; ++i) s += (i ? ", " : "") + names[i];
    if (names.size() > 3) s += ", ...";
    return s + ")";
  };
  return part(missing.size(), "missing", missing) + ", " +
         part(unexpected.size(), "unexpected", unexpected) + ", " +
         part(misshaped.size(), "mis-shaped", misshaped);
}

void require_weights_match(const Analysis& a, const TensorMap& w, const std::string& weights_name,
                           const std::string& arch_name) {
  const WeightsMatch m = match_weights(a, w);
  if (!m.exact()) throw Error(weights_name + " does not match " + arch_name + ": " + m.summary());
  require_finite_weights(w, weights_name);
}

std::string non_finite_weight(const TensorMap& w) {
  for (const auto& [name, t] : w) {
    const float* d = t.data.data();
    const size_t n = t.data.size();
    for (size_t i = 0; i < n; ++i)
      if (!std::isfinite(d[i]))
        return "tensor '" + name + "' holds " +
               (std::isnan(d[i]) ? std::string("NaN") : std::string(d[i] > 0 ? "+Inf" : "-Inf")) +
               " at element " + std::to_string(i) + " of " + std::to_string(n);
  }
  return "";
}

void require_finite_weights(const TensorMap& w, const std::string& weights_name) {
  const std::string bad = non_finite_weight(w);
  if (!bad.empty()) throw Error(weights_name + ": " + bad + "; weights must be finite");
}

}  // namespace fw
