// Depthwise convolution planes (see depthwise.h).
//
// Every plane is first copied into a zero-padded per-thread buffer xp whose rows are a whole
// number of vectors wide plus one spare vector, so that the vector loops never test borders:
// lanes beyond Wo compute garbage that is not stored (forward) or meets zeros (weight gradient).
#include "kernels/cpu/depthwise.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "kernels/cpu/simd.h"

namespace fw::cpu {
namespace {

// Zero-padded copy of one plane: xp is (rows, Wp), the plane sits at (p, p). Only the border
// is zeroed.
void pad_plane(const float* x, int64_t H, int64_t W, int64_t p, float* xp, int64_t rows,
               int64_t Wp) {
  std::memset(xp, 0, sizeof(float) * p * Wp);
  for (int64_t y = 0; y < H; ++y) {
    float* row = xp + (y + p) * Wp;
    std::memset(row, 0, sizeof(float) * p);
    std::memcpy(row + p, x + y * W, sizeof(float) * W);
    std::memset(row + p + W, 0, sizeof(float) * (Wp - p - W));
  }
  std::memset(xp + (H + p) * Wp, 0, sizeof(float) * (rows - H - p) * Wp);
}

inline void store_valid(float* row, int64_t ox, V16 v, int64_t Wo) {
  if (ox + kLanes <= Wo) {
    store16(row + ox, v);
  } else {
    for (int64_t i = 0; ox + i < Wo; ++i) row[ox + i] = v[i];
  }
}

// Row stride of the padded buffers: whole vectors covering Wo plus room for the kernel's reach
// (at least one spare vector for the shifted pairs).
int64_t padded_width(int64_t Wo, int64_t k) { return round_up16(Wo) + round_up16(std::max<int64_t>(k, 2)); }

// Calls f(std::integral_constant<int, I>) for I = 0..N-1 (compile-time unrolled).
template <int N, class F>
inline void unroll(F&& f) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    (f(std::integral_constant<int, I>{}), ...);
  }(std::make_integer_sequence<int, N>{});
}

// ---- stride-1 forward, compile-time kernel size ---------------------------------------------------
// Output rows oy0 and oy0+1 (the second only if `two`), vectors [v0, v0+NB) of 16 outputs. Input
// row oy0+r serves kernel row r of the first output row and r-1 of the second.
template <int K, int NB>
inline void dw_rows_k(const float* xp, int64_t Wp, const float* w, float b, float* y, int64_t oy0,
                      bool two, int64_t v0, int64_t Wo) {
  V16 a0[NB], a1[NB];
  for (int j = 0; j < NB; ++j) a0[j] = a1[j] = splat16(b);
  for (int r = 0; r <= K; ++r) {
    const float* xr = xp + (oy0 + r) * Wp + v0 * kLanes;
    V16 x[NB + 1];
    for (int j = 0; j <= NB; ++j) x[j] = load16(xr + j * kLanes);
    unroll<K>([&](auto kxc) {
      constexpr int kx = decltype(kxc)::value;
      V16 sv[NB];
      for (int j = 0; j < NB; ++j) sv[j] = shift_lanes<kx>(x[j], x[j + 1]);
      if (r < K) {
        const V16 wv = splat16(w[r * K + kx]);
        for (int j = 0; j < NB; ++j) a0[j] += wv * sv[j];
      }
      if (r >= 1) {
        const V16 wv = splat16(w[(r - 1) * K + kx]);
        for (int j = 0; j < NB; ++j) a1[j] += wv * sv[j];
      }
    });
  }
  for (int j = 0; j < NB; ++j) {
    store_valid(y + oy0 * Wo, (v0 + j) * kLanes, a0[j], Wo);
    if (two) store_valid(y + (oy0 + 1) * Wo, (v0 + j) * kLanes, a1[j], Wo);
  }
}

// xp: (Ho + K, Wp) — one spare zero row for the second output row of an odd last pair.
template <int K>
void dw_plane_s1_k(const float* xp, int64_t Wp, const float* w, float b, float* y, int64_t Ho,
                   int64_t Wo) {
  const int64_t nv = round_up16(Wo) / kLanes;
  for (int64_t oy = 0; oy < Ho; oy += 2) {
    const bool two = oy + 1 < Ho;
    int64_t v = 0;
    for (; v + 4 <= nv; v += 4) dw_rows_k<K, 4>(xp, Wp, w, b, y, oy, two, v, Wo);
    for (; v + 2 <= nv; v += 2) dw_rows_k<K, 2>(xp, Wp, w, b, y, oy, two, v, Wo);
    for (; v < nv; ++v) dw_rows_k<K, 1>(xp, Wp, w, b, y, oy, two, v, Wo);
  }
}

