// Pooling: avg_pool2d, pool_mixer (PoolFormer's token mixer) and global_avg_pool.
//
//  - avg_pool2d: x (B, C, H, W) -> (B, C, Ho, Wo), count_include_pad=False: each window's sum is
//    divided by the number of its elements inside the input. The window sum is separable: a
//    horizontal pass into a (H, Wo) buffer, then a vertical pass; the divisor is the product of
//    the valid row and column counts. Backward is the transpose of the same passes.
//  - pool_mixer: avg_pool2d(x, pool_size, 1, pool_size/2) - x (pool_size must be odd so that
//    the shapes agree, as in PyTorch).
//  - global_avg_pool: x (B, C, H, W) -> (B, C), the mean over H, W.
#include <cstring>

#include "kernels/cpu/common.h"
#include "kernels/cpu/simd.h"

namespace fw::cpu {
namespace {

struct PoolGeom {
  int64_t B, C, H, W, k, s, p, Ho, Wo;
};

PoolGeom pool_geom(std::string_view op, const Shape& x, int64_t k, int64_t s, int64_t p) {
  require(x.size() == 4, op, "input is " + shape_str(x) + ", expected (B, C, H, W)");
  require(p <= k / 2, op,
          "padding " + std::to_string(p) + " must be at most half the kernel " + std::to_string(k));
  PoolGeom G{x[0], x[1], x[2], x[3], k, s, p, 0, 0};
  G.Ho = window_out(op, G.H, k, s, p);
  G.Wo = window_out(op, G.W, k, s, p);
  return G;
}

// 1 / (number of valid positions of window o) along one axis, for o in [0, n_out).
void inv_counts(int64_t n_in, int64_t n_out, int64_t k, int64_t s, int64_t p, float* inv) {
  for (int64_t o = 0; o < n_out; ++o) {
    const int64_t lo = std::max<int64_t>(0, o * s - p), hi = std::min(n_in, o * s - p + k);
    inv[o] = 1.0f / static_cast<float>(hi - lo);
  }
}

// One plane: y = pool(x) (- x when subtract). Scratch: slot 0 (H x Wo), slot 1 padded row.
void pool_plane(const PoolGeom& G, const float* x, float* y, const float* inv_r,
                const float* inv_c, bool subtract) {
  const int64_t Wp = G.W + 2 * G.p + kLanes;
  float* hs = scratch(0, G.H * G.Wo);
  float* xr = scratch(1, Wp);
  std::fill(xr, xr + Wp, 0.0f);
  for (int64_t iy = 0; iy < G.H; ++iy) {
    std::memcpy(xr + G.p, x + iy * G.W, sizeof(float) * G.W);
    float* h = hs + iy * G.Wo;
    if (G.s == 1) {
      std::memcpy(h, xr, sizeof(float) * G.Wo);
      for (int64_t kx = 1; kx < G.k; ++kx)
        for (int64_t ox = 0; ox < G.Wo; ++ox) h[ox] += xr[ox + kx];
    } else {
      for (int64_t ox = 0; ox < G.Wo; ++ox) {
        float acc = 0;
        for (int64_t kx = 0; kx < G.k; ++kx) acc += xr[ox * G.s + kx];
        h[ox] = acc;
      }
    }
  }
  for (int64_t oy = 0; oy < G.Ho; ++oy) {
    const int64_t y0 = std::max<int64_t>(0, oy * G.s - G.p);
    const int64_t y1 = std::min(G.H, oy * G.s - G.p + G.k);
    float* yr = y + oy * G.Wo;
    std::memcpy(yr, hs + y0 * G.Wo, sizeof(float) * G.Wo);
    for (int64_t iy = y0 + 1; iy < y1; ++iy) {
      const float* h = hs + iy * G.Wo;
      for (int64_t ox = 0; ox < G.Wo; ++ox) yr[ox] += h[ox];
    }
    const float r = inv_r[oy];
    if (subtract) {
      const float* xo = x + oy * G.W;  // pool_mixer: Ho = H, Wo = W
      for (int64_t ox = 0; ox < G.Wo; ++ox) yr[ox] = yr[ox] * (r * inv_c[ox]) - xo[ox];
    } else {
      for (int64_t ox = 0; ox < G.Wo; ++ox) yr[ox] *= r * inv_c[ox];
    }
  }
}

// One plane: dx = poolᵀ(dy) (- dy when subtract). Scratch: slot 0 (H x Wo), slot 1 padded row,
// slot 2 (Wo).
void pool_plane_backward(const PoolGeom& G, const float* dy, float* dx, const float* inv_r,
                         const float* inv_c, bool subtract) {
  float* vs = scratch(0, G.H * G.Wo);
  const int64_t Wp = G.W + 2 * G.p + kLanes;
  float* dr = scratch(1, Wp);
  float* g = scratch(2, G.Wo);
  std::fill(vs, vs + G.H * G.Wo, 0.0f);
  for (int64_t oy = 0; oy < G.Ho; ++oy) {
    const float r = inv_r[oy];
    const float* d = dy + oy * G.Wo;
    for (int64_t ox = 0; ox < G.Wo; ++ox) g[ox] = d[ox] * (r * inv_c[ox]);
    const int64_t y0 = std::max<int64_t>(0, oy * G.s - G.p);
    const int64_t y1 = std::min(G.H, oy * G.s - G.p + G.k);
    for (int64_t iy = y0; iy < y1; ++iy) {
      float* v = vs + iy * G.Wo;
      for (int64_t ox = 0; ox < G.Wo; ++ox) v[ox] += g[ox];
    }
  }
  for (int64_t iy = 0; iy < G.H; ++iy) {
    const float* v = vs + iy * G.Wo;
    std::fill(dr, dr + Wp, 0.0f);
    if (G.s == 1) {
      for (int64_t kx = 0; kx < G.k; ++kx)
        for (int64_t ox = 0; ox < G.Wo; ++ox) dr[ox + kx] += v[ox];
    } else {
      for (int64_t ox = 0; ox < G.Wo; ++ox)
        for (int64_t kx = 0; kx < G.k; ++kx) dr[ox * G.s + kx] += v[ox];
    }
    float* out = dx + iy * G.W;
    if (subtract) {
      const float* d = dy + iy * G.Wo;
      for (int64_t ix = 0; ix < G.W; ++ix) out[ix] = dr[ix + G.p] - d[ix];
    } else {
      std::memcpy(out, dr + G.p, sizeof(float) * G.W);
    }
  }
}

void pool_forward_all(const PoolGeom& G, const Tensor& xt, Tensor& yt, bool subtract) {
  resize(yt, {G.B, G.C, G.Ho, G.Wo});
  std::vector<float> inv_r(G.Ho), inv_c(G.Wo);
  inv_counts(G.H, G.Ho, G.k, G.s, G.p, inv_r.data());
  inv_counts(G.W, G.Wo, G.k, G.s, G.p, inv_c.data());
  const float* x = xt.ptr();
  float* y = yt.ptr();
  parallel_for(0, G.B * G.C, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t)
      pool_plane(G, x + t * G.H * G.W, y + t * G.Ho * G.Wo, inv_r.data(), inv_c.data(), subtract);
  });
}

