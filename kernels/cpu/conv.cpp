// conv2d: x (B, Cin, H, W), weight (Cout, Cin/groups, k, k), bias (Cout) -> y (B, Cout, Ho, Wo).
//
// Three forward/backward paths:
//  - pointwise (k = 1, stride 1, padding 0): per sample and group, Y = W · X, a GEMM over tiles
//    of pixels (no copy of the input). Small maps (late stages, small inputs: fewer than 256
//    pixels) with one group go through the batch instead: the samples' columns gathered side by
//    side into one (C, B·P) operand, so the GEMM has wide panels and W is packed once per block
//    rather than once per sample (per sample a 2x2 map used 4 of the kernel's 32 columns);
//  - depthwise (groups = Cin = Cout): a direct kernel per channel plane on a zero-padded copy,
//    16-wide vectors along the output row;
//  - everything else: im2col of a tile of output rows into a per-thread buffer + GEMM. The
//    backward's col2im scatters tiles in two phases (even, then odd tiles) so that tiles written
//    at the same time never overlap.
#include <cstring>

#include "kernels/cpu/common.h"
#include "kernels/cpu/depthwise.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/simd.h"

namespace fw::cpu {
namespace {

constexpr std::string_view kOp = "conv2d";

struct Geom {
  int64_t B, Cin, H, W, Cout, k, s, p, g, Ho, Wo;
  int64_t cig, cog, K;  // channels per group in/out; K = cig*k*k (one im2col column)
  int64_t HW, P;        // H*W, Ho*Wo
  bool bias;
  bool pointwise() const { return k == 1 && s == 1 && p == 0; }
  bool depthwise() const { return g > 1 && g == Cin && Cout == Cin; }
};

Geom geom(const Attrs& a, const Shape& x, const std::vector<const Tensor*>& params) {
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
  const Tensor& w = *params[0];
  require(w.rank() == 4, kOp, "weight is " + shape_str(w.shape) + ", expected rank 4");
  G.Cout = a.has("out_channels") ? a.i("out_channels") : w.dim(0);
  require(G.g >= 1 && G.Cin % G.g == 0 && G.Cout % G.g == 0, kOp,
          "groups " + std::to_string(G.g) + " must divide in_channels " + std::to_string(G.Cin) +
              " and out_channels " + std::to_string(G.Cout));
  G.cig = G.Cin / G.g, G.cog = G.Cout / G.g, G.K = G.cig * G.k * G.k;
  expect_shape(kOp, "weight", w, {G.Cout, G.cig, G.k, G.k});
  if (G.bias) {
    require(params[1] != nullptr, kOp, "bias is not bound");
    expect_shape(kOp, "bias", *params[1], {G.Cout});
  }
  G.Ho = window_out(kOp, G.H, G.k, G.s, G.p);
  G.Wo = window_out(kOp, G.W, G.k, G.s, G.p);
  G.HW = G.H * G.W, G.P = G.Ho * G.Wo;
  return G;
}

// ---- im2col / col2im over a band of output rows ---------------------------------------------------
// Valid output columns [lo, hi) for kernel column kx: 0 <= ox*s - p + kx < W.
void valid_cols(const Geom& G, int64_t kx, int64_t& lo, int64_t& hi) {
  lo = G.p - kx > 0 ? (G.p - kx + G.s - 1) / G.s : 0;
  const int64_t t = G.W - 1 + G.p - kx;
  hi = t < 0 ? 0 : std::min(G.Wo, t / G.s + 1);
  if (hi < lo) hi = lo;
}

// col: (K, T) with T = (oy1-oy0)*Wo; x: the group's first channel plane of one sample.
void im2col_rows(const Geom& G, const float* x, int64_t oy0, int64_t oy1, float* col) {
  const int64_t T = (oy1 - oy0) * G.Wo;
  for (int64_t ci = 0; ci < G.cig; ++ci)
    for (int64_t ky = 0; ky < G.k; ++ky)
      for (int64_t kx = 0; kx < G.k; ++kx) {
        float* dst = col + ((ci * G.k + ky) * G.k + kx) * T;
        int64_t lo, hi;
        valid_cols(G, kx, lo, hi);
        for (int64_t oy = oy0; oy < oy1; ++oy) {
          float* row = dst + (oy - oy0) * G.Wo;
          const int64_t iy = oy * G.s - G.p + ky;
          if (iy < 0 || iy >= G.H || lo == hi) {
            std::fill(row, row + G.Wo, 0.0f);
            continue;
          }
          std::fill(row, row + lo, 0.0f);
          std::fill(row + hi, row + G.Wo, 0.0f);
          const float* src = x + ci * G.HW + iy * G.W + (lo * G.s - G.p + kx);
          if (G.s == 1) {
            std::memcpy(row + lo, src, sizeof(float) * (hi - lo));
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) row[ox] = src[(ox - lo) * G.s];
          }
        }
      }
}

// The adjoint of im2col_rows: dx += scatter(dcol).
void col2im_rows(const Geom& G, const float* dcol, int64_t oy0, int64_t oy1, float* dx) {
  const int64_t T = (oy1 - oy0) * G.Wo;
  for (int64_t ci = 0; ci < G.cig; ++ci)
    for (int64_t ky = 0; ky < G.k; ++ky)
      for (int64_t kx = 0; kx < G.k; ++kx) {
        const float* src = dcol + ((ci * G.k + ky) * G.k + kx) * T;
        int64_t lo, hi;
        valid_cols(G, kx, lo, hi);
        for (int64_t oy = oy0; oy < oy1; ++oy) {
          const int64_t iy = oy * G.s - G.p + ky;
          if (iy < 0 || iy >= G.H) continue;
          const float* row = src + (oy - oy0) * G.Wo;
          float* dst = dx + ci * G.HW + iy * G.W + (lo * G.s - G.p + kx);
          for (int64_t ox = lo; ox < hi; ++ox) dst[(ox - lo) * G.s] += row[ox];
        }
      }
}

// Tiles a sample/group is cut into so that every thread has work: at least num_threads() tasks
// over the batch and groups together (small late-stage maps at batch 1 would run on one thread).
int64_t min_tiles(const Geom& G) {
  const int64_t outer = G.B * G.g;
  return std::max<int64_t>(1, (num_threads() + outer - 1) / outer);
}

// Output rows per im2col tile: the column buffer stays around 512 KB, and a tile is at least
// ceil(k/s) rows tall so that tiles two apart never touch the same input rows (col2im phases).
int64_t rows_per_tile(const Geom& G) {
  int64_t rows = std::max<int64_t>(1, (128 * 1024) / (G.K * G.Wo));
  rows = std::min(rows, (G.Ho + min_tiles(G) - 1) / min_tiles(G));
  const int64_t min_rows = (G.k + G.s - 1) / G.s;
  return std::min(G.Ho, std::max(rows, min_rows));
}

// Pixels per pointwise tile: the X tile (cig x T) stays around 256 KB; tiles of equal size, a
// multiple of 16.
int64_t pixels_per_tile(const Geom& G) {
  const int64_t cap = std::max<int64_t>(64, (64 * 1024) / std::max<int64_t>(1, G.cig));
  const int64_t nt = std::max((G.P + cap - 1) / cap, std::min(min_tiles(G), (G.P + 15) / 16));
  return std::min(G.P, round_up16((G.P + nt - 1) / nt));
}

DwGeom dw_geom(const Geom& G) { return {G.H, G.W, G.k, G.s, G.p, G.Ho, G.Wo}; }

void add_bias_rows(const float* bias, int64_t rows, int64_t cols, float* y, int64_t ld) {
  for (int64_t r = 0; r < rows; ++r) {
    const float b = bias[r];
    float* yr = y + r * ld;
    for (int64_t c = 0; c < cols; ++c) yr[c] += b;
  }
}

// ---- pointwise through the batch -------------------------------------------------------------------
// Pixels below which a one-group pointwise conv gathers the batch (see the top), and the most
// gathered columns at once (samples are taken in chunks of ~kBatchCols columns, which bounds the
// buffers to C x kBatchCols floats).
constexpr int64_t kBatchedBelow = 256, kBatchCols = 4096;

bool batched_pointwise(const Geom& G) {
  return G.pointwise() && G.g == 1 && G.B > 1 && G.P < kBatchedBelow;
}

// Samples [b0, b0+nb) of x (B, C, P) -> out (C, nb·P), and back.
void gather_samples(const float* x, int64_t C, int64_t P, int64_t b0, int64_t nb, float* out) {
  parallel_for(0, C, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c)
      for (int64_t b = 0; b < nb; ++b)
        std::memcpy(out + c * nb * P + b * P, x + ((b0 + b) * C + c) * P, sizeof(float) * P);
  });
}
void scatter_samples(const float* in, int64_t C, int64_t P, int64_t b0, int64_t nb,
                     const float* bias, float* x) {
  parallel_for(0, C, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      const float add = bias ? bias[c] : 0.0f;
      for (int64_t b = 0; b < nb; ++b) {
        const float* src = in + c * nb * P + b * P;
        float* dst = x + ((b0 + b) * C + c) * P;
        for (int64_t i = 0; i < P; ++i) dst[i] = src[i] + add;
      }
    }
  });
}

