// Dense float32 tensors and shapes.
//
// - Shape: sizes, outermost first (C order). Graph shapes in core/ are per sample (no batch
//   dimension): feature maps are [C, H, W], token sequences [N, C], vectors [C]. Backends add the
//   batch dimension in front.
// - Tensor: a shape and contiguous float32 storage in C order. Plain value type; moves are cheap.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace fw {

using Shape = std::vector<int64_t>;

// Number of elements (1 for a scalar shape {}).
int64_t numel(const Shape& s);
// Counts that saturate instead of wrapping (parameters, MACs): non-negative factors or terms; the
// result is kCountOverflow (INT64_MAX) when the exact one is not below it.
constexpr int64_t kCountOverflow = INT64_MAX;
int64_t mul_sat(std::initializer_list<int64_t> factors);
int64_t add_sat(int64_t a, int64_t b);
int64_t numel_sat(const Shape& s);
// "64x56x56"; "scalar" for {}.
std::string shape_str(const Shape& s);

struct Tensor {
  Shape shape;
  std::vector<float> data;  // numel(shape) values, C order

  Tensor() = default;
  explicit Tensor(Shape s, float fill = 0.0f) : shape(std::move(s)), data(numel(shape), fill) {}
  Tensor(Shape s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {}

  int64_t size() const { return static_cast<int64_t>(data.size()); }
  int64_t dim(int i) const { return shape[i < 0 ? shape.size() + i : i]; }
  int rank() const { return static_cast<int>(shape.size()); }
  float* ptr() { return data.data(); }
  const float* ptr() const { return data.data(); }
};

// Named tensors, e.g. a model's parameters by full name ("stages.0.blocks.0.mlp.fc1.weight").
using TensorMap = std::map<std::string, Tensor>;

}  // namespace fw