void pool_backward_all(const PoolGeom& G, const Tensor& dyt, Tensor& dxt, bool subtract,
                       std::string_view op) {
  expect_shape(op, "output gradient", dyt, {G.B, G.C, G.Ho, G.Wo});
  resize(dxt, {G.B, G.C, G.H, G.W});
  std::vector<float> inv_r(G.Ho), inv_c(G.Wo);
  inv_counts(G.H, G.Ho, G.k, G.s, G.p, inv_r.data());
  inv_counts(G.W, G.Wo, G.k, G.s, G.p, inv_c.data());
  const float* dy = dyt.ptr();
  float* dx = dxt.ptr();
  parallel_for(0, G.B * G.C, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t)
      pool_plane_backward(G, dy + t * G.Ho * G.Wo, dx + t * G.H * G.W, inv_r.data(),
                          inv_c.data(), subtract);
  });
}

// ---- avg_pool2d ------------------------------------------------------------------------------------
PoolGeom avg_geom(const Attrs& a, const Shape& x) {
  return pool_geom("avg_pool2d", x, attr_i(a, "kernel", 3), attr_i(a, "stride", 1),
                   attr_i(a, "padding", 1));
}

void avg_pool2d_forward(const ForwardArgs& a) {
  const Tensor& x = *a.in.at(0);
  expect_rank("avg_pool2d", "input", x, 4);
  pool_forward_all(avg_geom(a.attrs, x.shape), x, *a.out.at(0), false);
}