// C (M x N) (+)= op(A) · op(B) as blocks of rows and columns run in parallel.
void parallel_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  const int64_t mb = 128, nb = 512;
  const int64_t mt = (M + mb - 1) / mb, ntl = (N + nb - 1) / nb;
  parallel_for(0, mt * ntl, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t r0 = (t / ntl) * mb, c0 = (t % ntl) * nb;
      const int64_t m = std::min(mb, M - r0), n = std::min(nb, N - c0);
      gemm(ta, tb, m, n, K, ta ? A + r0 : A + r0 * lda, lda, tb ? B + c0 * ldb : B + c0, ldb,
           C + r0 * ldc + c0, ldc, accumulate);
    }
  });
}

int64_t samples_per_chunk(const Geom& G) {
  return std::clamp<int64_t>(kBatchCols / std::max<int64_t>(1, G.P), 1, G.B);
}

void pointwise_batched_forward(const Geom& G, const float* x, const float* w, const float* bias,
                               float* y) {
  const int64_t sb = samples_per_chunk(G), cols = sb * G.P;
  float* xb = scratch(kSharedSlot, size_t(G.Cin * cols));
  float* yb = scratch(kSharedSlot2, size_t(G.Cout * cols));
  for (int64_t b0 = 0; b0 < G.B; b0 += sb) {
    const int64_t nb = std::min(sb, G.B - b0), n = nb * G.P;
    gather_samples(x, G.Cin, G.P, b0, nb, xb);
    parallel_gemm(false, false, G.Cout, n, G.Cin, w, G.Cin, xb, n, yb, n, false);
    scatter_samples(yb, G.Cout, G.P, b0, nb, bias, y);
  }
}

