// Device programs of the pooling ops (kernels/cpu/pool.cpp on the CPU): avg_pool2d, pool_mixer
// and global_avg_pool. None reads anything but dy in backward (needs_nothing), none saves.
//  - avg_pool2d (count_include_pad=False) and pool_mixer (= avg_pool2d(x, k, 1, k/2) - x): one
//    thread per output element gathers its window (row sums, then rows, as the CPU) and scales
//    by 1/rows · 1/cols from a small per-axis table. Backward is a gather as well: one thread
//    per input element adds dy·(1/rows · 1/cols) of every output whose window covers it. No
//    scatter, no atomics: deterministic.
//  - global_avg_pool: one block per (b, c) plane; backward a broadcast.
#pragma once
#include "kernels/cuda/ops.h"

namespace fw::gpu {
namespace pool {

FW_HD int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }
FW_HD int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

struct Geom {
  int64_t B, C, H, W, k, s, p, Ho, Wo;
};

inline void expect_rank4(std::string_view op, const Shape& x) {
  require(x.size() == 4, op, "input is " + shape_str(x) + ", expected rank 4 (batch included)");
}

inline Geom pool_geom(std::string_view op, const Shape& x, int64_t k, int64_t s, int64_t p) {
  require(x.size() == 4, op, "input is " + shape_str(x) + ", expected (B, C, H, W)");
  require(p <= k / 2, op,
          "padding " + std::to_string(p) + " must be at most half the kernel " + std::to_string(k));
  Geom G{x[0], x[1], x[2], x[3], k, s, p, 0, 0};
  G.Ho = cpu::window_out(op, G.H, k, s, p);
  G.Wo = cpu::window_out(op, G.W, k, s, p);
  return G;
}

inline Geom avg_geom(const Attrs& a, const Shape& x) {
  return pool_geom("avg_pool2d", x, attr_i(a, "kernel", 3), attr_i(a, "stride", 1),
                   attr_i(a, "padding", 1));
}

inline Geom mixer_geom(const Attrs& a, const Shape& x) {
  const int64_t k = attr_i(a, "pool_size", 3);
  require(k >= 1 && k % 2 == 1, "pool_mixer",
          "pool_size must be odd (pool(x) - x needs the input size), got " + std::to_string(k));
  return pool_geom("pool_mixer", x, k, 1, k / 2);
}

// inv[o] = 1 / (valid rows of output row o), o < Ho; inv[Ho + o] the same for columns, o < Wo.
struct InvCounts {
  int64_t H, W, Ho, k, s, p;
  float* inv;
  FW_HD void operator()(int64_t i) const {
    const int64_t n = i < Ho ? H : W, o = i < Ho ? i : i - Ho;
    const int64_t lo = imax(0, o * s - p), hi = imin(n, o * s - p + k);
    inv[i] = 1.0f / static_cast<float>(hi - lo);
  }
};

// Output i = ((plane·Ho + oy)·Wo + ox): the window mean (minus x at the same place when
// subtract: pool_mixer, where Ho = H and Wo = W).
struct PoolFwd {
  const float *x, *inv;
  float* y;
  int64_t H, W, Ho, Wo, k, s, p;
  bool subtract;
  FW_HD void operator()(int64_t i) const {
    const int64_t ox = i % Wo, t = i / Wo, oy = t % Ho, plane = t / Ho;
    const int64_t y0 = imax(0, oy * s - p), y1 = imin(H, oy * s - p + k);
    const int64_t x0 = imax(0, ox * s - p), x1 = imin(W, ox * s - p + k);
    const float* xp = x + plane * H * W;
    float acc = 0.0f;
    for (int64_t iy = y0; iy < y1; ++iy) {
      const float* row = xp + iy * W;
      float h = 0.0f;
      for (int64_t ix = x0; ix < x1; ++ix) h += row[ix];
      acc += h;
    }
    float v = acc * (inv[oy] * inv[Ho + ox]);
    if (subtract) v -= xp[oy * W + ox];
    y[i] = v;
  }
};

// Input i = ((plane·H + iy)·W + ix): Σ dy[oy, ox]·inv over the outputs whose window covers
// (iy, ix): oy·s - p <= iy < oy·s - p + k (minus dy at the same place when subtract).
struct PoolBwd {
  const float *dy, *inv;
  float* dx;
  int64_t H, W, Ho, Wo, k, s, p;
  bool subtract;
  FW_HD static int64_t first(int64_t i, int64_t k, int64_t s, int64_t p) {
    const int64_t lo = i + p - k + 1;  // smallest o with o·s >= lo
    return lo <= 0 ? 0 : (lo + s - 1) / s;
  }
  FW_HD void operator()(int64_t i) const {
    const int64_t ix = i % W, t = i / W, iy = t % H, plane = t / H;
    const int64_t oy0 = first(iy, k, s, p), oy1 = imin(Ho - 1, (iy + p) / s);
    const int64_t ox0 = first(ix, k, s, p), ox1 = imin(Wo - 1, (ix + p) / s);
    const float* dp = dy + plane * Ho * Wo;
    float acc = 0.0f;
    for (int64_t oy = oy0; oy <= oy1; ++oy) {
      const float r = inv[oy];
      const float* row = dp + oy * Wo;
      for (int64_t ox = ox0; ox <= ox1; ++ox) acc += row[ox] * (r * inv[Ho + ox]);
    }
    if (subtract) acc -= dp[iy * Wo + ix];
    dx[i] = acc;
  }
};

template <class D>
void pool_forward(D& dev, const Geom& G, const DTensor& x, DTensor& y, bool subtract) {
  dev.resize(y, {G.B, G.C, G.Ho, G.Wo});
  Scratch<D> inv(dev, static_cast<size_t>(G.Ho + G.Wo));
  dev.launch(G.Ho + G.Wo, InvCounts{G.H, G.W, G.Ho, G.k, G.s, G.p, inv.get()});
  dev.launch(y.size(), PoolFwd{x.p, inv.get(), y.p, G.H, G.W, G.Ho, G.Wo, G.k, G.s, G.p, subtract});
}

template <class D>
void pool_backward(const Bwd<D>& a, std::string_view op, const Geom& G, bool subtract) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const DTensor& dy = dout0(a, op, {G.B, G.C, G.Ho, G.Wo});
  a.dev.resize(*dx, {G.B, G.C, G.H, G.W});
  Scratch<D> inv(a.dev, static_cast<size_t>(G.Ho + G.Wo));
  a.dev.launch(G.Ho + G.Wo, InvCounts{G.H, G.W, G.Ho, G.k, G.s, G.p, inv.get()});
  a.dev.launch(dx->size(),
               PoolBwd{dy.p, inv.get(), dx->p, G.H, G.W, G.Ho, G.Wo, G.k, G.s, G.p, subtract});
}

