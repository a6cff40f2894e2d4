// Single-threaded row-major SGEMM on Eigen, the building block of conv, linear, attention and
// token mixing. Callers split their work with fw::parallel_for and call gemm() per chunk, so
// Eigen never starts threads of its own (it is built without OpenMP here).
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

}  // namespace fw::cpu