// dW = Σ_b dY_b · X_bᵀ and dX_b = Wᵀ · dY_b, a chunk of samples at a time.
void pointwise_batched_backward(const Geom& G, const float* x, const float* w, const float* dy,
                                float* dw, float* dx) {
  const int64_t sb = samples_per_chunk(G), cols = sb * G.P;
  float* xb = scratch(kSharedSlot, size_t(G.Cin * cols));
  float* dyb = scratch(kSharedSlot2, size_t(G.Cout * cols));
  for (int64_t b0 = 0; b0 < G.B; b0 += sb) {
    const int64_t nb = std::min(sb, G.B - b0), n = nb * G.P;
    gather_samples(dy, G.Cout, G.P, b0, nb, dyb);
    if (dw) {
      gather_samples(x, G.Cin, G.P, b0, nb, xb);
      parallel_gemm(false, true, G.Cout, G.Cin, n, dyb, n, xb, n, dw, G.Cin, b0 > 0);
    }
    if (dx) {  // into xb: the gathered X is not needed any more
      parallel_gemm(true, false, G.Cin, n, G.Cout, w, G.Cin, dyb, n, xb, n, false);
      scatter_samples(xb, G.Cin, G.P, b0, nb, nullptr, dx);
    }
  }
}

// ---- forward ---------------------------------------------------------------------------------------
void conv2d_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  const Geom G = geom(a.attrs, xt.shape, a.params);
  Tensor& yt = *a.out.at(0);
  resize(yt, {G.B, G.Cout, G.Ho, G.Wo});
  const float* x = xt.ptr();
  const float* w = a.params[0]->ptr();
  const float* bias = G.bias ? a.params[1]->ptr() : nullptr;
  float* y = yt.ptr();

  if (G.depthwise()) {
    parallel_for(0, G.B * G.Cin, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t c = t % G.Cin;
        dw_forward_plane(dw_geom(G), x + t * G.HW, w + c * G.k * G.k, bias ? bias[c] : 0.0f,
                         y + t * G.P);
      }
    });
    return;
  }
  if (batched_pointwise(G)) return pointwise_batched_forward(G, x, w, bias, y);
  if (G.pointwise()) {
    const int64_t T = pixels_per_tile(G), nt = (G.P + T - 1) / T;
    parallel_for(0, G.B * G.g * nt, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t) {
        const int64_t b = t / (G.g * nt), gi = (t / nt) % G.g, p0 = (t % nt) * T;
        const int64_t n = std::min(T, G.P - p0);
        float* yt0 = y + (b * G.Cout + gi * G.cog) * G.P + p0;
        gemm(false, false, G.cog, n, G.cig, w + gi * G.cog * G.K, G.K,
             x + (b * G.Cin + gi * G.cig) * G.HW + p0, G.HW, yt0, G.P, false);
        if (bias) add_bias_rows(bias + gi * G.cog, G.cog, n, yt0, G.P);
      }
    });
    return;
  }
  const int64_t R = rows_per_tile(G), nt = (G.Ho + R - 1) / R;
  parallel_for(0, G.B * G.g * nt, 1, [&](int64_t lo, int64_t hi) {
    float* col = scratch(0, G.K * R * G.Wo);
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t b = t / (G.g * nt), gi = (t / nt) % G.g, oy0 = (t % nt) * R;
      const int64_t oy1 = std::min(G.Ho, oy0 + R), n = (oy1 - oy0) * G.Wo;
      im2col_rows(G, x + (b * G.Cin + gi * G.cig) * G.HW, oy0, oy1, col);
      float* yt0 = y + (b * G.Cout + gi * G.cog) * G.P + oy0 * G.Wo;
      gemm(false, false, G.cog, n, G.K, w + gi * G.cog * G.K, G.K, col, n, yt0, G.P, false);
      if (bias) add_bias_rows(bias + gi * G.cog, G.cog, n, yt0, G.P);
    }
  });
}

