// Device programs of the normalisations (kernels/cpu/norm.cpp on the CPU): group_norm,
// layer_norm2d and layer_norm. Same attributes, parameters, needs() (input 0) and saved slot
// (one: the CPU's statistics layout), biased variance. No atomics: every sum is a block
// reduction or a fixed-order loop, so results are deterministic.
//  - group_norm:   stats per (b, c) plane (Welford per thread, merged across the block with
//                  Chan's formula: one read of x), merged per (b, group); y by one block per
//                  plane (per-plane constants, no index division per element). Backward:
//                  Σ dy and Σ dy·x̂ per plane, per-group means, dx per plane; dweight/dbias sum
//                  the plane sums over b.
//  - layer_norm2d: one thread per (b, pixel) walking the C channels (coalesced across pixels),
//                  Welford over C (one read of x for the statistics); backward the same way.
//                  dweight/dbias: block sums over (channel, b, chunk of pixels), then per channel.
//  - layer_norm:   one block per row: mean, then the variance of the centred row (the row stays
//                  in cache), then y. Backward per row with two block sums; dweight/dbias by
//                  one thread per (row chunk, channel) (coalesced), then a block per channel.
// Saved slot 0 (when given): group_norm (B, G, 2) mean, rstd; layer_norm2d (B, 2, H*W) mean row,
// rstd row; layer_norm (M, 2) mean, rstd. Without a slot forward keeps them in a Scratch.
#pragma once
#include "kernels/cuda/ops.h"

