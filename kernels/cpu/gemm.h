// Single-threaded row-major SGEMM, the building block of conv, linear, attention and token
// mixing. Callers split their work with fw::parallel_for and call gemm() per chunk.
//  - gemm(): on AVX-512 a packed 8x32 register-blocked kernel (gemm.cpp, ~85% of the core's
//    FMA peak); elsewhere, and for tiny products, gemm_eigen().
//  - gemm_eigen(): Eigen's GEBP kernels with reused per-thread packing buffers (gemm_eigen.cpp);
//    Eigen never starts threads of its own here (it is built without OpenMP).
#pragma once
#include <cstdint>

namespace fw::cpu {

// C = op(A) * op(B)          (accumulate = false)
// C = C + op(A) * op(B)      (accumulate = true)
//  - C: (M, N), row stride ldc.
//  - op(A): (M, K). A is stored row-major as (M, K) with row stride lda, or as (K, M) when
//    trans_a (op(A) = Aᵀ).
//  - op(B): (K, N). B is stored as (K, N) with row stride ldb, or as (N, K) when trans_b.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
          int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate);
void gemm_eigen(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
                int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate);

}  // namespace fw::cpu
