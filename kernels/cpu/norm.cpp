// Normalisations: group_norm, layer_norm2d (over channels of NCHW, no transposes) and
// layer_norm (over the last dimension). Biased variance, as PyTorch.
//
// group_norm's parameters: weight if affine, bias if affine and bias.
// Saved for backward (slot 0), besides the input x:
//  - group_norm:   (B, G, 2)   mean, rstd of each (sample, group)
//  - layer_norm2d: (B, 2, H*W) mean row, then rstd row, of each pixel
//  - layer_norm:   (M, 2)      mean, rstd of each of the M = numel/C rows
// Backward: with x̂ = (x - mean)·rstd and g = dy·w, dx = rstd·(g - mean(g) - x̂·mean(g·x̂)) over
// the normalised set; dw = Σ dy·x̂, db = Σ dy. Statistics are accumulated in double from 16-lane
// float partial sums.
#include "kernels/cpu/common.h"
#include "kernels/cpu/simd.h"

namespace fw::cpu {
namespace {

// Affine parameters (weight, bias) as pointers; nullptr when absent.
struct Affine {
  const float* w = nullptr;
  const float* b = nullptr;
};

Affine affine_params(std::string_view op, const std::vector<const Tensor*>& params, int64_t C,
                     bool has_w, bool has_b) {
  Affine af;
  const size_t n = (has_w ? 1 : 0) + (has_b ? 1 : 0);
  require(params.size() >= n, op, "expects " + std::to_string(n) + " parameters, got " +
                                      std::to_string(params.size()));
  if (has_w) {
    require(params[0] != nullptr, op, "weight is not bound");
    expect_shape(op, "weight", *params[0], {C});
    af.w = params[0]->ptr();
  }
  if (has_b) {
    require(params[1] != nullptr, op, "bias is not bound");
    expect_shape(op, "bias", *params[1], {C});
    af.b = params[1]->ptr();
  }
  return af;
}

// Σ (x - shift) and Σ (x - shift)² over n floats, in double from float lanes.
void shifted_sums(const float* x, int64_t n, float shift, double& s1, double& s2) {
  V16 a1{}, a2{};
  const V16 sh = splat16(shift);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const V16 d = load16(x + i) - sh;
    a1 += d;
    a2 += d * d;
  }
  double r1 = 0, r2 = 0;
  for (int l = 0; l < kLanes; ++l) r1 += a1[l], r2 += a2[l];
  for (; i < n; ++i) {
    const double d = x[i] - shift;
    r1 += d, r2 += d * d;
  }
  s1 = r1, s2 = r2;
}

// Σ dy and Σ dy·x over n floats.
void grad_sums(const float* dy, const float* x, int64_t n, double& sd, double& sdx) {
  V16 a1{}, a2{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const V16 d = load16(dy + i);
    a1 += d;
    a2 += d * load16(x + i);
  }
  double r1 = 0, r2 = 0;
  for (int l = 0; l < kLanes; ++l) r1 += a1[l], r2 += a2[l];
  for (; i < n; ++i) r1 += dy[i], r2 += double(dy[i]) * x[i];
  sd = r1, sdx = r2;
}

// ---- group_norm -------------------------------------------------------------------------------------
struct GnGeom {
  int64_t B, C, S, G, Cg;
  double eps;
  bool affine, bias;  // weight if affine; bias if affine and bias (timm's GroupNorm1NoBias)
};

GnGeom gn_geom(const Attrs& a, const Shape& x) {
  constexpr std::string_view op = "group_norm";
  require(x.size() >= 2, op, "input is " + shape_str(x) + ", expected (B, C, ...)");
  GnGeom g{};
  g.B = x[0], g.C = x[1], g.S = numel(x) / std::max<int64_t>(1, g.B * g.C);
  g.G = attr_i(a, "groups", 1);
  g.eps = attr_f(a, "eps", 1e-5);
  g.affine = attr_b(a, "affine", true);
  g.bias = g.affine && attr_b(a, "bias", true);
  if (a.has("channels"))
    require(a.i("channels") == g.C, op, "expects " + std::to_string(a.i("channels")) +
                                            " channels, gets " + std::to_string(g.C));
  require(g.G >= 1 && g.C % g.G == 0, op,
          "groups " + std::to_string(g.G) + " must divide channels " + std::to_string(g.C));
  g.Cg = g.C / g.G;
  return g;
}

void group_norm_forward(const ForwardArgs& a) {
  constexpr std::string_view op = "group_norm";
  const Tensor& xt = *a.in.at(0);
  const GnGeom g = gn_geom(a.attrs, xt.shape);
  const Affine af = affine_params(op, a.params, g.C, g.affine, g.bias);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  const float* x = xt.ptr();
  float* y = yt.ptr();
  // Per-channel shifted sums (the shift is the group's first value), then per-group stats.
  std::vector<double> s1(g.B * g.C), s2(g.B * g.C);
  parallel_for(0, g.B * g.C, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t grp = t / g.Cg;  // (b*G + group)
      shifted_sums(x + t * g.S, g.S, x[grp * g.Cg * g.S], s1[t], s2[t]);
    }
  });
  Tensor local;
  Tensor& stats = saved_slot(a, 0) ? *saved_slot(a, 0) : local;
  resize(stats, {g.B, g.G, 2});
  const double n = double(g.Cg) * double(g.S);
  for (int64_t bg = 0; bg < g.B * g.G; ++bg) {
    double a1 = 0, a2 = 0;
    for (int64_t c = 0; c < g.Cg; ++c) a1 += s1[bg * g.Cg + c], a2 += s2[bg * g.Cg + c];
    const double m = a1 / n, var = std::max(0.0, a2 / n - m * m);
    stats.data[bg * 2] = static_cast<float>(x[bg * g.Cg * g.S] + m);
    stats.data[bg * 2 + 1] = static_cast<float>(1.0 / std::sqrt(var + g.eps));
  }
  parallel_for(0, g.B * g.C, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t c = t % g.C, bg = t / g.Cg;
      const float mean = stats.data[bg * 2], rstd = stats.data[bg * 2 + 1];
      const float A = rstd * (af.w ? af.w[c] : 1.0f);
      const float Bc = (af.b ? af.b[c] : 0.0f) - mean * A;
      const float* xp = x + t * g.S;
      float* yp = y + t * g.S;
      for (int64_t i = 0; i < g.S; ++i) yp[i] = xp[i] * A + Bc;
    }
  });
}