void avg_pool2d_backward(const BackwardArgs& a) {
  Tensor* dx = want_din(a, 0);
  if (!dx) return;
  pool_backward_all(avg_geom(a.attrs, in_shape(a, 0)), *a.dout.at(0), *dx, false, "avg_pool2d");
}

// ---- pool_mixer ------------------------------------------------------------------------------------
PoolGeom mixer_geom(const Attrs& a, const Shape& x) {
  const int64_t k = attr_i(a, "pool_size", 3);
  require(k >= 1 && k % 2 == 1, "pool_mixer",
          "pool_size must be odd (pool(x) - x needs the input size), got " + std::to_string(k));
  return pool_geom("pool_mixer", x, k, 1, k / 2);
}

void pool_mixer_forward(const ForwardArgs& a) {
  const Tensor& x = *a.in.at(0);
  expect_rank("pool_mixer", "input", x, 4);
  pool_forward_all(mixer_geom(a.attrs, x.shape), x, *a.out.at(0), true);
}

void pool_mixer_backward(const BackwardArgs& a) {
  Tensor* dx = want_din(a, 0);
  if (!dx) return;
  pool_backward_all(mixer_geom(a.attrs, in_shape(a, 0)), *a.dout.at(0), *dx, true, "pool_mixer");
}

// ---- global_avg_pool ---------------------------------------------------------------------------------
void gap_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  expect_rank("global_avg_pool", "input", xt, 4);
  const int64_t B = xt.dim(0), C = xt.dim(1), S = xt.dim(2) * xt.dim(3);
  Tensor& yt = *a.out.at(0);
  resize(yt, {B, C});
  const float* x = xt.ptr();
  float* y = yt.ptr();
  const float inv = 1.0f / static_cast<float>(S);
  parallel_for(0, B * C, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const float* p = x + t * S;
      V16 acc{};
      int64_t i = 0;
      for (; i + kLanes <= S; i += kLanes) acc += load16(p + i);
      float s = hsum16(acc);
      for (; i < S; ++i) s += p[i];
      y[t] = s * inv;
    }
  });
}

void gap_backward(const BackwardArgs& a) {
  Tensor* dxt = want_din(a, 0);
  if (!dxt) return;
  const Shape& xs = in_shape(a, 0);
  require(xs.size() == 4, "global_avg_pool", "input is " + shape_str(xs) + ", expected rank 4");
  const int64_t B = xs[0], C = xs[1], S = xs[2] * xs[3];
  const Tensor& dyt = *a.dout.at(0);
  expect_shape("global_avg_pool", "output gradient", dyt, {B, C});
  resize(*dxt, xs);
  const float* dy = dyt.ptr();
  float* dx = dxt->ptr();
  const float inv = 1.0f / static_cast<float>(S);
  parallel_for(0, B * C, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) std::fill(dx + t * S, dx + (t + 1) * S, dy[t] * inv);
  });
}

}  // namespace

const CpuKernel kAvgPool2d = {"avg_pool2d", needs_nothing, 0, "", avg_pool2d_forward,
                              avg_pool2d_backward, never_identity};
const CpuKernel kPoolMixer = {"pool_mixer", needs_nothing, 0, "", pool_mixer_forward,
                              pool_mixer_backward, never_identity};
const CpuKernel kGlobalAvgPool = {"global_avg_pool", needs_nothing, 0, "", gap_forward,
                                  gap_backward, never_identity};

}  // namespace fw::cpu
