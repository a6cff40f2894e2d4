// Device program of conv2d (kernels/cpu/conv.cpp and depthwise.cpp on the CPU):
// x (B, Cin, H, W), weight (Cout, Cin/groups, k, k), bias (Cout) -> y (B, Cout, Ho, Wo).
//
// Two paths, chosen by the attributes alone:
//  - depthwise (groups = Cin > 1, so every output channel reads one input channel; Cout may be a
//    multiple of Cin, a channel multiplier): direct kernels. Forward one thread per output
//    element; dX a gather, one thread per input element over the output pixels that read it; dW
//    one block per (out channel, ky, kx) summing over the batch and the output pixels.
//  - everything else: GEMMs over im2col columns. A tile of the work is a run of whole samples
//    [b0, b0+nb) or, when one sample's columns are beyond the scratch budget, a band of output
//    rows [oy0, oy1) of one sample; its columns sit in one (Cin·k·k, N) matrix with N = nb·T,
//    T = (oy1-oy0)·Wo pixels per sample, column b·T + t (so a group's rows are one contiguous
//    (K, N) block, K = Cin/groups·k·k). Per tile:
//      forward   Y_{b,g} = W_g · col_{b,g}, straight into y (bias broadcast first, beta = 1);
//      backward  dYt (Cout, N) = the tile of dY in column order;
//                dW_g (+)= dYt_g · col_gᵀ (beta = 1 after the first tile);
//                dcol_g = W_gᵀ · dYt_g, then dX by col2im as a gather: one thread per input
//                element summing the columns that came from it (no atomics).
//    1x1 stride-1 padding-0 convolutions need no im2col for forward and dX (x already is the
//    (Cin, H·W) matrix of every sample); their dW goes through the tiles (the gathered columns
//    put the whole batch on the GEMM's reduction dimension).
//  - db: channel sums of dY.
// Every reduction has a fixed order (GEMMs, block sums, tiles in sequence): the results do not
// depend on timing. Backward reads input 0 only for dW (conv2d_needs: the input when parameter
// gradients are wanted).
#pragma once
#include "kernels/cuda/ops.h"