// ---- avg_pool2d / pool_mixer
// ---------------------------------------------------------------------
template <class D>
void avg_pool2d_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  expect_rank4("avg_pool2d", x.shape);
  pool_forward(a.dev, avg_geom(a.attrs, x.shape), x, *a.out.at(0), false);
}
template <class D>
void avg_pool2d_bwd(const Bwd<D>& a) {
  if (!want_din(a, 0)) return;
  pool_backward(a, "avg_pool2d", avg_geom(a.attrs, a.in_shapes.at(0)), false);
}
template <class D>
void pool_mixer_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  expect_rank4("pool_mixer", x.shape);
  pool_forward(a.dev, mixer_geom(a.attrs, x.shape), x, *a.out.at(0), true);
}
template <class D>
void pool_mixer_bwd(const Bwd<D>& a) {
  if (!want_din(a, 0)) return;
  pool_backward(a, "pool_mixer", mixer_geom(a.attrs, a.in_shapes.at(0)), true);
}

// ---- global_avg_pool
// ----------------------------------------------------------------------------- y[t] = mean of
// plane t (S values).
struct GapFwd {
  const float* x;
  float* y;
  int64_t S;
  float inv;
  template <class Ctx>
  FW_HD void operator()(int64_t t, Ctx& c) const {
    const float* p = x + t * S;
    float s = 0.0f;
    for (int64_t j = c.tid; j < S; j += c.threads) s += p[j];
    s = c.sum(s);
    if (c.tid == 0) y[t] = s * inv;
  }
};
struct GapBwd {  // dx[i] = dy[i / S]·inv
  const float* dy;
  float* dx;
  int64_t S;
  float inv;
  FW_HD void operator()(int64_t i) const { dx[i] = dy[i / S] * inv; }
};

template <class D>
void gap_fwd(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  expect_rank4("global_avg_pool", x.shape);
  const int64_t B = x.dim(0), C = x.dim(1), S = x.dim(2) * x.dim(3);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, {B, C});
  a.dev.launch_rows(B * C, S, GapFwd{x.p, y.p, S, 1.0f / static_cast<float>(S)});
}

template <class D>
void gap_bwd(const Bwd<D>& a) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const Shape& xs = a.in_shapes.at(0);
  require(xs.size() == 4, "global_avg_pool", "input is " + shape_str(xs) + ", expected rank 4");
  const int64_t B = xs[0], C = xs[1], S = xs[2] * xs[3];
  const DTensor& dy = dout0(a, "global_avg_pool", {B, C});
  a.dev.resize(*dx, xs);
  if (S > 0) a.dev.launch(dx->size(), GapBwd{dy.p, dx->p, S, 1.0f / static_cast<float>(S)});
}

}  // namespace pool

template <class D>
void add_pool(KernelTable<D>& t) {
  add_kernel<D>(t, "avg_pool2d", pool::avg_pool2d_fwd<D>, pool::avg_pool2d_bwd<D>);
  add_kernel<D>(t, "pool_mixer", pool::pool_mixer_fwd<D>, pool::pool_mixer_bwd<D>);
  add_kernel<D>(t, "global_avg_pool", pool::gap_fwd<D>, pool::gap_bwd<D>);
}

}  // namespace fw::gpu