// ---- backward --------------------------------------------------------------------------------------
// Sums per-chunk partial buffers (chunks x n) into out (n).
void sum_partials(const float* parts, int64_t chunks, int64_t n, float* out) {
  parallel_for(0, n, 4096, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      float s = 0;
      for (int64_t c = 0; c < chunks; ++c) s += parts[c * n + i];
      out[i] = s;
    }
  });
}

void depthwise_backward(const Geom& G, const BackwardArgs& a, const float* dy, const float* w) {
  if (Tensor* dxt = want_din(a, 0)) {
    resize(*dxt, {G.B, G.Cin, G.H, G.W});
    float* dx = dxt->ptr();
    parallel_for(0, G.B * G.Cin, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t t = lo; t < hi; ++t)
        dw_backward_dx_plane(dw_geom(G), dy + t * G.P, w + (t % G.Cin) * G.k * G.k, dx + t * G.HW);
    });
  }
  Tensor* dwt = want_dparam(a, 0);
  Tensor* dbt = G.bias ? want_dparam(a, 1) : nullptr;
  if (!dwt && !dbt) return;
  const float* x = need_in(a, 0, kOp).ptr();
  const int64_t kk = G.k * G.k;
  float* dw_planes = scratch(kSharedSlot, G.B * G.Cin * (kk + 1));  // per plane: k*k, then Σdy
  float* db_planes = dw_planes + G.B * G.Cin * kk;
  parallel_for(0, G.B * G.Cin, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t)
      db_planes[t] = dw_backward_dw_plane(dw_geom(G), x + t * G.HW, dy + t * G.P, &dw_planes[t * kk]);
  });
  if (dwt) {
    resize(*dwt, {G.Cout, 1, G.k, G.k});
    std::fill(dwt->data.begin(), dwt->data.end(), 0.0f);
    for (int64_t b = 0; b < G.B; ++b)
      for (int64_t i = 0; i < G.Cin * kk; ++i) dwt->data[i] += dw_planes[b * G.Cin * kk + i];
  }
  if (dbt) {
    resize(*dbt, {G.Cout});
    std::fill(dbt->data.begin(), dbt->data.end(), 0.0f);
    for (int64_t b = 0; b < G.B; ++b)
      for (int64_t c = 0; c < G.Cin; ++c) dbt->data[c] += db_planes[b * G.Cin + c];
  }
}

