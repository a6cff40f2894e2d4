// self_attention: qkv (B, N, 3·h·d) -> out (B, N, h·d); saved slot 0: probs (B, h, N, N).
//
// q, k, v of head j are the column blocks [0, hd) + j·d, [hd, 2hd) + j·d, [2hd, 3hd) + j·d of
// qkv (PyTorch: qkv.reshape(B, N, 3, h, d).permute(2, 0, 3, 1, 4)); no copies are made, the GEMMs
// read the strided blocks in place.
//  - forward, per (sample, head, block of query rows): S = Q·Kᵀ, P = softmax(S·d^-½) row-wise,
//    O = P·V written to out[:, rows, j·d : (j+1)·d]. P goes to the saved slot when there is one
//    (the attention maps), else to per-thread scratch.
//  - backward, per (sample, head): dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP - rowsum(dP∘P))·d^-½,
//    dQ = dS·K, dK = dSᵀ·Q. P is read from the saved slot, or recomputed from qkv without one.
#include "kernels/cpu/common.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/simd.h"

namespace fw::cpu {
namespace {

constexpr std::string_view kOp = "self_attention";

struct Geom {
  int64_t B, N, h, d, hd, ld;  // ld = 3·h·d, the row stride of qkv
  float scale;
};

Geom geom(const Attrs& a, const Shape& qkv) {
  require(qkv.size() == 3, kOp, "input is " + shape_str(qkv) + ", expected (B, N, 3*heads*head_dim)");
  Geom g{};
  g.B = qkv[0], g.N = qkv[1];
  g.h = attr_i(a, "heads", 2), g.d = attr_i(a, "head_dim", 32);
  require(g.h >= 1 && g.d >= 1, kOp, "heads and head_dim must be >= 1");
  g.hd = g.h * g.d, g.ld = 3 * g.hd;
  require(qkv[2] == g.ld, kOp,
          "expects " + std::to_string(g.ld) + " input features (3 * " + std::to_string(g.h) +
              " heads * " + std::to_string(g.d) + "), gets " + std::to_string(qkv[2]));
  g.scale = 1.0f / std::sqrt(static_cast<float>(g.d));
  return g;
}

// Row-wise softmax of s·scale, in place: p (rows x n).
void softmax_rows(float* p, int64_t rows, int64_t n, float scale) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = p + r * n;
    float m = row[0];
#pragma omp simd reduction(max : m)
    for (int64_t i = 1; i < n; ++i) m = std::max(m, row[i]);
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i) {
      const float e = exp_f((row[i] - m) * scale);
      row[i] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; ++i) row[i] *= inv;
  }
}

// P rows [r0, r0+rows) of head j of sample b: (rows x N) into p.
void probs_rows(const Geom& g, const float* qkv, int64_t b, int64_t j, int64_t r0, int64_t rows,
                float* p) {
  const float* base = qkv + b * g.N * g.ld;
  const float* q = base + r0 * g.ld + j * g.d;
  const float* k = base + g.hd + j * g.d;
  gemm(false, true, rows, g.N, g.d, q, g.ld, k, g.ld, p, g.N, false);
  softmax_rows(p, rows, g.N, g.scale);
}

void attention_forward(const ForwardArgs& a) {
  const Tensor& xt = *a.in.at(0);
  const Geom g = geom(a.attrs, xt.shape);
  Tensor& yt = *a.out.at(0);
  resize(yt, {g.B, g.N, g.hd});
  Tensor* probs = saved_slot(a, 0);
  if (probs) resize(*probs, {g.B, g.h, g.N, g.N});
  // Query-row blocks: enough tasks for the threads, rows of at least 32 for the GEMMs.
  const int64_t want = std::max<int64_t>(1, (4 * num_threads() + g.B * g.h - 1) / (g.B * g.h));
  const int64_t R = std::max<int64_t>(std::min<int64_t>(32, g.N), (g.N + want - 1) / want);
  const int64_t nb = (g.N + R - 1) / R;
  const float* qkv = xt.ptr();
  float* out = yt.ptr();
  parallel_for(0, g.B * g.h * nb, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t b = t / (g.h * nb), j = (t / nb) % g.h, r0 = (t % nb) * R;
      const int64_t rows = std::min(R, g.N - r0);
      float* p = probs ? probs->ptr() + ((b * g.h + j) * g.N + r0) * g.N
                       : scratch(0, R * g.N);
      probs_rows(g, qkv, b, j, r0, rows, p);
      const float* v = qkv + b * g.N * g.ld + 2 * g.hd + j * g.d;
      gemm(false, false, rows, g.d, g.N, p, g.N, v, g.ld, out + (b * g.N + r0) * g.hd + j * g.d,
           g.hd, false);
    }
  });
}