namespace fw::gpu {
namespace norm {

FW_HD int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// ---- host-side checks (the CPU kernels' own) ---------------------------------------------------
struct Affine {
  const float* w = nullptr;
  const float* b = nullptr;
};

inline Affine affine_params(std::string_view op, const std::vector<const DTensor*>& params,
                            int64_t C, bool has_w, bool has_b) {
  Affine af;
  const size_t n = (has_w ? 1 : 0) + (has_b ? 1 : 0);
  require(params.size() >= n, op,
          "expects " + std::to_string(n) + " parameters, got " + std::to_string(params.size()));
  if (has_w) {
    require(params[0] != nullptr, op, "weight is not bound");
    expect_dshape(op, "weight", *params[0], {C});
    af.w = params[0]->p;
  }
  if (has_b) {
    require(params[1] != nullptr, op, "bias is not bound");
    expect_dshape(op, "bias", *params[1], {C});
    af.b = params[1]->p;
  }
  return af;
}

inline void check_channels(std::string_view op, const Attrs& a, int64_t C) {
  if (a.has("channels"))
    require(a.i("channels") == C, op,
            "expects " + std::to_string(a.i("channels")) + " channels, gets " + std::to_string(C));
}

// ---- group_norm
// ----------------------------------------------------------------------------------
struct GnGeom {
  int64_t B, C, S, G, Cg;
  float eps;
  bool affine, bias;
};

inline GnGeom gn_geom(const Attrs& a, const Shape& x) {
  constexpr std::string_view op = "group_norm";
  require(x.size() >= 2, op, "input is " + shape_str(x) + ", expected (B, C, ...)");
  GnGeom g{};
  g.B = x[0], g.C = x[1], g.S = numel(x) / std::max<int64_t>(1, g.B * g.C);
  g.G = attr_i(a, "groups", 1);
  g.eps = static_cast<float>(attr_f(a, "eps", 1e-5));
  g.affine = attr_b(a, "affine", true);
  g.bias = g.affine && attr_b(a, "bias", true);
  check_channels(op, a, g.C);
  require(g.G >= 1 && g.C % g.G == 0, op,
          "groups " + std::to_string(g.G) + " must divide channels " + std::to_string(g.C));
  g.Cg = g.C / g.G;
  return g;
}

// Plane t (S values at x + t·S): mean[t] and m2[t] = Σ (x - mean)². Each thread runs Welford
// over its values; the block merges them (Chan): mean = Σ n_i·mean_i / S,
// m2 = Σ (m2_i + n_i·(mean_i - mean)²).
struct PlaneMoments {
  const float* x;
  int64_t S;
  float *mean, *m2;
  template <class C>
  FW_HD void operator()(int64_t t, C& c) const {
    const float* p = x + t * S;
    float n = 0.0f, mu = 0.0f, q = 0.0f;
    for (int64_t j = c.tid; j < S; j += c.threads) {
      const float v = p[j];
      n += 1.0f;
      const float d = v - mu;
      mu += d / n;
      q += d * (v - mu);
    }
    const float m = c.sum(n * mu) / static_cast<float>(S);
    const float dm = mu - m;
    const float M2 = c.sum(q + n * dm * dm);
    if (c.tid == 0) mean[t] = m, m2[t] = M2;
  }
};

// Group bg (planes bg·Cg .. bg·Cg + Cg - 1, S values each): stats[2bg] = mean,
// stats[2bg + 1] = 1/sqrt(var + eps).
struct GroupStats {
  const float *mean, *m2;
  int64_t Cg, S;
  float eps;
  float* stats;
  template <class C>
  FW_HD void operator()(int64_t bg, C& c) const {
    const float* pm = mean + bg * Cg;
    const float* pq = m2 + bg * Cg;
    float s = 0.0f;
    for (int64_t j = c.tid; j < Cg; j += c.threads) s += pm[j];
    const float m = c.sum(s) / static_cast<float>(Cg);
    float q = 0.0f;
    const float fs = static_cast<float>(S);
    for (int64_t j = c.tid; j < Cg; j += c.threads) {
      const float d = pm[j] - m;
      q += pq[j] + fs * d * d;
    }
    const float var = c.sum(q) / (static_cast<float>(Cg) * fs);
    if (c.tid == 0) {
      stats[2 * bg] = m;
      stats[2 * bg + 1] = 1.0f / sqrtf(fmaxf(var, 0.0f) + eps);
    }
  }
};

// y = x·A + B on plane t, A = rstd·w[c], B = b[c] - mean·A.
struct GnApply {
  const float *x, *stats, *w, *b;
  float* y;
  int64_t C, S, Cg;
  template <class Ctx>
  FW_HD void operator()(int64_t t, Ctx& c) const {
    const int64_t ch = t % C, bg = t / Cg;
    const float mean = stats[2 * bg], rstd = stats[2 * bg + 1];
    const float A = rstd * (w ? w[ch] : 1.0f);
    const float Bc = (b ? b[ch] : 0.0f) - mean * A;
    const float* xp = x + t * S;
    float* yp = y + t * S;
    for (int64_t j = c.tid; j < S; j += c.threads) yp[j] = xp[j] * A + Bc;
  }
};

// Plane t: sd[t] = Σ dy, sx[t] = Σ dy·x̂.
struct GnPlaneGrad {
  const float *x, *dy, *stats;
  int64_t S, Cg;
  float *sd, *sx;
  template <class C>
  FW_HD void operator()(int64_t t, C& c) const {
    const int64_t bg = t / Cg;
    const float mean = stats[2 * bg], rstd = stats[2 * bg + 1];
    const float* xp = x + t * S;
    const float* dp = dy + t * S;
    float a1 = 0.0f, a2 = 0.0f;
    for (int64_t j = c.tid; j < S; j += c.threads) {
      const float d = dp[j];
      a1 += d;
      a2 += d * ((xp[j] - mean) * rstd);
    }
    a1 = c.sum(a1);
    a2 = c.sum(a2);
    if (c.tid == 0) sd[t] = a1, sx[t] = a2;
  }
};

// Group bg: coef[2bg] = mean(dy·w), coef[2bg + 1] = mean(dy·w·x̂) over the group's Cg·S values.
struct GnGroupCoef {
  const float *sd, *sx, *w;
  int64_t C, Cg, S;
  float* coef;
  template <class Ctx>
  FW_HD void operator()(int64_t bg, Ctx& c) const {
    float a1 = 0.0f, a2 = 0.0f;
    for (int64_t j = c.tid; j < Cg; j += c.threads) {
      const int64_t t = bg * Cg + j;
      const float wc = w ? w[t % C] : 1.0f;
      a1 += wc * sd[t];
      a2 += wc * sx[t];
    }
    const float inv = 1.0f / (static_cast<float>(Cg) * static_cast<float>(S));
    a1 = c.sum(a1) * inv;
    a2 = c.sum(a2) * inv;
    if (c.tid == 0) coef[2 * bg] = a1, coef[2 * bg + 1] = a2;
  }
};

// dx = rstd·(dy·w - m1 - x̂·m2) on plane t.
struct GnDx {
  const float *x, *dy, *stats, *coef, *w;
  float* dx;
  int64_t C, S, Cg;
  template <class Ctx>
  FW_HD void operator()(int64_t t, Ctx& c) const {
    const int64_t ch = t % C, bg = t / Cg;
    const float mean = stats[2 * bg], rstd = stats[2 * bg + 1];
    const float m1 = coef[2 * bg], m2 = coef[2 * bg + 1];
    const float wc = w ? w[ch] : 1.0f;
    const float* xp = x + t * S;
    const float* dp = dy + t * S;
    float* o = dx + t * S;
    for (int64_t j = c.tid; j < S; j += c.threads) {
      const float xh = (xp[j] - mean) * rstd;
      o[j] = rstd * (dp[j] * wc - m1 - xh * m2);
    }
  }
};

// Channel ch: dw[ch] = Σ_b sx[b·C + ch], db[ch] = Σ_b sd[b·C + ch] (either may be nullptr).
struct GnParams {
  const float *sd, *sx;
  int64_t B, C;
  float *dw, *db;
  FW_HD void operator()(int64_t ch) const {
    float w = 0.0f, b = 0.0f;
    for (int64_t i = 0; i < B; ++i) w += sx[i * C + ch], b += sd[i * C + ch];
    if (dw) dw[ch] = w;
    if (db) db[ch] = b;
  }
};

template <class D>
void group_norm_fwd(const Fwd<D>& a) {
  constexpr std::string_view op = "group_norm";
  const DTensor& x = *a.in.at(0);
  const GnGeom g = gn_geom(a.attrs, x.shape);
  const Affine af = affine_params(op, a.params, g.C, g.affine, g.bias);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  const int64_t planes = g.B * g.C;
  DTensor* slot = saved_slot(a, 0);
  if (slot) a.dev.resize(*slot, {g.B, g.G, 2});
  Scratch<D> tmp(a.dev, static_cast<size_t>(2 * planes + (slot ? 0 : 2 * g.B * g.G)));
  float* pm = tmp.get();
  float* pq = pm + planes;
  float* stats = slot ? slot->p : pq + planes;
  if (planes == 0 || g.S == 0) return;
  a.dev.launch_rows(planes, g.S, PlaneMoments{x.p, g.S, pm, pq});
  a.dev.launch_rows(g.B * g.G, g.Cg, GroupStats{pm, pq, g.Cg, g.S, g.eps, stats});
  a.dev.launch_rows(planes, g.S, GnApply{x.p, stats, af.w, af.b, y.p, g.C, g.S, g.Cg});
}

template <class D>
void group_norm_bwd(const Bwd<D>& a) {
  constexpr std::string_view op = "group_norm";
  const Shape& xs = a.in_shapes.at(0);
  const GnGeom g = gn_geom(a.attrs, xs);
  const DTensor& x = need_in(a, 0, op);
  const DTensor& stats = need_saved(a, 0, op);
  expect_dshape(op, "saved statistics", stats, {g.B, g.G, 2});
  const DTensor& dy = dout0(a, op, xs);
  const Affine af = affine_params(op, a.params, g.C, g.affine, g.bias);
  DTensor* dx = want_din(a, 0);
  DTensor* dw = g.affine ? want_dparam(a, 0) : nullptr;
  DTensor* db = g.bias ? want_dparam(a, 1) : nullptr;
  if (dx) a.dev.resize(*dx, xs);
  if (dw) a.dev.resize(*dw, {g.C});
  if (db) a.dev.resize(*db, {g.C});
  if (!dx && !dw && !db) return;
  const int64_t planes = g.B * g.C;
  if (planes == 0) return;
  if (g.S == 0) {  // no values: every gradient is zero
    if (dw) a.dev.zero(dw->p, static_cast<size_t>(g.C));
    if (db) a.dev.zero(db->p, static_cast<size_t>(g.C));
    return;
  }
  Scratch<D> tmp(a.dev, static_cast<size_t>(2 * planes + 2 * g.B * g.G));
  float* sd = tmp.get();
  float* sx = sd + planes;
  float* coef = sx + planes;
  a.dev.launch_rows(planes, g.S, GnPlaneGrad{x.p, dy.p, stats.p, g.S, g.Cg, sd, sx});
  if (dx) {
    a.dev.launch_rows(g.B * g.G, g.Cg, GnGroupCoef{sd, sx, af.w, g.C, g.Cg, g.S, coef});
    a.dev.launch_rows(planes, g.S, GnDx{x.p, dy.p, stats.p, coef, af.w, dx->p, g.C, g.S, g.Cg});
  }
  if (dw || db)
    a.dev.launch(g.C, GnParams{sd, sx, g.B, g.C, dw ? dw->p : nullptr, db ? db->p : nullptr});
}

// ---- layer_norm2d
// --------------------------------------------------------------------------------
struct Ln2Geom {
  int64_t B, C, S;
  float eps;
  bool bias;
};

inline Ln2Geom ln2_geom(const Attrs& a, const Shape& x) {
  constexpr std::string_view op = "layer_norm2d";
  require(x.size() == 4, op, "input is " + shape_str(x) + ", expected (B, C, H, W)");
  Ln2Geom g{x[0], x[1], x[2] * x[3], static_cast<float>(attr_f(a, "eps", 1e-6)),
            attr_b(a, "bias", true)};
  check_channels(op, a, g.C);
  return g;
}

// Pixel i = (b, p): Welford over the C channels (stride S), then y; stats (B, 2, S).
struct Ln2Fwd {
  const float *x, *w, *b;
  float *y, *stats;
  int64_t C, S;
  float eps;
  FW_HD void operator()(int64_t i) const {
    const int64_t bi = i / S, p = i - bi * S;
    const float* xp = x + bi * C * S + p;
    float mu = 0.0f, q = 0.0f;
    for (int64_t c = 0; c < C; ++c) {
      const float v = xp[c * S];
      const float d = v - mu;
      mu += d / static_cast<float>(c + 1);
      q += d * (v - mu);
    }
    const float rstd = 1.0f / sqrtf(q / static_cast<float>(C) + eps);
    float* yp = y + bi * C * S + p;
    for (int64_t c = 0; c < C; ++c) yp[c * S] = (xp[c * S] - mu) * rstd * w[c] + (b ? b[c] : 0.0f);
    stats[bi * 2 * S + p] = mu;
    stats[(bi * 2 + 1) * S + p] = rstd;
  }
};

// Pixel i = (b, p): m1 = mean_c(dy·w), m2 = mean_c(dy·w·x̂), dx = rstd·(dy·w - m1 - x̂·m2).
struct Ln2Dx {
  const float *x, *dy, *stats, *w;
  float* dx;
  int64_t C, S;
  FW_HD void operator()(int64_t i) const {
    const int64_t bi = i / S, p = i - bi * S;
    const float mean = stats[bi * 2 * S + p], rstd = stats[(bi * 2 + 1) * S + p];
    const int64_t base = bi * C * S + p;
    float m1 = 0.0f, m2 = 0.0f;
    for (int64_t c = 0; c < C; ++c) {
      const float gw = dy[base + c * S] * w[c];
      m1 += gw;
      m2 += gw * ((x[base + c * S] - mean) * rstd);
    }
    const float invC = 1.0f / static_cast<float>(C);
    m1 *= invC, m2 *= invC;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t k = base + c * S;
      const float xh = (x[k] - mean) * rstd;
      dx[k] = rstd * (dy[k] * w[c] - m1 - xh * m2);
    }
  }
};

// Row r = (ch·B + b)·K + k: Σ dy·x̂ and Σ dy over pixels [k·chunk, min(S, (k+1)·chunk)) of channel
// ch of sample b, into pw[r], pb[r] (pb may be nullptr).
struct Ln2ParamPart {
  const float *x, *dy, *stats;
  int64_t B, C, S, K, chunk;
  float *pw, *pb;
  template <class Ctx>
  FW_HD void operator()(int64_t r, Ctx& c) const {
    const int64_t k = r % K, cb = r / K, bi = cb % B, ch = cb / B;
    const int64_t lo = k * chunk, hi = min64(S, lo + chunk);
    const float* xp = x + (bi * C + ch) * S;
    const float* dp = dy + (bi * C + ch) * S;
    const float* mean = stats + bi * 2 * S;
    const float* rstd = mean + S;
    float sw = 0.0f, sb = 0.0f;
    for (int64_t j = lo + c.tid; j < hi; j += c.threads) {
      const float d = dp[j];
      sw += d * ((xp[j] - mean[j]) * rstd[j]);
      sb += d;
    }
    sw = c.sum(sw);
    sb = c.sum(sb);
    if (c.tid == 0) {
      pw[r] = sw;
      if (pb) pb[r] = sb;
    }
  }
};

template <class D>
void layer_norm2d_fwd(const Fwd<D>& a) {
  constexpr std::string_view op = "layer_norm2d";
  const DTensor& x = *a.in.at(0);
  const Ln2Geom g = ln2_geom(a.attrs, x.shape);
  const Affine af = affine_params(op, a.params, g.C, true, g.bias);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  DTensor* slot = saved_slot(a, 0);
  if (slot) a.dev.resize(*slot, {g.B, 2, g.S});
  Scratch<D> tmp(a.dev, slot ? 1 : static_cast<size_t>(2 * g.B * g.S));
  if (g.C == 0) return;
  a.dev.launch(g.B * g.S,
               Ln2Fwd{x.p, af.w, af.b, y.p, slot ? slot->p : tmp.get(), g.C, g.S, g.eps});
}

template <class D>
void layer_norm2d_bwd(const Bwd<D>& a) {
  constexpr std::string_view op = "layer_norm2d";
  const Shape& xs = a.in_shapes.at(0);
  const Ln2Geom g = ln2_geom(a.attrs, xs);
  const DTensor& x = need_in(a, 0, op);
  const DTensor& stats = need_saved(a, 0, op);
  expect_dshape(op, "saved statistics", stats, {g.B, 2, g.S});
  const DTensor& dy = dout0(a, op, xs);
  const Affine af = affine_params(op, a.params, g.C, true, g.bias);
  DTensor* dx = want_din(a, 0);
  DTensor* dw = want_dparam(a, 0);
  DTensor* db = g.bias ? want_dparam(a, 1) : nullptr;
  if (dx) {
    a.dev.resize(*dx, xs);
    if (g.C > 0) a.dev.launch(g.B * g.S, Ln2Dx{x.p, dy.p, stats.p, af.w, dx->p, g.C, g.S});
  }
  if (!dw && !db) return;
  if (g.B * g.S == 0) {
    for (DTensor* t : {dw, db}) {
      if (!t) continue;
      a.dev.resize(*t, {g.C});
      a.dev.zero(t->p, static_cast<size_t>(g.C));
    }
    return;
  }
  constexpr int64_t kChunk = 4096;
  const int64_t K = (g.S + kChunk - 1) / kChunk, per = g.B * K, rows = g.C * per;
  Scratch<D> part(a.dev, static_cast<size_t>(2 * rows));
  float* pw = part.get();
  float* pb = db ? pw + rows : nullptr;
  a.dev.launch_rows(rows, std::min(g.S, kChunk),
                    Ln2ParamPart{x.p, dy.p, stats.p, g.B, g.C, g.S, K, kChunk, pw, pb});
  if (dw) {
    a.dev.resize(*dw, {g.C});
    a.dev.launch_rows(g.C, per, RowSum{pw, per, dw->p});
  }
  if (db) {
    a.dev.resize(*db, {g.C});
    a.dev.launch_rows(g.C, per, RowSum{pb, per, db->p});
  }
}

// ---- layer_norm (last dimension)
// -----------------------------------------------------------------
struct LnGeom {
  int64_t M, C;
  float eps;
  bool bias;
};

inline LnGeom ln_geom(const Attrs& a, const Shape& x) {
  constexpr std::string_view op = "layer_norm";
  require(x.size() >= 2, op, "input is " + shape_str(x) + ", expected (B, ..., C)");
  LnGeom g{0, x.back(), static_cast<float>(attr_f(a, "eps", 1e-6)), attr_b(a, "bias", true)};
  g.M = numel(x) / std::max<int64_t>(1, g.C);
  check_channels(op, a, g.C);
  return g;
}

// Row r: mean, the variance of the centred row, y; stats (M, 2).
struct LnFwd {
  const float *x, *w, *b;
  float *y, *stats;
  int64_t C;
  float eps;
  template <class Ctx>
  FW_HD void operator()(int64_t r, Ctx& c) const {
    const float* xr = x + r * C;
    float* yr = y + r * C;
    float s = 0.0f;
    for (int64_t j = c.tid; j < C; j += c.threads) s += xr[j];
    const float invC = 1.0f / static_cast<float>(C);
    const float mean = c.sum(s) * invC;
    float q = 0.0f;
    for (int64_t j = c.tid; j < C; j += c.threads) {
      const float d = xr[j] - mean;
      q += d * d;
    }
    const float rstd = 1.0f / sqrtf(c.sum(q) * invC + eps);
    if (b) {
      for (int64_t j = c.tid; j < C; j += c.threads) yr[j] = (xr[j] - mean) * rstd * w[j] + b[j];
    } else {
      for (int64_t j = c.tid; j < C; j += c.threads) yr[j] = (xr[j] - mean) * rstd * w[j];
    }
    if (c.tid == 0) stats[2 * r] = mean, stats[2 * r + 1] = rstd;
  }
};

// Row r: m1 = mean(dy·w), m2 = mean(dy·w·x̂), dx = rstd·(dy·w - m1 - x̂·m2).
struct LnDx {
  const float *x, *dy, *stats, *w;
  float* dx;
  int64_t C;
  template <class Ctx>
  FW_HD void operator()(int64_t r, Ctx& c) const {
    const float mean = stats[2 * r], rstd = stats[2 * r + 1];
    const float* xr = x + r * C;
    const float* dr = dy + r * C;
    float m1 = 0.0f, m2 = 0.0f;
    for (int64_t j = c.tid; j < C; j += c.threads) {
      const float gw = dr[j] * w[j];
      m1 += gw;
      m2 += gw * ((xr[j] - mean) * rstd);
    }
    const float invC = 1.0f / static_cast<float>(C);
    m1 = c.sum(m1) * invC;
    m2 = c.sum(m2) * invC;
    float* o = dx + r * C;
    for (int64_t j = c.tid; j < C; j += c.threads) {
      const float xh = (xr[j] - mean) * rstd;
      o[j] = rstd * (dr[j] * w[j] - m1 - xh * m2);
    }
  }
};

// Thread i = (k, ch): Σ dy·x̂ and Σ dy over rows [k·R, min(M, (k+1)·R)) of column ch, into
// pw[i], pb[i] (pb may be nullptr). Consecutive threads read consecutive columns.
struct LnParamPart {
  const float *x, *dy, *stats;
  int64_t M, C, R;
  float *pw, *pb;
  FW_HD void operator()(int64_t i) const {
    const int64_t k = i / C, ch = i - k * C;
    const int64_t r1 = min64(M, (k + 1) * R);
    float sw = 0.0f, sb = 0.0f;
    for (int64_t r = k * R; r < r1; ++r) {
      const float d = dy[r * C + ch];
      sw += d * ((x[r * C + ch] - stats[2 * r]) * stats[2 * r + 1]);
      sb += d;
    }
    pw[i] = sw;
    if (pb) pb[i] = sb;
  }
};

// out[ch] = Σ_k part[k·C + ch], k < K: one block per column.
struct ColSum {
  const float* part;
  int64_t K, C;
  float* out;
  template <class Ctx>
  FW_HD void operator()(int64_t ch, Ctx& c) const {
    float s = 0.0f;
    for (int64_t k = c.tid; k < K; k += c.threads) s += part[k * C + ch];
    s = c.sum(s);
    if (c.tid == 0) out[ch] = s;
  }
};

template <class D>
void layer_norm_fwd(const Fwd<D>& a) {
  constexpr std::string_view op = "layer_norm";
  const DTensor& x = *a.in.at(0);
  const LnGeom g = ln_geom(a.attrs, x.shape);
  const Affine af = affine_params(op, a.params, g.C, true, g.bias);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, x.shape);
  DTensor* slot = saved_slot(a, 0);
  if (slot) a.dev.resize(*slot, {g.M, 2});
  Scratch<D> tmp(a.dev, slot ? 1 : static_cast<size_t>(2 * g.M));
  if (g.C == 0) return;
  a.dev.launch_rows(g.M, g.C, LnFwd{x.p, af.w, af.b, y.p, slot ? slot->p : tmp.get(), g.C, g.eps});
}

