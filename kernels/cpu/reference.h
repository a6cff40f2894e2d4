// Plain reference implementations of every CPU op, in double precision: naive loops written
// straight from the PyTorch semantics of core/OPS.md, with no tiling, no threads and no saved
// state (backward recomputes what it needs from the inputs). They are the oracle the tests hold
// the fast kernels (ops.h) to, and the function the finite-difference checks differentiate.
//
//   auto y = ref::forward("conv2d", attrs, {}, {x}, {w, b});
//   auto g = ref::backward("conv2d", attrs, {}, {x}, {w, b}, {dy});  // g.din[0], g.dparams[0..1]
//
// Attributes, parameter order, dropout masks (uniform01(seed, index)) and shape-only inputs are
// exactly as for the fast kernels.
#pragma once
#include <string_view>
#include <vector>

#include "core/attrs.h"
#include "core/tensor.h"
#include "kernels/cpu/ops.h"

namespace fw::cpu::ref {

struct DTensor {
  Shape shape;
  std::vector<double> data;

  DTensor() = default;
  explicit DTensor(Shape s, double fill = 0.0) : shape(std::move(s)), data(numel(shape), fill) {}
  int64_t size() const { return static_cast<int64_t>(data.size()); }
  int64_t dim(int i) const { return shape.at(i < 0 ? shape.size() + i : i); }
  double& operator[](int64_t i) { return data[i]; }
  double operator[](int64_t i) const { return data[i]; }
};

DTensor to_double(const Tensor& t);
Tensor to_float(const DTensor& t);

struct Grads {
  std::vector<DTensor> din;      // one per input; empty (no shape, no data) for shape-only inputs
  std::vector<DTensor> dparams;  // one per parameter
};

bool supports(std::string_view op);
// Outputs of the op. `probs`, when given, receives self_attention's softmax probabilities
// (B, heads, N, N); other ops leave it alone.
std::vector<DTensor> forward(std::string_view op, const Attrs& attrs, const RunMode& mode,
                             const std::vector<DTensor>& in, const std::vector<DTensor>& params,
                             DTensor* probs = nullptr);
// Gradients of Σ dout·forward(...) with respect to every input and parameter.
Grads backward(std::string_view op, const Attrs& attrs, const RunMode& mode,
               const std::vector<DTensor>& in, const std::vector<DTensor>& params,
               const std::vector<DTensor>& dout);

}  // namespace fw::cpu::ref
