// Device programs of the GEMM ops: linear and random_mixing (kernels/cpu/linear.cpp and
// mixing.cpp on the CPU). Every product is one (batched) dev.gemm — cuBLAS on the GPU.
//  - linear:        Y = X·Wᵀ (+ b), X (M, Cin) with M = every leading dimension; dX = dY·W;
//                   dW = dYᵀ·X; db = the column sums of dY.
//  - random_mixing: X (B·C, N) with N = H·W: Y = X·Rᵀ; dX = dY·R; dR = dYᵀ·X.
#pragma once
#include "kernels/cuda/ops.h"

namespace fw::gpu {
namespace lin {

struct BiasRows {  // y[r, o] = b[o]
  const float* b;
  float* y;
  int64_t cout;
  FW_HD void operator()(int64_t i) const { y[i] = b[i % cout]; }
};

struct Geom {
  int64_t M, Cin, Cout;
  bool bias;
};
inline Geom geom(const Attrs& at, const Shape& x, const std::vector<const DTensor*>& params) {
  constexpr std::string_view op = "linear";
  require(x.size() >= 2, op, "input is " + shape_str(x) + ", expected (B, ..., in_features)");
  Geom G{};
  G.Cin = x.back();
  G.M = numel(x) / std::max<int64_t>(1, G.Cin);
  G.bias = attr_b(at, "bias", true);
  if (at.has("in_features"))
    require(at.i("in_features") == G.Cin, op,
            "expects " + std::to_string(at.i("in_features")) + " input features, gets " +
                std::to_string(G.Cin));
  require(params.size() >= (G.bias ? 2u : 1u) && params[0], op,
          G.bias ? "expects parameters weight and bias" : "expects parameter weight");
  const DTensor& w = *params[0];
  require(w.rank() == 2, op, "weight is " + shape_str(w.shape) + ", expected rank 2");
  G.Cout = at.has("out_features") ? at.i("out_features") : w.dim(0);
  expect_dshape(op, "weight", w, {G.Cout, G.Cin});
  if (G.bias) {
    require(params[1] != nullptr, op, "bias is not bound");
    expect_dshape(op, "bias", *params[1], {G.Cout});
  }
  return G;
}
inline Shape out_shape(const Shape& x, int64_t cout) {
  Shape s = x;
  s.back() = cout;
  return s;
}

template <class D>
void linear_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  const Geom G = geom(a.attrs, x.shape, a.params);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, out_shape(x.shape, G.Cout));
  if (G.bias) a.dev.launch(G.M * G.Cout, BiasRows{a.params[1]->p, y.p, G.Cout});
  Gemm g;  // Y (M x Cout) = X (M x Cin) · Wᵀ
  g.tb = true;
  g.m = G.M, g.n = G.Cout, g.k = G.Cin;
  g.a = x.p, g.lda = G.Cin;
  g.b = a.params[0]->p, g.ldb = G.Cin;
  g.c = y.p, g.ldc = G.Cout;
  g.beta = G.bias ? 1.0f : 0.0f;
  a.dev.gemm(g);
}

template <class D>
void linear_bwd(const Bwd<D>& a) {
  const Shape& xs = a.in_shapes.at(0);
  const Geom G = geom(a.attrs, xs, a.params);
  const DTensor& dy = dout0(a, "linear", out_shape(xs, G.Cout));
  if (DTensor* dx = want_din(a, 0)) {
    a.dev.resize(*dx, xs);
    Gemm g;  // dX (M x Cin) = dY (M x Cout) · W (Cout x Cin)
    g.m = G.M, g.n = G.Cin, g.k = G.Cout;
    g.a = dy.p, g.lda = G.Cout;
    g.b = a.params[0]->p, g.ldb = G.Cin;
    g.c = dx->p, g.ldc = G.Cin;
    a.dev.gemm(g);
  }
  if (DTensor* dw = want_dparam(a, 0)) {
    const DTensor& x = need_in(a, 0, "linear");
    a.dev.resize(*dw, {G.Cout, G.Cin});
    Gemm g;  // dW (Cout x Cin) = dYᵀ (Cout x M) · X (M x Cin)
    g.ta = true;
    g.m = G.Cout, g.n = G.Cin, g.k = G.M;
    g.a = dy.p, g.lda = G.Cout;
    g.b = x.p, g.ldb = G.Cin;
    g.c = dw->p, g.ldc = G.Cin;
    a.dev.gemm(g);
  }
  if (DTensor* db = G.bias ? want_dparam(a, 1) : nullptr) {
    a.dev.resize(*db, {G.Cout});
    column_sums(a.dev, G.M, G.Cout, dy.p, db->p);
  }
}

// ---- random_mixing -----------------------------------------------------------------------------
inline void mixing_geom(const Attrs& at, const Shape& x, const std::vector<const DTensor*>& params,
                        int64_t& rows, int64_t& N) {
  constexpr std::string_view op = "random_mixing";
  require(x.size() == 4, op, "input is " + shape_str(x) + ", expected (B, C, H, W)");
  rows = x[0] * x[1], N = x[2] * x[3];
  const int64_t n = attr_i(at, "num_tokens", 196);
  require(n == N, op,
          "num_tokens is " + std::to_string(n) + " but the input has " + std::to_string(x[2]) +
              "x" + std::to_string(x[3]) + " tokens");
  require(!params.empty() && params[0], op, "expects parameter random_matrix");
  expect_dshape(op, "random_matrix", *params[0], {N, N});
}

template <class D>
void mixing_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  int64_t rows, N;
  mixing_geom(a.attrs, x.shape, a.params, rows, N);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  Gemm g;  // Y (rows x N) = X · Rᵀ
  g.tb = true;
  g.m = rows, g.n = N, g.k = N;
  g.a = x.p, g.lda = N;
  g.b = a.params[0]->p, g.ldb = N;
  g.c = y.p, g.ldc = N;
  a.dev.gemm(g);
}

template <class D>
void mixing_bwd(const Bwd<D>& a) {
  const Shape& xs = a.in_shapes.at(0);
  int64_t rows, N;
  mixing_geom(a.attrs, xs, a.params, rows, N);
  const DTensor& dy = dout0(a, "random_mixing", xs);
  if (DTensor* dx = want_din(a, 0)) {
    a.dev.resize(*dx, xs);
    Gemm g;  // dX = dY · R
    g.m = rows, g.n = N, g.k = N;
    g.a = dy.p, g.lda = N;
    g.b = a.params[0]->p, g.ldb = N;
    g.c = dx->p, g.ldc = N;
    a.dev.gemm(g);
  }
  if (DTensor* dr = want_dparam(a, 0)) {
    const DTensor& x = need_in(a, 0, "random_mixing");
    a.dev.resize(*dr, {N, N});
    Gemm g;  // dR (N x N) = dYᵀ (N x rows) · X (rows x N)
    g.ta = true;
    g.m = N, g.n = N, g.k = rows;
    g.a = dy.p, g.lda = N;
    g.b = x.p, g.ldb = N;
    g.c = dr->p, g.ldc = N;
    a.dev.gemm(g);
  }
}

}  // namespace lin

template <class D>
void add_linear(KernelTable<D>& t) {
  add_kernel<D>(t, "linear", lin::linear_fwd<D>, lin::linear_bwd<D>);
  add_kernel<D>(t, "random_mixing", lin::mixing_fwd<D>, lin::mixing_bwd<D>);
}

}  // namespace fw::gpu