template <class D>
void layer_norm_bwd(const Bwd<D>& a) {
  constexpr std::string_view op = "layer_norm";
  const Shape& xs = a.in_shapes.at(0);
  const LnGeom g = ln_geom(a.attrs, xs);
  const DTensor& x = need_in(a, 0, op);
  const DTensor& stats = need_saved(a, 0, op);
  expect_dshape(op, "saved statistics", stats, {g.M, 2});
  const DTensor& dy = dout0(a, op, xs);
  const Affine af = affine_params(op, a.params, g.C, true, g.bias);
  DTensor* dx = want_din(a, 0);
  DTensor* dw = want_dparam(a, 0);
  DTensor* db = g.bias ? want_dparam(a, 1) : nullptr;
  if (dx) {
    a.dev.resize(*dx, xs);
    if (g.C > 0) a.dev.launch_rows(g.M, g.C, LnDx{x.p, dy.p, stats.p, af.w, dx->p, g.C});
  }
  if (!dw && !db) return;
  if (g.M == 0) {
    for (DTensor* t : {dw, db}) {
      if (!t) continue;
      a.dev.resize(*t, {g.C});
      a.dev.zero(t->p, static_cast<size_t>(g.C));
    }
    return;
  }
  // About 128K threads, each summing R consecutive rows of one column.
  const int64_t target = std::max<int64_t>(1, (int64_t(1) << 17) / std::max<int64_t>(1, g.C));
  const int64_t R = (g.M + std::min(g.M, target) - 1) / std::min(g.M, target);
  const int64_t K = (g.M + R - 1) / R;
  Scratch<D> part(a.dev, static_cast<size_t>(2 * K * g.C));
  float* pw = part.get();
  float* pb = db ? pw + K * g.C : nullptr;
  a.dev.launch(K * g.C, LnParamPart{x.p, dy.p, stats.p, g.M, g.C, R, pw, pb});
  if (dw) {
    a.dev.resize(*dw, {g.C});
    a.dev.launch_rows(g.C, K, ColSum{pw, K, g.C, dw->p});
  }
  if (db) {
    a.dev.resize(*db, {g.C});
    a.dev.launch_rows(g.C, K, ColSum{pb, K, g.C, db->p});
  }
}

}  // namespace norm

template <class D>
void add_norm(KernelTable<D>& t) {
  add_kernel<D>(t, "group_norm", norm::group_norm_fwd<D>, norm::group_norm_bwd<D>);
  add_kernel<D>(t, "layer_norm2d", norm::layer_norm2d_fwd<D>, norm::layer_norm2d_bwd<D>);
  add_kernel<D>(t, "layer_norm", norm::layer_norm_fwd<D>, norm::layer_norm_bwd<D>);
}

}  // namespace fw::gpu
