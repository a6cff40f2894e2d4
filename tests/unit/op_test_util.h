// Helpers for the CPU op tests: one OpCase per (op, attributes, shapes); run the fast kernel
// and the double reference on the same random data; compare by normalised error; check the
// reference's gradients by central finite differences.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "kernels/cpu/ops.h"
#include "kernels/cpu/reference.h"

namespace fwtest {

using fw::Shape;
using fw::Tensor;
using fw::cpu::ref::DTensor;

struct OpCase {
  std::string op;
  fw::Attrs attrs;
  std::vector<Shape> in;      // batched input shapes
  std::vector<Shape> params;  // parameter shapes, OPS.md order
  fw::cpu::RunMode mode{};
  std::vector<int> shape_only;  // inputs read for their shape only (no gradient)

  std::string label() const {
    std::string s = op;
    for (const auto& [k, v] : attrs) s += " " + k + "=" + fw::attr_to_string(v);
    for (const Shape& x : in) s += " in:" + fw::shape_str(x);
    if (mode.training) s += " train";
    return s;
  }
  bool is_shape_only(size_t i) const {
    for (int j : shape_only)
      if (size_t(j) == i) return true;
    return false;
  }
};

// gtest prints a case by its label.
inline void PrintTo(const OpCase& c, std::ostream* os) { *os << c.label(); }

inline Tensor random_tensor(const Shape& s, std::mt19937& rng, float scale = 1.0f) {
  std::normal_distribution<float> n(0.0f, scale);
  Tensor t(s);
  for (float& v : t.data) v = n(rng);
  return t;
}

// max |a - b| / max(max |b|, 1e-6); a is float, b the double reference.
inline double norm_err(const Tensor& a, const DTensor& b) {
  if (a.shape != b.shape || a.size() != b.size()) return INFINITY;
  double diff = 0, mag = 0;
  for (int64_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(double(a.data[i]) - b[i]));
    mag = std::max(mag, std::abs(b[i]));
  }
  return diff / std::max(mag, 1e-6);
}

inline bool all_finite(const Tensor& t) {
  for (float v : t.data)
    if (!std::isfinite(v)) return false;
  return true;
}

struct Data {
  std::vector<Tensor> in, params, dout;
  std::vector<DTensor> din_d, params_d, dout_d;
};

// Random inputs and parameters for a case (seeded); dout is filled by make_dout().
inline Data make_data(const OpCase& c, uint32_t seed) {
  std::mt19937 rng(seed);
  Data d;
  for (const Shape& s : c.in) d.in.push_back(random_tensor(s, rng));
  for (const Shape& s : c.params) d.params.push_back(random_tensor(s, rng, 0.5f));
  for (const Tensor& t : d.in) d.din_d.push_back(fw::cpu::ref::to_double(t));
  for (const Tensor& t : d.params) d.params_d.push_back(fw::cpu::ref::to_double(t));
  return d;
}

struct FastResult {
  std::vector<Tensor> out, saved, din, dparams;
};

// Forward with saved slots, then backward given only what needs() declares.
inline FastResult run_fast(const OpCase& c, const Data& d, const std::vector<Tensor>* dout) {
  const fw::cpu::CpuKernel* k = fw::cpu::find_kernel(c.op);
  FastResult r;
  r.out.resize(1);
  r.saved.resize(k->saved);
  fw::cpu::ForwardArgs fa{c.attrs, c.mode, {}, {}, {&r.out[0]}, {}};
  for (const Tensor& t : d.in) fa.in.push_back(&t);
  for (const Tensor& t : d.params) fa.params.push_back(&t);
  for (Tensor& t : r.saved) fa.saved.push_back(&t);
  k->forward(fa);
  if (!dout) return r;
  const fw::cpu::BackwardNeeds needs = k->needs(c.attrs, true);
  fw::cpu::BackwardArgs ba{c.attrs, c.mode, {}, {}, {}, {}, {}, {}, {}, {}};
  r.din.resize(d.in.size());
  r.dparams.resize(d.params.size());
  for (size_t i = 0; i < d.in.size(); ++i) {
    ba.in_shapes.push_back(d.in[i].shape);
    ba.in.push_back(needs.needs_input(int(i)) ? &d.in[i] : nullptr);
    ba.din.push_back(c.is_shape_only(i) ? nullptr : &r.din[i]);
  }
  for (size_t i = 0; i < d.params.size(); ++i) {
    ba.params.push_back(&d.params[i]);
    ba.dparams.push_back(&r.dparams[i]);
  }
  ba.out.push_back(needs.output ? &r.out[0] : nullptr);
  for (Tensor& t : r.saved) ba.saved.push_back(&t);
  for (const Tensor& t : *dout) ba.dout.push_back(&t);
  k->backward(ba);
  return r;
}

// Σ dout·forward(inputs, params), in double.
inline double ref_loss(const OpCase& c, const std::vector<DTensor>& in,
                       const std::vector<DTensor>& params, const std::vector<DTensor>& dout) {
  const auto out = fw::cpu::ref::forward(c.op, c.attrs, c.mode, in, params);
  double l = 0;
  for (size_t o = 0; o < out.size(); ++o)
    for (int64_t i = 0; i < out[o].size(); ++i) l += out[o][i] * dout[o][i];
  return l;
}

// Central differences of the reference at up to `samples` random elements of `t` (an input or
// parameter), compared with the reference gradient `grad`. Returns the worst
// |fd - grad| / max(1, max |grad|).
inline double fd_check(const OpCase& c, std::vector<DTensor> in, std::vector<DTensor> params,
                       const std::vector<DTensor>& dout, bool is_param, size_t index,
                       const DTensor& grad, int samples, std::mt19937& rng) {
  DTensor& t = is_param ? params[index] : in[index];
  double scale = 1.0;
  for (double g : grad.data) scale = std::max(scale, std::abs(g));
  std::uniform_int_distribution<int64_t> pick(0, t.size() - 1);
  double worst = 0;
  const double h = 1e-5;
  for (int s = 0; s < samples && t.size() > 0; ++s) {
    const int64_t i = pick(rng);
    const double v = t[i];
    t[i] = v + h;
    const double lp = ref_loss(c, in, params, dout);
    t[i] = v - h;
    const double lm = ref_loss(c, in, params, dout);
    t[i] = v;
    worst = std::max(worst, std::abs((lp - lm) / (2 * h) - grad[i]) / scale);
  }
  return worst;
}

}  // namespace fwtest