void group_norm_backward(const BackwardArgs& a) {
  constexpr std::string_view op = "group_norm";
  const Shape& xs = in_shape(a, 0);
  const GnGeom g = gn_geom(a.attrs, xs);
  const Tensor& xt = need_in(a, 0, op);
  const Tensor& stats = need_saved(a, 0, op);
  expect_shape(op, "saved statistics", stats, {g.B, g.G, 2});
  const Tensor& dyt = *a.dout.at(0);
  expect_shape(op, "output gradient", dyt, xs);
  const Affine af = affine_params(op, a.params, g.C, g.affine, g.bias);
  const float* x = xt.ptr();
  const float* dy = dyt.ptr();
  std::vector<double> sd(g.B * g.C), sdx(g.B * g.C);
  parallel_for(0, g.B * g.C, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) grad_sums(dy + t * g.S, x + t * g.S, g.S, sd[t], sdx[t]);
  });
  auto mean_of = [&](int64_t bg) { return double(stats.data[bg * 2]); };
  auto rstd_of = [&](int64_t bg) { return double(stats.data[bg * 2 + 1]); };
  if (Tensor* dxt = want_din(a, 0)) {
    resize(*dxt, xs);
    float* dx = dxt->ptr();
    const double n = double(g.Cg) * double(g.S);
    // Per (sample, group): m1 = mean(g), m2 = mean(g·x̂).
    std::vector<double> m1(g.B * g.G), m2(g.B * g.G);
    for (int64_t bg = 0; bg < g.B * g.G; ++bg) {
      double a1 = 0, a2 = 0;
      for (int64_t ci = 0; ci < g.Cg; ++ci) {
        const int64_t t = bg * g.Cg + ci, c = t % g.C;
        const double w = af.w ? af.w[c] : 1.0;
        a1 += w * sd[t];
        a2 += w * (sdx[t] - mean_of(bg) * sd[t]) * rstd_of(bg);
      }
      m1[bg] = a1 / n, m2[bg] = a2 / n;
    }
    parallel_for(0, g.B * g.C, 4, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t c = t % g.C, bg = t / g.Cg;
        const double r = rstd_of(bg), mu = mean_of(bg);
        // dx = (r·w) dy + (-r²·m2) x + (r²·m2·mu - r·m1)
        const float A = static_cast<float>(r * (af.w ? af.w[c] : 1.0));
        const float Bx = static_cast<float>(-r * r * m2[bg]);
        const float Cc = static_cast<float>(r * r * m2[bg] * mu - r * m1[bg]);
        const float* d = dy + t * g.S;
        const float* xp = x + t * g.S;
        float* o = dx + t * g.S;
        for (int64_t i = 0; i < g.S; ++i) o[i] = A * d[i] + Bx * xp[i] + Cc;
      }
    });
  }
  Tensor* dwt = g.affine ? want_dparam(a, 0) : nullptr;
  Tensor* dbt = g.bias ? want_dparam(a, 1) : nullptr;
  if (dwt) resize(*dwt, {g.C});
  if (dbt) resize(*dbt, {g.C});
  for (int64_t c = 0; c < g.C && (dwt || dbt); ++c) {
    double w = 0, b = 0;
    for (int64_t bi = 0; bi < g.B; ++bi) {
      const int64_t t = bi * g.C + c, bg = t / g.Cg;
      w += (sdx[t] - mean_of(bg) * sd[t]) * rstd_of(bg);
      b += sd[t];
    }
    if (dwt) dwt->data[c] = static_cast<float>(w);
    if (dbt) dbt->data[c] = static_cast<float>(b);
  }
}