void conv2d_backward(const BackwardArgs& a) {
  const Geom G = geom(a.attrs, in_shape(a, 0), a.params);
  const Tensor& dyt = *a.dout.at(0);
  expect_shape(kOp, "output gradient", dyt, {G.B, G.Cout, G.Ho, G.Wo});
  const float* dy = dyt.ptr();
  const float* w = a.params[0]->ptr();
  if (G.depthwise()) return depthwise_backward(G, a, dy, w);

  if (Tensor* dbt = G.bias ? want_dparam(a, 1) : nullptr) {
    resize(*dbt, {G.Cout});
    float* db = dbt->ptr();
    parallel_for(0, G.Cout, 8, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        float s = 0;
        for (int64_t b = 0; b < G.B; ++b) {
          const float* d = dy + (b * G.Cout + c) * G.P;
#pragma omp simd reduction(+ : s)
          for (int64_t i = 0; i < G.P; ++i) s += d[i];
        }
        db[c] = s;
      }
    });
  }

  if (batched_pointwise(G)) {
    Tensor* dwt = want_dparam(a, 0);
    Tensor* dxt = want_din(a, 0);
    if (dwt) resize(*dwt, {G.Cout, G.Cin, 1, 1});
    if (dxt) resize(*dxt, {G.B, G.Cin, G.H, G.W});
    if (dwt || dxt)
      pointwise_batched_backward(G, dwt ? need_in(a, 0, kOp).ptr() : nullptr, w, dy,
                                 dwt ? dwt->ptr() : nullptr, dxt ? dxt->ptr() : nullptr);
    return;
  }

  const bool pw = G.pointwise();
  const int64_t T = pw ? pixels_per_tile(G) : rows_per_tile(G) * G.Wo;
  const int64_t R = pw ? 0 : rows_per_tile(G);
  const int64_t nt = pw ? (G.P + T - 1) / T : (G.Ho + R - 1) / R;
  const int64_t ntasks = G.B * G.g * nt;
  // Task t -> (sample, group, first pixel, pixel count, first/last output row).
  struct Task { int64_t b, gi, p0, n, oy0, oy1; };
  auto task = [&](int64_t t) {
    Task k{t / (G.g * nt), (t / nt) % G.g, 0, 0, 0, 0};
    const int64_t i = t % nt;
    if (pw) {
      k.p0 = i * T, k.n = std::min(T, G.P - k.p0);
    } else {
      k.oy0 = i * R, k.oy1 = std::min(G.Ho, k.oy0 + R);
      k.p0 = k.oy0 * G.Wo, k.n = (k.oy1 - k.oy0) * G.Wo;
    }
    return k;
  };

  if (Tensor* dwt = want_dparam(a, 0)) {
    const float* x = need_in(a, 0, kOp).ptr();
    const int64_t wn = G.Cout * G.K, chunks = num_chunks(ntasks, 1);
    float* parts = scratch(kSharedSlot, chunks * wn);
    parallel_chunks(ntasks, 1, [&](int64_t c, int64_t lo, int64_t hi) {
      float* part = parts + c * wn;
      std::fill(part, part + wn, 0.0f);
      float* col = pw ? nullptr : scratch(0, G.K * T);
      for (int64_t t = lo; t < hi; ++t) {
        const Task k = task(t);
        const float* xg = x + (k.b * G.Cin + k.gi * G.cig) * G.HW;
        const float* dyt0 = dy + (k.b * G.Cout + k.gi * G.cog) * G.P + k.p0;
        if (pw) {
          // dW_g += dY_tile (cog x n) · X_tileᵀ (n x cig)
          gemm(false, true, G.cog, G.cig, k.n, dyt0, G.P, xg + k.p0, G.HW,
               part + k.gi * G.cog * G.K, G.K, true);
        } else {
          im2col_rows(G, xg, k.oy0, k.oy1, col);
          gemm(false, true, G.cog, G.K, k.n, dyt0, G.P, col, k.n, part + k.gi * G.cog * G.K,
               G.K, true);
        }
      }
    });
    resize(*dwt, {G.Cout, G.cig, G.k, G.k});
    sum_partials(parts, chunks, wn, dwt->ptr());
  }

  if (Tensor* dxt = want_din(a, 0)) {
    resize(*dxt, {G.B, G.Cin, G.H, G.W});
    float* dx = dxt->ptr();
    if (pw) {
      parallel_for(0, ntasks, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
          const Task k = task(t);
          // dX_tile (cig x n) = W_gᵀ (cig x cog) · dY_tile (cog x n)
          gemm(true, false, G.cig, k.n, G.cog, w + k.gi * G.cog * G.K, G.K,
               dy + (k.b * G.Cout + k.gi * G.cog) * G.P + k.p0, G.P,
               dx + (k.b * G.Cin + k.gi * G.cig) * G.HW + k.p0, G.HW, false);
        }
      });
      return;
    }
    std::fill(dxt->data.begin(), dxt->data.end(), 0.0f);
    // Even tiles, then odd tiles: tiles of one phase scatter into disjoint input rows.
    for (int64_t phase = 0; phase < 2; ++phase) {
      const int64_t per_phase = (nt - phase + 1) / 2;
      parallel_for(0, G.B * G.g * per_phase, 1, [&](int64_t lo, int64_t hi) {
        float* dcol = scratch(0, G.K * T);
        for (int64_t j = lo; j < hi; ++j) {
          const int64_t bg = j / per_phase, i = 2 * (j % per_phase) + phase;
          const Task k = task(bg * nt + i);
          gemm(true, false, G.K, k.n, G.cog, w + k.gi * G.cog * G.K, G.K,
               dy + (k.b * G.Cout + k.gi * G.cog) * G.P + k.p0, G.P, dcol, k.n, false);
          col2im_rows(G, dcol, k.oy0, k.oy1, dx + (k.b * G.Cin + k.gi * G.cig) * G.HW);
        }
      });
    }
  }
}

BackwardNeeds conv2d_needs(const Attrs&, bool param_grads) {
  return {param_grads ? 1u : 0u, false};
}

}  // namespace

const CpuKernel kConv2d = {"conv2d", conv2d_needs, 0, "", conv2d_forward, conv2d_backward,
                           never_identity};

}  // namespace fw::cpu
