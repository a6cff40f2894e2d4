// Activations, any shape (B, ...):
//  - gelu:         y = x·Φ(x) = 0.5·x·(1 + erf(x/√2))      backward reads x
//  - relu:         y = max(x, 0)                           backward reads y (y > 0 <=> x > 0)
//  - squared_relu: y = relu(x)²                            backward reads x
//  - star_relu:    y = s·relu(x)² + b, s and b (1)         backward reads x
// Loops are branch-free and vectorise (erf_f/exp_f from common.h).
#include "kernels/cpu/common.h"
#include "kernels/cpu/simd.h"

namespace fw::cpu {
namespace {

constexpr int64_t kGrain = 16384;  // elements per parallel chunk at least

const Tensor& grad_like(std::string_view op, const BackwardArgs& a) {
  const Tensor& dy = *a.dout.at(0);
  expect_shape(op, "output gradient", dy, in_shape(a, 0));
  return dy;
}

// ---- gelu -------------------------------------------------------------------------------------------
void gelu_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  const float* x = xt.ptr();
  float* y = yt.ptr();
  parallel_for(0, xt.size(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = 0.5f * x[i] * (1.0f + erf_f(x[i] * 0.70710678118654752f));
  });
}

void gelu_backward(const BackwardArgs& a) {
  Tensor* dxt = want_din(a, 0);
  if (!dxt) return;
  const Tensor& dyt = grad_like("gelu", a);
  const float* x = need_in(a, 0, "gelu").ptr();
  resize(*dxt, dyt.shape);
  const float* dy = dyt.ptr();
  float* dx = dxt->ptr();
  parallel_for(0, dyt.size(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const float v = x[i];
      const float cdf = 0.5f * (1.0f + erf_f(v * 0.70710678118654752f));
      const float pdf = 0.39894228040143268f * exp_f(-0.5f * v * v);
      dx[i] = dy[i] * (cdf + v * pdf);
    }
  });
}

// ---- relu -------------------------------------------------------------------------------------------
void relu_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  const float* x = xt.ptr();
  float* y = yt.ptr();
  parallel_for(0, xt.size(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  });
}

void relu_backward(const BackwardArgs& a) {
  Tensor* dxt = want_din(a, 0);
  if (!dxt) return;
  const Tensor& dyt = grad_like("relu", a);
  if (a.out.empty() || !a.out[0]) fail("relu", "backward needs the forward output (freed too early?)");
  const float* y = a.out[0]->ptr();
  resize(*dxt, dyt.shape);
  const float* dy = dyt.ptr();
  float* dx = dxt->ptr();
  parallel_for(0, dyt.size(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
  });
}

// ---- squared_relu -----------------------------------------------------------------------------------
void squared_relu_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  const float* x = xt.ptr();
  float* y = yt.ptr();
  parallel_for(0, xt.size(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const float r = x[i] > 0.0f ? x[i] : 0.0f;
      y[i] = r * r;
    }
  });
}

void squared_relu_backward(const BackwardArgs& a) {
  Tensor* dxt = want_din(a, 0);
  if (!dxt) return;
  const Tensor& dyt = grad_like("squared_relu", a);
  const float* x = need_in(a, 0, "squared_relu").ptr();
  resize(*dxt, dyt.shape);
  const float* dy = dyt.ptr();
  float* dx = dxt->ptr();
  parallel_for(0, dyt.size(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) dx[i] = 2.0f * (x[i] > 0.0f ? x[i] : 0.0f) * dy[i];
  });
}

// ---- star_relu --------------------------------------------------------------------------------------
void star_params(const std::vector<const Tensor*>& params, float& s, float& b) {
  constexpr std::string_view op = "star_relu";
  require(params.size() >= 2 && params[0] && params[1], op, "expects parameters scale and bias");
  expect_shape(op, "scale", *params[0], {1});
  expect_shape(op, "bias", *params[1], {1});
  s = params[0]->data[0], b = params[1]->data[0];
}

void star_relu_forward(const ForwardArgs& a) {
  float s, b;
  star_params(a.params, s, b);
  const Tensor& xt = *a.in.at(0);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  const float* x = xt.ptr();
  float* y = yt.ptr();
  parallel_for(0, xt.size(), kGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const float r = x[i] > 0.0f ? x[i] : 0.0f;
      y[i] = s * r * r + b;
    }
  });
}

void star_relu_backward(const BackwardArgs& a) {
  float s, b;
  star_params(a.params, s, b);
  const Tensor& dyt = grad_like("star_relu", a);
  const float* x = need_in(a, 0, "star_relu").ptr();
  const float* dy = dyt.ptr();
  const int64_t n = dyt.size();
  if (Tensor* dxt = want_din(a, 0)) {
    resize(*dxt, dyt.shape);
    float* dx = dxt->ptr();
    parallel_for(0, n, kGrain, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) dx[i] = 2.0f * s * (x[i] > 0.0f ? x[i] : 0.0f) * dy[i];
    });
  }
  Tensor* dst = want_dparam(a, 0);
  Tensor* dbt = want_dparam(a, 1);
  if (!dst && !dbt) return;
  const int64_t chunks = num_chunks(n, kGrain);
  std::vector<double> ps(chunks, 0.0), pb(chunks, 0.0);
  parallel_chunks(n, kGrain, [&, x, dy](int64_t c, int64_t lo, int64_t hi) {
    // 16-lane float sums over blocks of 4096, accumulated in double.
    for (int64_t i0 = lo; i0 < hi; i0 += 4096) {
      const int64_t i1 = std::min(hi, i0 + 4096);
      V16 vs{}, vb{};
      int64_t i = i0;
      for (; i + kLanes <= i1; i += kLanes) {
        const V16 xv = load16(x + i), d = load16(dy + i);
        const V16 r = xv > 0.0f ? xv : V16{};
        vs += d * r * r;
        vb += d;
      }
      float as = hsum16(vs), ab = hsum16(vb);
      for (; i < i1; ++i) {
        const float r = x[i] > 0.0f ? x[i] : 0.0f;
        as += dy[i] * r * r;
        ab += dy[i];
      }
      ps[c] += as, pb[c] += ab;
    }
  });
  double ts = 0, tb = 0;
  for (int64_t c = 0; c < chunks; ++c) ts += ps[c], tb += pb[c];
  if (dst) resize(*dst, {1}), dst->data[0] = static_cast<float>(ts);
  if (dbt) resize(*dbt, {1}), dbt->data[0] = static_cast<float>(tb);
}

BackwardNeeds needs_output(const Attrs&, bool) { return {0u, true}; }

}  // namespace

const CpuKernel kGelu = {"gelu", needs_input0, 0, "", gelu_forward, gelu_backward,
                         never_identity};
const CpuKernel kRelu = {"relu", needs_output, 0, "", relu_forward, relu_backward,
                         never_identity};
const CpuKernel kSquaredRelu = {"squared_relu", needs_input0, 0, "", squared_relu_forward,
                                squared_relu_backward, never_identity};
const CpuKernel kStarRelu = {"star_relu", needs_input0, 0, "", star_relu_forward,
                             star_relu_backward, never_identity};

}  // namespace fw::cpu