// ---- layer_norm2d -----------------------------------------------------------------------------------
struct Ln2Geom {
  int64_t B, C, S;
  double eps;
  bool bias;
};

Ln2Geom ln2_geom(const Attrs& a, const Shape& x) {
  constexpr std::string_view op = "layer_norm2d";
  require(x.size() == 4, op, "input is " + shape_str(x) + ", expected (B, C, H, W)");
  Ln2Geom g{x[0], x[1], x[2] * x[3], attr_f(a, "eps", 1e-6), attr_b(a, "bias", true)};
  if (a.has("channels"))
    require(a.i("channels") == g.C, op, "expects " + std::to_string(a.i("channels")) +
                                            " channels, gets " + std::to_string(g.C));
  return g;
}

// Pixels per task: the (C x tile) block stays around 64 KB.
int64_t ln2_tile(int64_t C, int64_t S) {
  const int64_t t = std::max<int64_t>(16, (16 * 1024 / std::max<int64_t>(1, C)) / 16 * 16);
  return std::min(S, std::min<int64_t>(t, 512));
}

void layer_norm2d_forward(const ForwardArgs& a) {
  constexpr std::string_view op = "layer_norm2d";
  const Tensor& xt = *a.in.at(0);
  const Ln2Geom g = ln2_geom(a.attrs, xt.shape);
  const Affine af = affine_params(op, a.params, g.C, true, g.bias);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  Tensor* stats = saved_slot(a, 0);
  if (stats) resize(*stats, {g.B, 2, g.S});
  const int64_t T = ln2_tile(g.C, g.S), nt = (g.S + T - 1) / T;
  const float* x = xt.ptr();
  float* y = yt.ptr();
  const float invC = 1.0f / static_cast<float>(g.C);
  parallel_for(0, g.B * nt, 1, [&](int64_t lo, int64_t hi) {
    float* mean = scratch(0, T);
    float* rstd = scratch(1, T);
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t b = task / nt, p0 = (task % nt) * T, n = std::min(T, g.S - p0);
      const float* xb = x + b * g.C * g.S + p0;
      float* yb = y + b * g.C * g.S + p0;
      std::fill(mean, mean + n, 0.0f);
      for (int64_t c = 0; c < g.C; ++c) {
        const float* xr = xb + c * g.S;
        for (int64_t i = 0; i < n; ++i) mean[i] += xr[i];
      }
      for (int64_t i = 0; i < n; ++i) mean[i] *= invC;
      std::fill(rstd, rstd + n, 0.0f);
      for (int64_t c = 0; c < g.C; ++c) {
        const float* xr = xb + c * g.S;
        for (int64_t i = 0; i < n; ++i) {
          const float d = xr[i] - mean[i];
          rstd[i] += d * d;
        }
      }
      const float eps = static_cast<float>(g.eps);
      for (int64_t i = 0; i < n; ++i) rstd[i] = 1.0f / std::sqrt(rstd[i] * invC + eps);
      for (int64_t c = 0; c < g.C; ++c) {
        const float* xr = xb + c * g.S;
        float* yr = yb + c * g.S;
        const float w = af.w[c], bb = af.b ? af.b[c] : 0.0f;
        for (int64_t i = 0; i < n; ++i) yr[i] = (xr[i] - mean[i]) * rstd[i] * w + bb;
      }
      if (stats) {
        std::copy(mean, mean + n, stats->ptr() + b * 2 * g.S + p0);
        std::copy(rstd, rstd + n, stats->ptr() + (b * 2 + 1) * g.S + p0);
      }
    }
  });
}

