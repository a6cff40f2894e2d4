// Checking a set of named tensors against an architecture's parameters.
//
// - match_weights(): which parameters are missing from the tensors, which tensors the
//   architecture does not have, and which have the wrong shape.
// - require_weights_match(): throws one fw::Error line when they differ:
//   "w.safetensors does not match caformer_s18: 2 missing (head.fc.fc2.weight, ...), 1 unexpected
//   (x), 0 mis-shaped". It also refuses a tensor holding NaN or Inf (require_finite_weights).
// - non_finite_weight(): "tensor 'stem.conv.weight' holds NaN at element 12 of 9408", or "" when
//   every value is finite; require_finite_weights() throws it, prefixed with the weights' name.
#pragma once
#include <string>
#include <vector>

#include "core/analysis.h"

namespace fw {

struct WeightsMatch {
  std::vector<std::string> missing;     // parameter names
  std::vector<std::string> unexpected;  // "name (shape)"
  std::vector<std::string> misshaped;   // "name (file 3x3, model 4x3)"
  bool exact() const { return missing.empty() && unexpected.empty() && misshaped.empty(); }
  std::string summary() const;  // "2 missing (a, b), 1 unexpected (c), 0 mis-shaped"
};

WeightsMatch match_weights(const Analysis& a, const TensorMap& w);
void require_weights_match(const Analysis& a, const TensorMap& w, const std::string& weights_name,
                           const std::string& arch_name);

std::string non_finite_weight(const TensorMap& w);
void require_finite_weights(const TensorMap& w, const std::string& weights_name);

}  // namespace fw