// Any kernel size, stride 1: unaligned loads.
void dw_plane_s1_any(const float* xp, int64_t Wp, const float* w, int64_t k, float b, float* y,
                     int64_t Ho, int64_t Wo) {
  const int64_t nv = round_up16(Wo) / kLanes;
  for (int64_t oy = 0; oy < Ho; ++oy)
    for (int64_t v = 0; v < nv; ++v) {
      V16 a0 = splat16(b);
      for (int64_t ky = 0; ky < k; ++ky) {
        const float* xr = xp + (oy + ky) * Wp + v * kLanes;
        for (int64_t kx = 0; kx < k; ++kx) a0 += splat16(w[ky * k + kx]) * load16(xr + kx);
      }
      store_valid(y + oy * Wo, v * kLanes, a0, Wo);
    }
}

// y[oy][ox] = b + Σ w[ky][kx] xp[oy+ky][ox+kx]; xp: (Ho + k, Wp), Wp = padded_width(Wo, k).
void dw_plane_s1(const float* xp, int64_t Wp, const float* w, int64_t k, float b, float* y,
                 int64_t Ho, int64_t Wo) {
  switch (k) {
    case 3: return dw_plane_s1_k<3>(xp, Wp, w, b, y, Ho, Wo);
    case 5: return dw_plane_s1_k<5>(xp, Wp, w, b, y, Ho, Wo);
    case 7: return dw_plane_s1_k<7>(xp, Wp, w, b, y, Ho, Wo);
    default: return dw_plane_s1_any(xp, Wp, w, k, b, y, Ho, Wo);
  }
}

// Any stride: y[oy][ox] = b + Σ w[ky][kx] xp[oy*s+ky][ox*s+kx]; xp: (H+2p, W+2p).
void dw_plane_strided(const float* xp, int64_t Wp, const float* w, int64_t k, int64_t s, float b,
                      float* y, int64_t Ho, int64_t Wo) {
  for (int64_t oy = 0; oy < Ho; ++oy) {
    float* yr = y + oy * Wo;
    std::fill(yr, yr + Wo, b);
    for (int64_t ky = 0; ky < k; ++ky) {
      const float* xr = xp + (oy * s + ky) * Wp;
      for (int64_t kx = 0; kx < k; ++kx) {
        const float wv = w[ky * k + kx];
        for (int64_t ox = 0; ox < Wo; ++ox) yr[ox] += wv * xr[ox * s + kx];
      }
    }
  }
}

// ---- weight gradient, stride 1 ----------------------------------------------------------------------
// dw[ky][kx] = Σ_oy Σ_ox dyp[oy][ox] xp[oy+ky][ox+kx]; dyp: (Ho, Wv) zero beyond Wo.
template <int K>
void dw_grad_w_k(const float* xp, int64_t Wp, const float* dyp, int64_t Wv, int64_t Ho,
                 float* dw) {
  const int64_t nv = Wv / kLanes;
  for (int ky = 0; ky < K; ++ky) {
    V16 acc[K];
    for (int i = 0; i < K; ++i) acc[i] = V16{};
    for (int64_t oy = 0; oy < Ho; ++oy) {
      const float* xr = xp + (oy + ky) * Wp;
      const float* dr = dyp + oy * Wv;
      for (int64_t v = 0; v < nv; ++v) {
        const V16 d = load16(dr + v * kLanes);
        const V16 x0 = load16(xr + v * kLanes), x1 = load16(xr + v * kLanes + kLanes);
        unroll<K>([&](auto kxc) {
          constexpr int kx = decltype(kxc)::value;
          acc[kx] += d * shift_lanes<kx>(x0, x1);
        });
      }
    }
    for (int kx = 0; kx < K; ++kx) dw[ky * K + kx] = hsum16(acc[kx]);
  }
}

void dw_grad_w_any(const float* xp, int64_t Wp, const float* dyp, int64_t Wv, int64_t Ho,
                   int64_t k, float* dw) {
  const int64_t nv = Wv / kLanes;
  for (int64_t ky = 0; ky < k; ++ky)
    for (int64_t kx = 0; kx < k; ++kx) {
      V16 a0{};
      for (int64_t oy = 0; oy < Ho; ++oy) {
        const float* xr = xp + (oy + ky) * Wp + kx;
        const float* dr = dyp + oy * Wv;
        for (int64_t v = 0; v < nv; ++v) a0 += load16(dr + v * kLanes) * load16(xr + v * kLanes);
      }
      dw[ky * k + kx] = hsum16(a0);
    }
}

}  // namespace