void layer_norm2d_backward(const BackwardArgs& a) {
  constexpr std::string_view op = "layer_norm2d";
  const Shape& xs = in_shape(a, 0);
  const Ln2Geom g = ln2_geom(a.attrs, xs);
  const Tensor& xt = need_in(a, 0, op);
  const Tensor& stats = need_saved(a, 0, op);
  expect_shape(op, "saved statistics", stats, {g.B, 2, g.S});
  const Tensor& dyt = *a.dout.at(0);
  expect_shape(op, "output gradient", dyt, xs);
  const Affine af = affine_params(op, a.params, g.C, true, g.bias);
  Tensor* dxt = want_din(a, 0);
  Tensor* dwt = want_dparam(a, 0);
  Tensor* dbt = g.bias ? want_dparam(a, 1) : nullptr;
  if (dxt) resize(*dxt, xs);
  const int64_t T = ln2_tile(g.C, g.S), nt = (g.S + T - 1) / T;
  const int64_t chunks = num_chunks(g.B * nt, 1);
  std::vector<float> pw(chunks * g.C, 0.0f), pb(chunks * g.C, 0.0f);
  const float* x = xt.ptr();
  const float* dy = dyt.ptr();
  const float invC = 1.0f / static_cast<float>(g.C);
  parallel_chunks(g.B * nt, 1, [&](int64_t chunk, int64_t lo, int64_t hi) {
    float* m1 = scratch(0, T);
    float* m2 = scratch(1, T);
    float* cw = &pw[chunk * g.C];
    float* cb = &pb[chunk * g.C];
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t b = task / nt, p0 = (task % nt) * T, n = std::min(T, g.S - p0);
      const float* mean = stats.ptr() + b * 2 * g.S + p0;
      const float* rstd = stats.ptr() + (b * 2 + 1) * g.S + p0;
      const float* xb = x + b * g.C * g.S + p0;
      const float* db = dy + b * g.C * g.S + p0;
      std::fill(m1, m1 + n, 0.0f);
      std::fill(m2, m2 + n, 0.0f);
      for (int64_t c = 0; c < g.C; ++c) {
        const float* xr = xb + c * g.S;
        const float* dr = db + c * g.S;
        const float w = af.w[c];
        float sw = 0, sb = 0;
#pragma omp simd reduction(+ : sw, sb)
        for (int64_t i = 0; i < n; ++i) {
          const float xh = (xr[i] - mean[i]) * rstd[i];
          const float gw = dr[i] * w;
          m1[i] += gw;
          m2[i] += gw * xh;
          sw += dr[i] * xh;
          sb += dr[i];
        }
        cw[c] += sw;
        cb[c] += sb;
      }
      if (!dxt) continue;
      float* ob = dxt->ptr() + b * g.C * g.S + p0;
      for (int64_t i = 0; i < n; ++i) m1[i] *= invC, m2[i] *= invC;
      for (int64_t c = 0; c < g.C; ++c) {
        const float* xr = xb + c * g.S;
        const float* dr = db + c * g.S;
        float* o = ob + c * g.S;
        const float w = af.w[c];
        for (int64_t i = 0; i < n; ++i) {
          const float xh = (xr[i] - mean[i]) * rstd[i];
          o[i] = rstd[i] * (dr[i] * w - m1[i] - xh * m2[i]);
        }
      }
    }
  });
  for (auto [t, parts] : {std::pair{dwt, &pw}, std::pair{dbt, &pb}}) {
    if (!t) continue;
    resize(*t, {g.C});
    for (int64_t c = 0; c < g.C; ++c) {
      float s = 0;
      for (int64_t k = 0; k < chunks; ++k) s += (*parts)[k * g.C + c];
      t->data[c] = s;
    }
  }
}

