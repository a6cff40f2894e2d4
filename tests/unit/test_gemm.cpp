// gemm() (the AVX-512 packed kernel where available) against gemm_eigen() and a double loop:
// every transpose combination, overwrite and accumulate, padded strides, edge sizes around the
// 8x32 register tile and the 256/128/4096 cache blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace {

TEST(Gemm, MatchesDoubleLoopForAllLayouts) {
  std::mt19937 rng(1);
  std::normal_distribution<float> n(0.0f, 1.0f);
  const int64_t shapes[][3] = {{1, 1, 1},    {7, 5, 3},     {8, 32, 256}, {9, 33, 257},
                               {17, 70, 40}, {130, 31, 300}, {64, 147, 840}, {3, 4100, 20},
                               {200, 9, 513}};
  for (const auto& s : shapes) {
    const int64_t M = s[0], N = s[1], K = s[2];
    for (int t = 0; t < 8; ++t) {
      const bool ta = t & 1, tb = t & 2, acc = t & 4;
      const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 2, ldc = N + 5;
      std::vector<float> A((ta ? K : M) * lda), B((tb ? N : K) * ldb), C(M * ldc), C2;
      for (float& v : A) v = n(rng);
      for (float& v : B) v = n(rng);
      for (float& v : C) v = n(rng);
      C2 = C;
      std::vector<float> Ce = C;
      fw::cpu::gemm(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, C.data(), ldc, acc);
      fw::cpu::gemm_eigen(ta, tb, M, N, K, A.data(), lda, B.data(), ldb, Ce.data(), ldc, acc);
      double worst = 0, worst_e = 0;
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          double want = acc ? C2[i * ldc + j] : 0.0;
          for (int64_t k = 0; k < K; ++k)
            want += double(ta ? A[k * lda + i] : A[i * lda + k]) *
                    double(tb ? B[j * ldb + k] : B[k * ldb + j]);
          const double scale = std::sqrt(double(K)) + 1.0;
          worst = std::max(worst, std::abs(C[i * ldc + j] - want) / scale);
          worst_e = std::max(worst_e, std::abs(Ce[i * ldc + j] - want) / scale);
        }
      EXPECT_LT(worst, 1e-5) << M << "x" << N << "x" << K << " ta " << ta << " tb " << tb
                             << " acc " << acc;
      EXPECT_LT(worst_e, 1e-5) << "eigen " << M << "x" << N << "x" << K;
      // Padding between rows is never written.
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(C[i * ldc + j], C2[i * ldc + j]);
    }
  }
}

}  // namespace