void attention_backward(const BackwardArgs& a) {
  Tensor* dxt = want_din(a, 0);
  if (!dxt) return;
  const Shape& xs = in_shape(a, 0);
  const Geom g = geom(a.attrs, xs);
  const float* qkv = need_in(a, 0, kOp).ptr();
  const Tensor* probs = a.saved.empty() ? nullptr : a.saved[0];
  if (probs && probs->data.empty()) probs = nullptr;
  if (probs) expect_shape(kOp, "saved probabilities", *probs, {g.B, g.h, g.N, g.N});
  const Tensor& dyt = *a.dout.at(0);
  expect_shape(kOp, "output gradient", dyt, {g.B, g.N, g.hd});
  resize(*dxt, xs);
  const float* dout = dyt.ptr();
  float* dqkv = dxt->ptr();
  const int64_t NN = g.N * g.N;
  parallel_for(0, g.B * g.h, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t b = t / g.h, j = t % g.h;
      const float* P;
      if (probs) {
        P = probs->ptr() + t * NN;
      } else {
        float* p = scratch(0, NN);
        probs_rows(g, qkv, b, j, 0, g.N, p);
        P = p;
      }
      const float* base = qkv + b * g.N * g.ld;
      const float* Q = base + j * g.d;
      const float* K = base + g.hd + j * g.d;
      const float* V = base + 2 * g.hd + j * g.d;
      float* dbase = dqkv + b * g.N * g.ld;
      float* dQ = dbase + j * g.d;
      float* dK = dbase + g.hd + j * g.d;
      float* dV = dbase + 2 * g.hd + j * g.d;
      const float* dO = dout + b * g.N * g.hd + j * g.d;
      float* dS = scratch(1, NN);
      gemm(true, false, g.N, g.d, g.N, P, g.N, dO, g.hd, dV, g.ld, false);   // dV = Pᵀ·dO
      gemm(false, true, g.N, g.N, g.d, dO, g.hd, V, g.ld, dS, g.N, false);   // dP = dO·Vᵀ
      for (int64_t r = 0; r < g.N; ++r) {
        const float* pr = P + r * g.N;
        float* sr = dS + r * g.N;
        float dot = 0;
#pragma omp simd reduction(+ : dot)
        for (int64_t i = 0; i < g.N; ++i) dot += pr[i] * sr[i];
        for (int64_t i = 0; i < g.N; ++i) sr[i] = pr[i] * (sr[i] - dot) * g.scale;
      }
      gemm(false, false, g.N, g.d, g.N, dS, g.N, K, g.ld, dQ, g.ld, false);  // dQ = dS·K
      gemm(true, false, g.N, g.d, g.N, dS, g.N, Q, g.ld, dK, g.ld, false);   // dK = dSᵀ·Q
    }
  });
}

// Per sample: heads x N x N floats of probabilities (in0: (N, 3*h*d)).
long double attention_saved_bytes(const Attrs& a, const Shape& in0) {
  const long double n = in0.empty() ? 0 : static_cast<long double>(in0[0]);
  return 4.0L * static_cast<long double>(attr_i(a, "heads", 2)) * n * n;
}

}  // namespace

const CpuKernel kSelfAttention = {
    "self_attention", needs_input0, 1,
    "(B, heads, N, N): the softmax probabilities (optional for backward: recomputed when absent)",
    attention_forward, attention_backward, never_identity, false, attention_saved_bytes};

}  // namespace fw::cpu