void dw_forward_plane(const DwGeom& g, const float* x, const float* w, float b, float* y) {
  if (g.s == 1) {
    const int64_t Wp = padded_width(g.Wo, g.k), rows = g.H + 2 * g.p + 1;
    float* xp = scratch(0, rows * Wp);
    pad_plane(x, g.H, g.W, g.p, xp, rows, Wp);
    dw_plane_s1(xp, Wp, w, g.k, b, y, g.Ho, g.Wo);
  } else {
    const int64_t Wp = g.W + 2 * g.p, rows = g.H + 2 * g.p;
    float* xp = scratch(0, rows * Wp);
    pad_plane(x, g.H, g.W, g.p, xp, rows, Wp);
    dw_plane_strided(xp, Wp, w, g.k, g.s, b, y, g.Ho, g.Wo);
  }
}

void dw_backward_dx_plane(const DwGeom& g, const float* dy, const float* w, float* dx) {
  if (g.s == 1 && g.p <= g.k - 1) {
    // A stride-1 correlation of dy padded by k-1-p with the flipped kernel.
    const int64_t q = g.k - 1 - g.p;
    const int64_t Wp = padded_width(g.W, g.k), rows = g.Ho + 2 * q + 1;
    float* dyp = scratch(0, rows * Wp);
    pad_plane(dy, g.Ho, g.Wo, q, dyp, rows, Wp);
    float* wf = scratch(1, g.k * g.k);
    for (int64_t i = 0; i < g.k * g.k; ++i) wf[i] = w[g.k * g.k - 1 - i];
    dw_plane_s1(dyp, Wp, wf, g.k, 0.0f, dx, g.H, g.W);
    return;
  }
  // Scatter into a padded buffer, then copy its interior.
  const int64_t Wp = g.W + 2 * g.p, rows = g.H + 2 * g.p;
  float* dxp = scratch(0, rows * Wp);
  std::memset(dxp, 0, sizeof(float) * rows * Wp);
  for (int64_t oy = 0; oy < g.Ho; ++oy)
    for (int64_t ky = 0; ky < g.k; ++ky) {
      float* xr = dxp + (oy * g.s + ky) * Wp;
      const float* dr = dy + oy * g.Wo;
      for (int64_t kx = 0; kx < g.k; ++kx) {
        const float wv = w[ky * g.k + kx];
        for (int64_t ox = 0; ox < g.Wo; ++ox) xr[ox * g.s + kx] += wv * dr[ox];
      }
    }
  for (int64_t y = 0; y < g.H; ++y)
    std::memcpy(dx + y * g.W, dxp + (y + g.p) * Wp + g.p, sizeof(float) * g.W);
}

float dw_backward_dw_plane(const DwGeom& g, const float* x, const float* dy, float* dw) {
  const int64_t k = g.k;
  if (g.s == 1) {
    const int64_t Wv = round_up16(g.Wo);
    const int64_t Wp = padded_width(g.Wo, k), rows = g.H + 2 * g.p + 1;
    float* xp = scratch(0, rows * Wp);
    pad_plane(x, g.H, g.W, g.p, xp, rows, Wp);
    float* dyp = scratch(1, g.Ho * Wv);  // dy rows padded with zeros to whole vectors
    pad_plane(dy, g.Ho, g.Wo, 0, dyp, g.Ho, Wv);
    switch (k) {
      case 3: dw_grad_w_k<3>(xp, Wp, dyp, Wv, g.Ho, dw); break;
      case 5: dw_grad_w_k<5>(xp, Wp, dyp, Wv, g.Ho, dw); break;
      case 7: dw_grad_w_k<7>(xp, Wp, dyp, Wv, g.Ho, dw); break;
      default: dw_grad_w_any(xp, Wp, dyp, Wv, g.Ho, k, dw);
    }
  } else {
    const int64_t Wp = g.W + 2 * g.p, rows = g.H + 2 * g.p;
    float* xp = scratch(0, rows * Wp);
    pad_plane(x, g.H, g.W, g.p, xp, rows, Wp);
    for (int64_t ky = 0; ky < k; ++ky)
      for (int64_t kx = 0; kx < k; ++kx) {
        float acc = 0;
        for (int64_t oy = 0; oy < g.Ho; ++oy) {
          const float* xr = xp + (oy * g.s + ky) * Wp + kx;
          const float* dr = dy + oy * g.Wo;
          for (int64_t ox = 0; ox < g.Wo; ++ox) acc += dr[ox] * xr[ox * g.s];
        }
        dw[ky * k + kx] = acc;
      }
  }
  V16 acc{};
  int64_t i = 0;
  const int64_t P = g.Ho * g.Wo;
  for (; i + kLanes <= P; i += kLanes) acc += load16(dy + i);
  float sum = hsum16(acc);
  for (; i < P; ++i) sum += dy[i];
  return sum;
}

}  // namespace fw::cpu
