// random_mixing (RandFormer's token mixer): x (B, C, H, W), random_matrix R (N, N), N = H·W
// -> out (B, C, H, W) with out[b, c, m] = Σ_n R[m, n]·x[b, c, n].
// All B·C rows at once: Y = X·Rᵀ; dX = dY·R; dR = dYᵀ·X (split over bands of R's rows).
// R is not trainable in the models, but its gradient is computed when asked (synflow and other
// proxies may want it).
#include "kernels/cpu/common.h"
#include "kernels/cpu/gemm.h"

namespace fw::cpu {
namespace {

constexpr std::string_view kOp = "random_mixing";

struct Geom {
  int64_t rows, N;  // rows = B·C
};

Geom geom(const Attrs& a, const Shape& x, const std::vector<const Tensor*>& params) {
  require(x.size() == 4, kOp, "input is " + shape_str(x) + ", expected (B, C, H, W)");
  Geom g{x[0] * x[1], x[2] * x[3]};
  const int64_t n = attr_i(a, "num_tokens", 196);
  require(n == g.N, kOp, "num_tokens is " + std::to_string(n) + " but the input has " +
                             std::to_string(x[2]) + "x" + std::to_string(x[3]) + " tokens");
  require(!params.empty() && params[0], kOp, "expects parameter random_matrix");
  expect_shape(kOp, "random_matrix", *params[0], {g.N, g.N});
  return g;
}

void mixing_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  const Geom g = geom(a.attrs, xt.shape, a.params);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  const float* x = xt.ptr();
  const float* R = a.params[0]->ptr();
  float* y = yt.ptr();
  parallel_for(0, g.rows, 32, [&](int64_t lo, int64_t hi) {
    gemm(false, true, hi - lo, g.N, g.N, x + lo * g.N, g.N, R, g.N, y + lo * g.N, g.N, false);
  });
}

void mixing_backward(const BackwardArgs& a) {
  const Shape& xs = in_shape(a, 0);
  const Geom g = geom(a.attrs, xs, a.params);
  const Tensor& dyt = *a.dout.at(0);
  expect_shape(kOp, "output gradient", dyt, xs);
  const float* dy = dyt.ptr();
  const float* R = a.params[0]->ptr();
  if (Tensor* dxt = want_din(a, 0)) {
    resize(*dxt, xs);
    float* dx = dxt->ptr();
    parallel_for(0, g.rows, 32, [&](int64_t lo, int64_t hi) {
      gemm(false, false, hi - lo, g.N, g.N, dy + lo * g.N, g.N, R, g.N, dx + lo * g.N, g.N, false);
    });
  }
  if (Tensor* drt = want_dparam(a, 0)) {
    const float* x = need_in(a, 0, kOp).ptr();
    resize(*drt, {g.N, g.N});
    float* dR = drt->ptr();
    parallel_for(0, g.N, 16, [&](int64_t lo, int64_t hi) {
      // dR[lo:hi, :] = dY[:, lo:hi]ᵀ · X
      gemm(true, false, hi - lo, g.N, g.rows, dy + lo, g.N, x, g.N, dR + lo * g.N, g.N, false);
    });
  }
}

BackwardNeeds mixing_needs(const Attrs&, bool param_grads) { return {param_grads ? 1u : 0u, false}; }

}  // namespace

const CpuKernel kRandomMixing = {"random_mixing", mixing_needs, 0, "", mixing_forward,
                                 mixing_backward, never_identity};

}  // namespace fw::cpu
