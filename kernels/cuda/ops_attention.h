// Device program of self_attention (kernels/cpu/attention.cpp on the CPU):
// qkv (B, N, 3·h·d) -> out (B, N, h·d); saved slot 0: the probabilities P (B, h, N, N).
//
// Samples go in chunks (the chunk's probabilities within ~64 M floats); per chunk, q, k and v are
// rearranged to head-major order (SplitHeads) so that every product is one strided batch over
// the chunk's samples and heads:
//  - forward:  S = Q·Kᵀ; P = softmax(S·d^-½) row-wise (one block per row); O = P·V written to
//              out[:, :, j·d : (j+1)·d] (MergeHeads). P goes to the saved slot when the caller
//              wants the maps or a backward follows, else to a per-chunk scratch buffer.
//  - backward: dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − rowsum(dP∘P))·d^-½, dQ = dS·K, dK = dSᵀ·Q.
//              P is the saved one, or recomputed per chunk without it.
// A fused kernel that never writes P when no view asks for it is the next step on the GPU.
#pragma once
#include "kernels/cuda/ops.h"

namespace fw::gpu {
namespace attn {

struct SoftmaxRows {  // p[r, :] = softmax(p[r, :]·scale), rows of n
  float* p;
  int64_t n;
  float scale;
  template <class C>
  FW_HD void operator()(int64_t r, C& c) const {
    float* row = p + r * n;
    float m = -3.402823466e38f;
    for (int64_t j = c.tid; j < n; j += c.threads) m = fmaxf(m, row[j]);
    m = c.max(m);
    float s = 0.0f;
    for (int64_t j = c.tid; j < n; j += c.threads) {
      const float e = expf((row[j] - m) * scale);
      row[j] = e;
      s += e;
    }
    s = c.sum(s);
    const float inv = 1.0f / s;
    for (int64_t j = c.tid; j < n; j += c.threads) row[j] *= inv;
  }
};

struct SoftmaxBackRows {  // ds[r, :] = p∘(ds − Σ p∘ds)·scale
  const float* p;
  float* ds;
  int64_t n;
  float scale;
  template <class C>
  FW_HD void operator()(int64_t r, C& c) const {
    const float* pr = p + r * n;
    float* sr = ds + r * n;
    float dot = 0.0f;
    for (int64_t j = c.tid; j < n; j += c.threads) dot += pr[j] * sr[j];
    dot = c.sum(dot);
    for (int64_t j = c.tid; j < n; j += c.threads) sr[j] = pr[j] * (sr[j] - dot) * scale;
  }
};

struct Geom {
  int64_t B, N, h, d, hd, ld;
  float scale;
};
inline Geom geom(const Attrs& at, const Shape& qkv) {
  constexpr std::string_view op = "self_attention";
  require(qkv.size() == 3, op,
          "input is " + shape_str(qkv) + ", expected (B, N, 3*heads*head_dim)");
  Geom g{};
  g.B = qkv[0], g.N = qkv[1];
  g.h = attr_i(at, "heads", 2), g.d = attr_i(at, "head_dim", 32);
  require(g.h >= 1 && g.d >= 1, op, "heads and head_dim must be >= 1");
  g.hd = g.h * g.d, g.ld = 3 * g.hd;
  require(qkv[2] == g.ld, op,
          "expects " + std::to_string(g.ld) + " input features (3 * " + std::to_string(g.h) +
              " heads * " + std::to_string(g.d) + "), gets " + std::to_string(qkv[2]));
  g.scale = 1.0f / std::sqrt(static_cast<float>(g.d));
  return g;
}

// Head layout: qkv rows of samples [b0, b0 + cb) rearranged to T x (cb·h) x N x d (T = 3 for
// q, k, v; 1 for dO), so that every product is one strided batch over samples and heads.
struct SplitHeads {  // dst[t][b·h + j][n][e] = src[(b·N + n)·ld + t·h·d + j·d + e]
  const float* src;
  float* dst;
  int64_t cb, N, h, d, ld;
  FW_HD void operator()(int64_t i) const {
    const int64_t e = i % d;
    int64_t r = i / d;
    const int64_t n = r % N;
    r /= N;
    const int64_t j = r % h;
    r /= h;
    const int64_t b = r % cb, t = r / cb;
    dst[i] = src[(b * N + n) * ld + t * h * d + j * d + e];
  }
};
struct MergeHeads {  // the inverse: one thread per element of dst (cb, N, ld)
  const float* src;
  float* dst;
  int64_t cb, N, h, d, ld;
  FW_HD void operator()(int64_t i) const {
    const int64_t c = i % ld, r = i / ld;
    const int64_t n = r % N, b = r / N;
    const int64_t t = c / (h * d), j = (c / d) % h, e = c % d;
    dst[i] = src[(((t * cb + b) * h + j) * N + n) * d + e];
  }
};

// Samples per chunk: the chunk's probabilities (and their gradient) stay within ~64 M floats.
inline int64_t chunk_samples(const Geom& g) {
  const long double per = static_cast<long double>(g.h) * g.N * g.N;
  return std::max<int64_t>(1, std::min<int64_t>(g.B, static_cast<int64_t>((1 << 26) / per)));
}

inline Gemm batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                    int64_t sa, const float* b, int64_t ldb, int64_t sb, float* c, int64_t ldc,
                    int64_t sc, int64_t batch) {
  Gemm g;
  g.ta = ta, g.tb = tb, g.m = m, g.n = n, g.k = k;
  g.a = a, g.lda = lda, g.sa = sa, g.b = b, g.ldb = ldb, g.sb = sb;
  g.c = c, g.ldc = ldc, g.sc = sc, g.batch = batch;
  return g;
}

// P (cb·h x N x N) of the chunk whose heads are in qh (3 x cb·h x N x d).
template <class D>
void probs_of(D& dev, const Geom& g, int64_t cb, const float* qh, float* p) {
  const int64_t Nd = g.N * g.d, bh = cb * g.h;
  dev.gemm(batched(false, true, g.N, g.N, g.d, qh, g.d, Nd, qh + bh * Nd, g.d, Nd, p, g.N,
                   g.N * g.N, bh));  // S = Q·Kᵀ
  dev.launch_rows(bh * g.N, g.N, SoftmaxRows{p, g.N, g.scale});
}

template <class D>
void forward(const Fwd<D>& a) {
  const DTensor& x = *a.in.at(0);
  const Geom g = geom(a.attrs, x.shape);
  DTensor& y = *a.out.at(0);
  a.dev.resize(y, {g.B, g.N, g.hd});
  DTensor* probs = saved_slot(a, 0);
  if (probs) a.dev.resize(*probs, {g.B, g.h, g.N, g.N});
  const int64_t NN = g.N * g.N, Nd = g.N * g.d, C = chunk_samples(g);
  Scratch<D> qh(a.dev, static_cast<size_t>(3 * C * g.h * Nd));
  Scratch<D> oh(a.dev, static_cast<size_t>(C * g.h * Nd));
  std::unique_ptr<Scratch<D>> tmp;
  if (!probs) tmp = std::make_unique<Scratch<D>>(a.dev, static_cast<size_t>(C * g.h * NN));
  for (int64_t b0 = 0; b0 < g.B; b0 += C) {
    const int64_t cb = std::min(C, g.B - b0), bh = cb * g.h;
    a.dev.launch(3 * bh * Nd, SplitHeads{x.p + b0 * g.N * g.ld, qh.get(), cb, g.N, g.h, g.d, g.ld});
    float* p = probs ? probs->p + b0 * g.h * NN : tmp->get();
    probs_of(a.dev, g, cb, qh.get(), p);
    a.dev.gemm(batched(false, false, g.N, g.d, g.N, p, g.N, NN, qh.get() + 2 * bh * Nd, g.d, Nd,
                       oh.get(), g.d, Nd, bh));  // O = P·V
    a.dev.launch(cb * g.N * g.hd,
                 MergeHeads{oh.get(), y.p + b0 * g.N * g.hd, cb, g.N, g.h, g.d, g.hd});
  }
}

template <class D>
void backward(const Bwd<D>& a) {
  DTensor* dx = want_din(a, 0);
  if (!dx) return;
  const Shape& xs = a.in_shapes.at(0);
  const Geom g = geom(a.attrs, xs);
  const DTensor& x = need_in(a, 0, "self_attention");
  const DTensor* probs = a.saved.empty() ? nullptr : a.saved[0];
  if (probs && !probs->p) probs = nullptr;
  if (probs) expect_dshape("self_attention", "saved probabilities", *probs, {g.B, g.h, g.N, g.N});
  const DTensor& dy = dout0(a, "self_attention", Shape{g.B, g.N, g.hd});
  a.dev.resize(*dx, xs);
  const int64_t NN = g.N * g.N, Nd = g.N * g.d, C = chunk_samples(g);
  Scratch<D> qh(a.dev, static_cast<size_t>(3 * C * g.h * Nd));
  Scratch<D> dh(a.dev, static_cast<size_t>(3 * C * g.h * Nd));  // dQ, dK, dV in head layout
  Scratch<D> doh(a.dev, static_cast<size_t>(C * g.h * Nd));
  Scratch<D> ds(a.dev, static_cast<size_t>(C * g.h * NN));
  std::unique_ptr<Scratch<D>> tmp;
  if (!probs) tmp = std::make_unique<Scratch<D>>(a.dev, static_cast<size_t>(C * g.h * NN));
  for (int64_t b0 = 0; b0 < g.B; b0 += C) {
    const int64_t cb = std::min(C, g.B - b0), bh = cb * g.h;
    a.dev.launch(3 * bh * Nd, SplitHeads{x.p + b0 * g.N * g.ld, qh.get(), cb, g.N, g.h, g.d, g.ld});
    a.dev.launch(bh * Nd, SplitHeads{dy.p + b0 * g.N * g.hd, doh.get(), cb, g.N, g.h, g.d, g.hd});
    const float* P = probs ? probs->p + b0 * g.h * NN : tmp->get();
    if (!probs) probs_of(a.dev, g, cb, qh.get(), tmp->get());
    const float *Q = qh.get(), *K = Q + bh * Nd, *V = K + bh * Nd;
    float *dQ = dh.get(), *dK = dQ + bh * Nd, *dV = dK + bh * Nd;
    a.dev.gemm(batched(true, false, g.N, g.d, g.N, P, g.N, NN, doh.get(), g.d, Nd, dV, g.d, Nd,
                       bh));  // dV = Pᵀ·dO
    a.dev.gemm(batched(false, true, g.N, g.N, g.d, doh.get(), g.d, Nd, V, g.d, Nd, ds.get(), g.N,
                       NN, bh));  // dP = dO·Vᵀ
    a.dev.launch_rows(bh * g.N, g.N, SoftmaxBackRows{P, ds.get(), g.N, g.scale});
    a.dev.gemm(batched(false, false, g.N, g.d, g.N, ds.get(), g.N, NN, K, g.d, Nd, dQ, g.d, Nd,
                       bh));  // dQ = dS·K
    a.dev.gemm(batched(true, false, g.N, g.d, g.N, ds.get(), g.N, NN, Q, g.d, Nd, dK, g.d, Nd,
                       bh));  // dK = dSᵀ·Q
    a.dev.launch(cb * g.N * g.ld,
                 MergeHeads{dh.get(), dx->p + b0 * g.N * g.ld, cb, g.N, g.h, g.d, g.ld});
  }
}

}  // namespace attn

template <class D>
void add_attention(KernelTable<D>& t) {
  add_kernel<D>(t, "self_attention", attn::forward<D>, attn::backward<D>);
}

}  // namespace fw::gpu
