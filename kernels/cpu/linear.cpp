// linear: x (B, ..., Cin), weight (Cout, Cin), bias (Cout) -> y (B, ..., Cout).
//
// The leading dimensions are flattened into M rows. Forward and dX are GEMMs over row bands
// (over column bands when there are too few rows for the threads);
// dW = dYᵀ·X is split over bands of output features (no reduction needed); db is a column sum
// with per-chunk partials.
#include "kernels/cpu/common.h"
#include "kernels/cpu/gemm.h"

namespace fw::cpu {
namespace {

constexpr std::string_view kOp = "linear";
constexpr int64_t kRowGrain = 64;  // rows per GEMM at least (Eigen is efficient from there)

struct Geom {
  int64_t M, Cin, Cout;
  bool bias;
};

Geom geom(const Attrs& a, const Shape& x, const std::vector<const Tensor*>& params) {
  require(x.size() >= 2, kOp, "input is " + shape_str(x) + ", expected (B, ..., in_features)");
  Geom G{};
  G.Cin = x.back();
  G.M = numel(x) / std::max<int64_t>(1, G.Cin);
  G.bias = attr_b(a, "bias", true);
  if (a.has("in_features"))
    require(a.i("in_features") == G.Cin, kOp,
            "expects " + std::to_string(a.i("in_features")) + " input features, gets " +
                std::to_string(G.Cin));
  require(params.size() >= (G.bias ? 2u : 1u) && params[0], kOp,
          G.bias ? "expects parameters weight and bias" : "expects parameter weight");
  const Tensor& w = *params[0];
  require(w.rank() == 2, kOp, "weight is " + shape_str(w.shape) + ", expected rank 2");
  G.Cout = a.has("out_features") ? a.i("out_features") : w.dim(0);
  expect_shape(kOp, "weight", w, {G.Cout, G.Cin});
  if (G.bias) {
    require(params[1] != nullptr, kOp, "bias is not bound");
    expect_shape(kOp, "bias", *params[1], {G.Cout});
  }
  return G;
}

Shape out_shape(const Shape& x, int64_t cout) {
  Shape s = x;
  s.back() = cout;
  return s;
}

void linear_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  const Geom G = geom(a.attrs, xt.shape, a.params);
  Tensor& yt = *a.out.at(0);
  resize(yt, out_shape(xt.shape, G.Cout));
  const float* x = xt.ptr();
  const float* w = a.params[0]->ptr();
  const float* bias = G.bias ? a.params[1]->ptr() : nullptr;
  float* y = yt.ptr();
  // Few rows (a head, a late stage at batch 1): split the output features instead.
  const bool by_rows = G.M >= kRowGrain * num_threads();
  parallel_for(0, by_rows ? G.M : G.Cout, by_rows ? kRowGrain : 32, [&](int64_t lo, int64_t hi) {
    const int64_t r0 = by_rows ? lo : 0, r1 = by_rows ? hi : G.M;
    const int64_t c0 = by_rows ? 0 : lo, c1 = by_rows ? G.Cout : hi;
    // Y[r0:r1, c0:c1] = X[r0:r1] · W[c0:c1]ᵀ
    gemm(false, true, r1 - r0, c1 - c0, G.Cin, x + r0 * G.Cin, G.Cin, w + c0 * G.Cin, G.Cin,
         y + r0 * G.Cout + c0, G.Cout, false);
    if (bias)
      for (int64_t r = r0; r < r1; ++r) {
        float* yr = y + r * G.Cout;
        for (int64_t o = c0; o < c1; ++o) yr[o] += bias[o];
      }
  });
}

void linear_backward(const BackwardArgs& a) {
  const Shape& xs = in_shape(a, 0);
  const Geom G = geom(a.attrs, xs, a.params);
  const Tensor& dyt = *a.dout.at(0);
  expect_shape(kOp, "output gradient", dyt, out_shape(xs, G.Cout));
  const float* dy = dyt.ptr();
  const float* w = a.params[0]->ptr();

  if (Tensor* dxt = want_din(a, 0)) {
    resize(*dxt, xs);
    float* dx = dxt->ptr();
    const bool by_rows = G.M >= kRowGrain * num_threads();
    parallel_for(0, by_rows ? G.M : G.Cin, by_rows ? kRowGrain : 32, [&](int64_t lo, int64_t hi) {
      const int64_t r0 = by_rows ? lo : 0, r1 = by_rows ? hi : G.M;
      const int64_t c0 = by_rows ? 0 : lo, c1 = by_rows ? G.Cin : hi;
      // dX[r0:r1, c0:c1] = dY[r0:r1] (n x Cout) · W[:, c0:c1] (Cout x m)
      gemm(false, false, r1 - r0, c1 - c0, G.Cout, dy + r0 * G.Cout, G.Cout, w + c0, G.Cin,
           dx + r0 * G.Cin + c0, G.Cin, false);
    });
  }
  if (Tensor* dwt = want_dparam(a, 0)) {
    const float* x = need_in(a, 0, kOp).ptr();
    resize(*dwt, {G.Cout, G.Cin});
    float* dw = dwt->ptr();
    parallel_for(0, G.Cout, 16, [&](int64_t lo, int64_t hi) {
      // dW_band (n x Cin) = dY[:, band]ᵀ (n x M) · X (M x Cin)
      gemm(true, false, hi - lo, G.Cin, G.M, dy + lo, G.Cout, x, G.Cin, dw + lo * G.Cin, G.Cin,
           false);
    });
  }
  if (Tensor* dbt = G.bias ? want_dparam(a, 1) : nullptr) {
    const int64_t chunks = num_chunks(G.M, 256);
    std::vector<float> parts(chunks * G.Cout, 0.0f);
    parallel_chunks(G.M, 256, [&](int64_t c, int64_t lo, int64_t hi) {
      float* p = &parts[c * G.Cout];
      for (int64_t r = lo; r < hi; ++r) {
        const float* d = dy + r * G.Cout;
        for (int64_t o = 0; o < G.Cout; ++o) p[o] += d[o];
      }
    });
    resize(*dbt, {G.Cout});
    for (int64_t o = 0; o < G.Cout; ++o) {
      float s = 0;
      for (int64_t c = 0; c < chunks; ++c) s += parts[c * G.Cout + o];
      dbt->data[o] = s;
    }
  }
}

BackwardNeeds linear_needs(const Attrs&, bool param_grads) {
  return {param_grads ? 1u : 0u, false};
}

}  // namespace

const CpuKernel kLinear = {"linear", linear_needs, 0, "", linear_forward, linear_backward,
                           never_identity};

}  // namespace fw::cpu