namespace fw::gpu {
namespace conv {

constexpr std::string_view kOp = "conv2d";

// The most floats the im2col scratch of one tile takes (columns and the dY tile together); a
// single output row of one sample may exceed it.
constexpr int64_t kScratchFloats = int64_t(1) << 26;  // 64 M floats, 256 MB

struct Geom {
  int64_t B, Cin, H, W, Cout, k, s, p, g, Ho, Wo;
  int64_t cig, cog, K;  // channels per group in/out; K = cig·k·k (a group's rows of a column)
  int64_t HW, P;        // H·W, Ho·Wo
  bool bias;
  bool pointwise() const { return k == 1 && s == 1 && p == 0; }
  bool depthwise() const { return g > 1 && g == Cin; }
};

// As the CPU's geom (kernels/cpu/conv.cpp), on device tensors.
inline Geom geom(const Attrs& a, const Shape& x, const std::vector<const DTensor*>& params) {
  Geom G{};
  require(x.size() == 4, kOp, "input is " + shape_str(x) + ", expected (B, C, H, W)");
  G.B = x[0], G.Cin = x[1], G.H = x[2], G.W = x[3];
  G.k = attr_i(a, "kernel", 1), G.s = attr_i(a, "stride", 1), G.p = attr_i(a, "padding", 0);
  G.g = attr_i(a, "groups", 1);
  G.bias = attr_b(a, "bias", true);
  if (a.has("in_channels"))
    require(a.i("in_channels") == G.Cin, kOp,
            "expects " + std::to_string(a.i("in_channels")) + " input channels, gets " +
                std::to_string(G.Cin));
  require(params.size() >= (G.bias ? 2u : 1u) && params[0], kOp,
          G.bias ? "expects parameters weight and bias" : "expects parameter weight");
  const DTensor& w = *params[0];
  require(w.rank() == 4, kOp, "weight is " + shape_str(w.shape) + ", expected rank 4");
  G.Cout = a.has("out_channels") ? a.i("out_channels") : w.dim(0);
  require(G.g >= 1 && G.Cin % G.g == 0 && G.Cout % G.g == 0, kOp,
          "groups " + std::to_string(G.g) + " must divide in_channels " + std::to_string(G.Cin) +
              " and out_channels " + std::to_string(G.Cout));
  G.cig = G.Cin / G.g, G.cog = G.Cout / G.g, G.K = G.cig * G.k * G.k;
  expect_dshape(kOp, "weight", w, {G.Cout, G.cig, G.k, G.k});
  if (G.bias) {
    require(params[1] != nullptr, kOp, "bias is not bound");
    expect_dshape(kOp, "bias", *params[1], {G.Cout});
  }
  G.Ho = cpu::window_out(kOp, G.H, G.k, G.s, G.p);
  G.Wo = cpu::window_out(kOp, G.W, G.k, G.s, G.p);
  G.HW = G.H * G.W, G.P = G.Ho * G.Wo;
  return G;
}

// ---- bodies ------------------------------------------------------------------------------------
struct BiasFill {  // y (B, Cout, P) = bias[c]
  const float* b;
  float* y;
  int64_t Cout, P;
  FW_HD void operator()(int64_t i) const { y[i] = b[(i / P) % Cout]; }
};
struct Plain {  // f(i) = a[i], for channel sums
  const float* a;
  FW_HD float operator()(int64_t i) const { return a[i]; }
};

// Depthwise forward, one thread per output element (b, co, oy, ox).
struct DwFwd {
  const float *x, *w, *bias;  // bias may be null
  float* y;
  int64_t Cin, Cout, cog, H, W, Ho, Wo, k, s, p;
  FW_HD void operator()(int64_t i) const {
    const int64_t ox = i % Wo, q = i / Wo, oy = q % Ho, bc = q / Ho, co = bc % Cout, b = bc / Cout;
    const float* xp = x + (b * Cin + co / cog) * H * W;
    const float* wp = w + co * k * k;
    float acc = bias ? bias[co] : 0.0f;
    const int64_t iy0 = oy * s - p, ix0 = ox * s - p;
    for (int64_t ky = 0; ky < k; ++ky) {
      const int64_t iy = iy0 + ky;
      if (iy < 0 || iy >= H) continue;
      for (int64_t kx = 0; kx < k; ++kx) {
        const int64_t ix = ix0 + kx;
        if (ix >= 0 && ix < W) acc += wp[ky * k + kx] * xp[iy * W + ix];
      }
    }
    y[i] = acc;
  }
};

// Depthwise dX, one thread per input element (b, ci, iy, ix): the sum over the output channels
// of ci and the output pixels whose window holds (iy, ix).
struct DwDx {
  const float *dy, *w;
  float* dx;
  int64_t Cin, Cout, cog, H, W, Ho, Wo, k, s, p;
  FW_HD void operator()(int64_t i) const {
    const int64_t ix = i % W, q = i / W, iy = q % H, bc = q / H, ci = bc % Cin, b = bc / Cin;
    // ky ≡ iy + p (mod s), so that oy = (iy + p - ky) / s is exact; oy falls as ky rises.
    const int64_t ky0 = (iy + p) % s, kx0 = (ix + p) % s;
    float acc = 0.0f;
    for (int64_t m = 0; m < cog; ++m) {
      const int64_t co = ci * cog + m;
      const float* wp = w + co * k * k;
      const float* dp = dy + (b * Cout + co) * Ho * Wo;
      for (int64_t ky = ky0; ky < k; ky += s) {
        const int64_t oy = (iy + p - ky) / s;
        if (oy >= Ho) continue;
        if (oy < 0) break;
        for (int64_t kx = kx0; kx < k; kx += s) {
          const int64_t ox = (ix + p - kx) / s;
          if (ox >= Wo) continue;
          if (ox < 0) break;
          acc += wp[ky * k + kx] * dp[oy * Wo + ox];
        }
      }
    }
    dx[i] = acc;
  }
};

// Depthwise dW: row r = (co, ky, kx), dw[r] = Σ_{b, oy, ox} dy[b, co, oy, ox]·x[b, ci, iy, ix].
struct DwDw {
  const float *x, *dy;
  float* dw;
  int64_t B, Cin, Cout, cog, H, W, Ho, Wo, k, s, p;
  template <class C>
  FW_HD void operator()(int64_t r, C& c) const {
    const int64_t kx = r % k, ky = (r / k) % k, co = r / (k * k), ci = co / cog;
    const int64_t P = Ho * Wo, n = B * P;
    float acc = 0.0f;
    for (int64_t j = c.tid; j < n; j += c.threads) {
      const int64_t b = j / P, t = j - b * P, oy = t / Wo, ox = t - oy * Wo;
      const int64_t iy = oy * s - p + ky, ix = ox * s - p + kx;
      if (iy >= 0 && iy < H && ix >= 0 && ix < W)
        acc += dy[(b * Cout + co) * P + t] * x[(b * Cin + ci) * H * W + iy * W + ix];
    }
    acc = c.sum(acc);
    if (c.tid == 0) dw[r] = acc;
  }
};

// im2col of a tile: col (Cin·k·k, N), N = nb·T; column b·T + t is pixel oy0·Wo + t of sample
// b0 + b; row (ci, ky, kx). Zero where the window leaves the input.
struct Im2col {
  const float* x;
  float* col;
  int64_t Cin, H, W, Wo, k, s, p, b0, oy0, T, N;
  FW_HD void operator()(int64_t i) const {
    const int64_t r = i / N, j = i - r * N, b = j / T, t = j - b * T;
    const int64_t oy = oy0 + t / Wo, ox = t % Wo;
    const int64_t kx = r % k, ky = (r / k) % k, ci = r / (k * k);
    const int64_t iy = oy * s - p + ky, ix = ox * s - p + kx;
    col[i] = iy >= 0 && iy < H && ix >= 0 && ix < W ? x[((b0 + b) * Cin + ci) * H * W + iy * W + ix]
                                                    : 0.0f;
  }
};

// dYt (Cout, N) = the tile of dy (B, Cout, P) in column order.
struct GatherDy {
  const float* dy;
  float* dyt;
  int64_t Cout, P, b0, p0, T, N;
  FW_HD void operator()(int64_t i) const {
    const int64_t co = i / N, j = i - co * N, b = j / T, t = j - b * T;
    dyt[i] = dy[((b0 + b) * Cout + co) * P + p0 + t];
  }
};

// col2im of a tile as a gather: one thread per input element (b, ci, iy, ix) of samples
// [b0, b0+nb) and input rows [iy0, iy0+rows): the sum of the dcol entries im2col took from it.
// acc: add to dx (row bands, which share input rows) instead of overwriting it.
struct Col2im {
  const float* dcol;
  float* dx;
  int64_t Cin, H, W, Ho, Wo, k, s, p, b0, oy0, oy1, T, N, iy0, rows;
  bool acc;
  FW_HD void operator()(int64_t i) const {
    const int64_t ix = i % W, q = i / W, iy = iy0 + q % rows, bc = q / rows, ci = bc % Cin,
                  b = bc / Cin;
    const int64_t ky0 = (iy + p) % s, kx0 = (ix + p) % s;
    float sum = 0.0f;
    for (int64_t ky = ky0; ky < k; ky += s) {
      const int64_t oy = (iy + p - ky) / s;
      if (oy >= oy1) continue;
      if (oy < oy0) break;
      for (int64_t kx = kx0; kx < k; kx += s) {
        const int64_t ox = (ix + p - kx) / s;
        if (ox >= Wo) continue;
        if (ox < 0) break;
        sum += dcol[((ci * k + ky) * k + kx) * N + b * T + (oy - oy0) * Wo + ox];
      }
    }
    float* d = dx + ((b0 + b) * Cin + ci) * H * W + iy * W + ix;
    *d = acc ? *d + sum : sum;
  }
};

// ---- GEMMs over samples and groups -------------------------------------------------------------
// An operand of a product per (sample b, group gi): base + b·ss + gi·sg, leading dimension ld.
struct Operand {
  const float* p;
  int64_t ld, ss, sg;
};
// For every sample b < nb and group gi < g: C_{b,gi} = op(A_{b,gi})·op(B_{b,gi}) + beta·C, as
// batched GEMMs over the larger of the two counts (one call per entry of the smaller).
template <class D>
void sample_group_gemm(D& dev, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float beta,
                       const Operand& A, const Operand& B, float* c, int64_t ldc, int64_t cs,
                       int64_t cg, int64_t nb, int64_t g) {
  const bool over_samples = nb >= g;
  const int64_t calls = over_samples ? g : nb, batch = over_samples ? nb : g;
  for (int64_t e = 0; e < calls; ++e) {
    Gemm q;
    q.ta = ta, q.tb = tb;
    q.m = m, q.n = n, q.k = k;
    q.beta = beta;
    q.batch = batch;
    q.lda = A.ld, q.ldb = B.ld, q.ldc = ldc;
    if (over_samples) {
      q.a = A.p + e * A.sg, q.sa = A.ss;
      q.b = B.p + e * B.sg, q.sb = B.ss;
      q.c = c + e * cg, q.sc = cs;
    } else {
      q.a = A.p + e * A.ss, q.sa = A.sg;
      q.b = B.p + e * B.ss, q.sb = B.sg;
      q.c = c + e * cs, q.sc = cg;
    }
    dev.gemm(q);
  }
}

// ---- tiles -------------------------------------------------------------------------------------
struct Tile {
  int64_t b0, nb, oy0, oy1, T, N;
};
// Tiles of whole samples while a sample's columns fit the budget, else bands of output rows of
// one sample. `per_col`: scratch floats per column.
inline std::vector<Tile> tiles(const Geom& G, int64_t per_col) {
  std::vector<Tile> v;
  const int64_t max_cols = std::max<int64_t>(G.Wo, kScratchFloats / std::max<int64_t>(1, per_col));
  if (G.P <= max_cols) {
    const int64_t nb = std::max<int64_t>(1, std::min(G.B, max_cols / G.P));
    for (int64_t b0 = 0; b0 < G.B; b0 += nb) {
      const int64_t n = std::min(nb, G.B - b0);
      v.push_back({b0, n, 0, G.Ho, G.P, n * G.P});
    }
  } else {
    const int64_t rows = std::max<int64_t>(1, max_cols / G.Wo);
    for (int64_t b = 0; b < G.B; ++b)
      for (int64_t oy0 = 0; oy0 < G.Ho; oy0 += rows) {
        const int64_t oy1 = std::min(G.Ho, oy0 + rows), T = (oy1 - oy0) * G.Wo;
        v.push_back({b, 1, oy0, oy1, T, T});
      }
  }
  return v;
}
inline int64_t max_tile_cols(const std::vector<Tile>& v) {
  int64_t n = 1;
  for (const Tile& t : v) n = std::max(n, t.N);
  return n;
}

template <class D>
void im2col(D& dev, const Geom& G, const float* x, const Tile& t, float* col) {
  dev.launch(G.Cin * G.k * G.k * t.N,
             Im2col{x, col, G.Cin, G.H, G.W, G.Wo, G.k, G.s, G.p, t.b0, t.oy0, t.T, t.N});
}

// ---- forward -----------------------------------------------------------------------------------
template <class D>
void conv2d_fwd(const Fwd<D>& a) {
  D& dev = a.dev;
  const DTensor& x = *a.in.at(0);
  const Geom G = geom(a.attrs, x.shape, a.params);
  DTensor& y = *a.out.at(0);
  dev.resize(y, {G.B, G.Cout, G.Ho, G.Wo});
  const float* w = a.params[0]->p;
  const float* bias = G.bias ? a.params[1]->p : nullptr;
  if (G.depthwise()) {
    dev.launch(y.size(),
               DwFwd{x.p, w, bias, y.p, G.Cin, G.Cout, G.cog, G.H, G.W, G.Ho, G.Wo, G.k, G.s, G.p});
    return;
  }
  if (bias) dev.launch(y.size(), BiasFill{bias, y.p, G.Cout, G.P});
  const float beta = bias ? 1.0f : 0.0f;
  const Operand Wop{w, G.K, 0, G.cog * G.K};
  if (G.pointwise()) {  // Y_{b,g} (cog x P) = W_g (cog x cig) · X_{b,g} (cig x P)
    sample_group_gemm(dev, false, false, G.cog, G.P, G.cig, beta, Wop,
                      Operand{x.p, G.HW, G.Cin * G.HW, G.cig * G.HW}, y.p, G.P, G.Cout * G.P,
                      G.cog * G.P, G.B, G.g);
    return;
  }
  const std::vector<Tile> tl = tiles(G, G.Cin * G.k * G.k);
  Scratch<D> col(dev, static_cast<size_t>(G.Cin * G.k * G.k * max_tile_cols(tl)));
  for (const Tile& t : tl) {
    im2col(dev, G, x.p, t, col.get());
    // Y_{b,g} tile (cog x T, ld P) = W_g (cog x K) · col_{b,g} (K x T, ld N)
    sample_group_gemm(
        dev, false, false, G.cog, t.T, G.K, beta, Wop, Operand{col.get(), t.N, t.T, G.K * t.N},
        y.p + t.b0 * G.Cout * G.P + t.oy0 * G.Wo, G.P, G.Cout * G.P, G.cog * G.P, t.nb, G.g);
  }
}

// ---- backward ----------------------------------------------------------------------------------
template <class D>
void depthwise_bwd(const Bwd<D>& a, const Geom& G, const DTensor& dy) {
  D& dev = a.dev;
  const float* w = a.params[0]->p;
  if (DTensor* dx = want_din(a, 0)) {
    dev.resize(*dx, {G.B, G.Cin, G.H, G.W});
    dev.launch(dx->size(),
               DwDx{dy.p, w, dx->p, G.Cin, G.Cout, G.cog, G.H, G.W, G.Ho, G.Wo, G.k, G.s, G.p});
  }
  if (DTensor* dw = want_dparam(a, 0)) {
    const DTensor& x = need_in(a, 0, kOp);
    dev.resize(*dw, {G.Cout, 1, G.k, G.k});
    dev.launch_rows(
        G.Cout * G.k * G.k, G.B * G.P,
        DwDw{x.p, dy.p, dw->p, G.B, G.Cin, G.Cout, G.cog, G.H, G.W, G.Ho, G.Wo, G.k, G.s, G.p});
  }
}

template <class D>
void conv2d_bwd(const Bwd<D>& a) {
  D& dev = a.dev;
  const Geom G = geom(a.attrs, a.in_shapes.at(0), a.params);
  const DTensor& dy = dout0(a, kOp, {G.B, G.Cout, G.Ho, G.Wo});
  if (DTensor* db = G.bias ? want_dparam(a, 1) : nullptr) {
    dev.resize(*db, {G.Cout});
    channel_sums(dev, G.B, G.Cout, G.P, Plain{dy.p}, db->p);
  }
  if (G.depthwise()) return depthwise_bwd(a, G, dy);

  const float* w = a.params[0]->p;
  DTensor* dw = want_dparam(a, 0);
  DTensor* dx = want_din(a, 0);
  const float* x = dw ? need_in(a, 0, kOp).p : nullptr;
  if (dw) dev.resize(*dw, {G.Cout, G.cig, G.k, G.k});
  if (dx) dev.resize(*dx, {G.B, G.Cin, G.H, G.W});
  const bool pw = G.pointwise();
  if (dx && pw)  // dX_{b,g} (cig x P) = W_gᵀ (cig x cog) · dY_{b,g} (cog x P)
    sample_group_gemm(dev, true, false, G.cig, G.P, G.cog, 0.0f, Operand{w, G.K, 0, G.cog * G.K},
                      Operand{dy.p, G.P, G.Cout * G.P, G.cog * G.P}, dx->p, G.HW, G.Cin * G.HW,
                      G.cig * G.HW, G.B, G.g);
  const bool tile_dx = dx && !pw;
  if (!dw && !tile_dx) return;
  if (dw && G.B == 0) dev.zero(dw->p, static_cast<size_t>(dw->size()));

  const int64_t rows = G.Cin * G.k * G.k;  // col rows; the dY tile adds Cout more per column
  const std::vector<Tile> tl = tiles(G, rows + G.Cout);
  const int64_t ncol = max_tile_cols(tl);
  Scratch<D> col(dev, static_cast<size_t>(rows * ncol));
  Scratch<D> dyt(dev, static_cast<size_t>(G.Cout * ncol));
  const bool bands = !tl.empty() && tl[0].T < G.P;  // row bands share input rows: accumulate
  if (tile_dx && bands) dev.zero(dx->p, static_cast<size_t>(dx->size()));
  bool first = true;
  for (const Tile& t : tl) {
    dev.launch(G.Cout * t.N, GatherDy{dy.p, dyt.get(), G.Cout, G.P, t.b0, t.oy0 * G.Wo, t.T, t.N});
    if (dw) {  // dW_g (cog x K) (+)= dYt_g (cog x N) · col_gᵀ (N x K)
      im2col(dev, G, x, t, col.get());
      sample_group_gemm(dev, false, true, G.cog, G.K, t.N, first ? 0.0f : 1.0f,
                        Operand{dyt.get(), t.N, 0, G.cog * t.N},
                        Operand{col.get(), t.N, 0, G.K * t.N}, dw->p, G.K, 0, G.cog * G.K, 1, G.g);
      first = false;
    }
    if (tile_dx) {  // dcol_g (K x N) = W_gᵀ (K x cog) · dYt_g (cog x N), into the column buffer
      sample_group_gemm(dev, true, false, G.K, t.N, G.cog, 0.0f, Operand{w, G.K, 0, G.cog * G.K},
                        Operand{dyt.get(), t.N, 0, G.cog * t.N}, col.get(), t.N, 0, G.K * t.N, 1,
                        G.g);
      // Whole samples: every input row, overwritten. A band: only the input rows its windows
      // reach, added to (the other rows of dx stay as they are).
      const int64_t iy0 = bands ? std::max<int64_t>(0, t.oy0 * G.s - G.p) : 0;
      const int64_t iy1 = bands ? std::min(G.H, (t.oy1 - 1) * G.s - G.p + G.k) : G.H;
      if (iy1 > iy0)
        dev.launch(t.nb * G.Cin * (iy1 - iy0) * G.W,
                   Col2im{col.get(), dx->p, G.Cin, G.H, G.W, G.Ho, G.Wo, G.k, G.s, G.p, t.b0, t.oy0,
                          t.oy1, t.T, t.N, iy0, iy1 - iy0, bands});
    }
  }
}

}  // namespace conv

template <class D>
void add_conv(KernelTable<D>& t) {
  add_kernel<D>(t, "conv2d", conv::conv2d_fwd<D>, conv::conv2d_bwd<D>);
}

}  // namespace fw::gpu
