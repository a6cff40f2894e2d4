// gemm(): a BLIS-style SGEMM for AVX-512 (see gemm.h).
//
// Loops, outermost first: column blocks of NC, depth blocks of at most KC (op(B) packed into 32-column
// panels), row blocks of MC (op(A) packed into 8-row panels), then an 8x32 register-blocked
// micro-kernel per (row panel, column panel): 16 zmm accumulators, per k two 16-float loads of B
// and eight broadcasts of A. Packing zero-pads partial panels; the micro-kernel stores only the
// valid rows and masks the valid columns, so any M, N, K and strides work. Packing buffers are
// per thread and reused.
#include "kernels/cpu/gemm.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>
#endif

namespace fw::cpu {

#if defined(__AVX512F__)
namespace {

constexpr int64_t MR = 8, NR = 32;
constexpr int64_t KC = 384, MC = 128, NC = 4096;  // KC: the most depth per block (see gemm)

// 64-byte aligned per-thread buffers (slot 0: packed A, slot 1: packed B).
float* pack_buffer(int slot, int64_t n) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& b = buffers[slot];
  if (b.size() < static_cast<size_t>(n + 16)) b.resize(n + 16);
  const auto p = reinterpret_cast<uintptr_t>(b.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

// op(A)[i0 : i0+mc, p0 : p0+kc] -> MR-row panels, each k-major: out[panel][k * MR + r].
void pack_a(bool trans, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0,
            int64_t kc, float* out) {
  for (int64_t ip = 0; ip < mc; ip += MR) {
    const int64_t rows = std::min(MR, mc - ip);
    float* dst = out + ip * kc;
    if (!trans) {
      const float* src = A + (i0 + ip) * lda + p0;  // A[i][k] = src[r * lda + k]
      for (int64_t k = 0; k < kc; ++k) {
        for (int64_t r = 0; r < rows; ++r) dst[k * MR + r] = src[r * lda + k];
        for (int64_t r = rows; r < MR; ++r) dst[k * MR + r] = 0.0f;
      }
    } else {
      const float* src = A + p0 * lda + i0 + ip;  // op(A)[i][k] = A[k][i] = src[k * lda + r]
      for (int64_t k = 0; k < kc; ++k) {
        for (int64_t r = 0; r < rows; ++r) dst[k * MR + r] = src[k * lda + r];
        for (int64_t r = rows; r < MR; ++r) dst[k * MR + r] = 0.0f;
      }
    }
  }
}

// op(B)[p0 : p0+kc, j0 : j0+nc] -> NR-column panels, each k-major: out[panel][k * NR + c].
void pack_b(bool trans, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0,
            int64_t nc, float* out) {
  for (int64_t jp = 0; jp < nc; jp += NR) {
    const int64_t cols = std::min(NR, nc - jp);
    float* dst = out + jp * kc;
    if (!trans) {
      const float* src = B + p0 * ldb + j0 + jp;  // op(B)[k][j] = src[k * ldb + c]
      for (int64_t k = 0; k < kc; ++k) {
        std::memcpy(dst + k * NR, src + k * ldb, sizeof(float) * cols);
        std::fill(dst + k * NR + cols, dst + (k + 1) * NR, 0.0f);
      }
    } else {
      const float* src = B + (j0 + jp) * ldb + p0;  // op(B)[k][j] = B[j][k] = src[c * ldb + k]
      for (int64_t k0 = 0; k0 < kc; k0 += 16) {     // 16 k at a time: short strided runs
        const int64_t k1 = std::min(kc, k0 + 16);
        for (int64_t c = 0; c < cols; ++c)
          for (int64_t k = k0; k < k1; ++k) dst[k * NR + c] = src[c * ldb + k];
        for (int64_t k = k0; k < k1; ++k) std::fill(dst + k * NR + cols, dst + (k + 1) * NR, 0.0f);
      }
    }
  }
}

inline __mmask16 lane_mask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u);
}

// C[0:rows, 0:cols] (+)= a_panel (kc x MR) · b_panel (kc x NR).
void micro_kernel(int64_t kc, const float* a, const float* b, float* C, int64_t ldc, int64_t rows,
                  int64_t cols, bool overwrite) {
  __m512 c0[MR], c1[MR];
  for (int r = 0; r < MR; ++r) c0[r] = c1[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_load_ps(b + k * NR), b1 = _mm512_load_ps(b + k * NR + 16);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m512 av = _mm512_set1_ps(a[k * MR + r]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  const __mmask16 m0 = lane_mask(cols), m1 = lane_mask(cols - 16);
  for (int r = 0; r < MR; ++r) {
    if (r >= rows) break;
    float* c = C + r * ldc;
    if (overwrite) {
      _mm512_mask_storeu_ps(c, m0, c0[r]);
      _mm512_mask_storeu_ps(c + 16, m1, c1[r]);
    } else {
      _mm512_mask_storeu_ps(c, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c), c0[r]));
      _mm512_mask_storeu_ps(c + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + 16), c1[r]));
    }
  }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
          int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || M * N * K < 8192) {  // tiny: packing would dominate
    gemm_eigen(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
    return;
  }
  // Depth blocks of equal size, at most KC: K = 320 is one block, not 256 + 64.
  const int64_t nk = (K + KC - 1) / KC, kb = (K + nk - 1) / nk;
  float* bp = pack_buffer(1, kb * std::min(NC, (N + NR - 1) / NR * NR));
  float* ap = pack_buffer(0, kb * std::min(MC, (M + MR - 1) / MR * MR));
  for (int64_t jc = 0; jc < N; jc += NC) {
    const int64_t nc = std::min(NC, N - jc);
    for (int64_t pc = 0; pc < K; pc += kb) {
      const int64_t kc = std::min(kb, K - pc);
      const bool overwrite = pc == 0 && !accumulate;
      pack_b(trans_b, B, ldb, pc, kc, jc, nc, bp);
      for (int64_t ic = 0; ic < M; ic += MC) {
        const int64_t mc = std::min(MC, M - ic);
        pack_a(trans_a, A, lda, ic, mc, pc, kc, ap);
        for (int64_t jr = 0; jr < nc; jr += NR)
          for (int64_t ir = 0; ir < mc; ir += MR)
            micro_kernel(kc, ap + ir * kc, bp + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc,
                         std::min(MR, mc - ir), std::min(NR, nc - jr), overwrite);
      }
    }
  }
}

#else  // no AVX-512: Eigen

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
          int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  gemm_eigen(trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

#endif

}  // namespace fw::cpu