// ---- layer_norm (last dimension) --------------------------------------------------------------------
struct LnGeom {
  int64_t M, C;
  double eps;
  bool bias;
};

LnGeom ln_geom(const Attrs& a, const Shape& x) {
  constexpr std::string_view op = "layer_norm";
  require(x.size() >= 2, op, "input is " + shape_str(x) + ", expected (B, ..., C)");
  LnGeom g{0, x.back(), attr_f(a, "eps", 1e-6), attr_b(a, "bias", true)};
  g.M = numel(x) / std::max<int64_t>(1, g.C);
  if (a.has("channels"))
    require(a.i("channels") == g.C, op, "expects " + std::to_string(a.i("channels")) +
                                            " channels, gets " + std::to_string(g.C));
  return g;
}

void layer_norm_forward(const ForwardArgs& a) {
  constexpr std::string_view op = "layer_norm";
  const Tensor& xt = *a.in.at(0);
  const LnGeom g = ln_geom(a.attrs, xt.shape);
  const Affine af = affine_params(op, a.params, g.C, true, g.bias);
  Tensor& yt = *a.out.at(0);
  resize(yt, xt.shape);
  Tensor* stats = saved_slot(a, 0);
  if (stats) resize(*stats, {g.M, 2});
  const float* x = xt.ptr();
  float* y = yt.ptr();
  const double eps = g.eps;
  parallel_for(0, g.M, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const float* xr = x + r * g.C;
      float* yr = y + r * g.C;
      double s1, s2;
      shifted_sums(xr, g.C, xr[0], s1, s2);
      const double m = s1 / g.C, var = std::max(0.0, s2 / g.C - m * m);
      const float mean = static_cast<float>(xr[0] + m);
      const float rstd = static_cast<float>(1.0 / std::sqrt(var + eps));
      if (af.b) {
        for (int64_t c = 0; c < g.C; ++c) yr[c] = (xr[c] - mean) * rstd * af.w[c] + af.b[c];
      } else {
        for (int64_t c = 0; c < g.C; ++c) yr[c] = (xr[c] - mean) * rstd * af.w[c];
      }
      if (stats) stats->data[r * 2] = mean, stats->data[r * 2 + 1] = rstd;
    }
  });
}

void layer_norm_backward(const BackwardArgs& a) {
  constexpr std::string_view op = "layer_norm";
  const Shape& xs = in_shape(a, 0);
  const LnGeom g = ln_geom(a.attrs, xs);
  const Tensor& xt = need_in(a, 0, op);
  const Tensor& stats = need_saved(a, 0, op);
  expect_shape(op, "saved statistics", stats, {g.M, 2});
  const Tensor& dyt = *a.dout.at(0);
  expect_shape(op, "output gradient", dyt, xs);
  const Affine af = affine_params(op, a.params, g.C, true, g.bias);
  Tensor* dxt = want_din(a, 0);
  Tensor* dwt = want_dparam(a, 0);
  Tensor* dbt = g.bias ? want_dparam(a, 1) : nullptr;
  if (dxt) resize(*dxt, xs);
  const int64_t chunks = num_chunks(g.M, 16);
  std::vector<float> pw(chunks * g.C, 0.0f), pb(chunks * g.C, 0.0f);
  const float* x = xt.ptr();
  const float* dy = dyt.ptr();
  const float invC = 1.0f / static_cast<float>(g.C);
  const float* w = af.w;
  const float* st = stats.ptr();
  float* dx = dxt ? dxt->ptr() : nullptr;
  parallel_chunks(g.M, 16, [&, x, dy, w, st, dx](int64_t chunk, int64_t lo, int64_t hi) {
    float* cw = &pw[chunk * g.C];
    float* cb = &pb[chunk * g.C];
    const int64_t C = g.C;
    for (int64_t r = lo; r < hi; ++r) {
      const float mean = st[r * 2], rstd = st[r * 2 + 1];
      const float* xr = x + r * C;
      const float* dr = dy + r * C;
      V16 v1{}, v2{};
      int64_t c = 0;
      for (; c + kLanes <= C; c += kLanes) {
        const V16 d = load16(dr + c);
        const V16 xh = (load16(xr + c) - mean) * rstd;
        const V16 gw = d * load16(w + c);
        v1 += gw;
        v2 += gw * xh;
        store16(cw + c, load16(cw + c) + d * xh);
        store16(cb + c, load16(cb + c) + d);
      }
      float m1 = hsum16(v1), m2 = hsum16(v2);
      for (; c < C; ++c) {
        const float xh = (xr[c] - mean) * rstd;
        const float gw = dr[c] * w[c];
        m1 += gw;
        m2 += gw * xh;
        cw[c] += dr[c] * xh;
        cb[c] += dr[c];
      }
      if (!dx) continue;
      m1 *= invC, m2 *= invC;
      float* o = dx + r * C;
      for (int64_t c = 0; c < C; ++c) {
        const float xh = (xr[c] - mean) * rstd;
        o[c] = rstd * (dr[c] * w[c] - m1 - xh * m2);
      }
    }
  });
  for (auto [t, parts] : {std::pair{dwt, &pw}, std::pair{dbt, &pb}}) {
    if (!t) continue;
    resize(*t, {g.C});
    for (int64_t c = 0; c < g.C; ++c) {
      float s = 0;
      for (int64_t k = 0; k < chunks; ++k) s += (*parts)[k * g.C + c];
      t->data[c] = s;
    }
  }
}

constexpr const char* kGnSaved = "(B, groups, 2): mean and 1/std of each (sample, group)";
constexpr const char* kLn2Saved = "(B, 2, H*W): mean row and 1/std row of each pixel";
constexpr const char* kLnSaved = "(rows, 2): mean and 1/std of each row";

}  // namespace

const CpuKernel kGroupNorm = {"group_norm", needs_input0, 1, kGnSaved, group_norm_forward,
                              group_norm_backward, never_identity};
const CpuKernel kLayerNorm2d = {"layer_norm2d", needs_input0, 1, kLn2Saved,
                                layer_norm2d_forward, layer_norm2d_backward, never_identity};
const CpuKernel kLayerNorm = {"layer_norm", needs_input0, 1, kLnSaved, layer_norm_forward,
                              layer_norm_backward, never_identity};

}  // namespace fw::cpu
