// gemm_eigen(): SGEMM on Eigen's GEBP kernels, with per-thread packing buffers (the portable
// path of gemm.h, and the reference its AVX-512 kernel is tested against).
//
// Eigen's public product (`C.noalias() = A * B`) allocates its packing buffers on every call;
// above glibc's mmap threshold each call then maps fresh pages and takes page faults (very slow
// under virtualisation: a 64x147x840 product ran at 10 GFLOP/s instead of 140). With Eigen 3.4 we
// therefore call its internal general_matrix_matrix_product directly with a blocking object whose
// buffers live in thread-local storage and are reused. Other Eigen versions use the public API.

// GCC 12 reports a false "may be used uninitialized" inside Eigen's AVX-512 packet code
// (_mm512_undefined_ps), at the point of instantiation, i.e. in this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/cpu/gemm.h"

#include <Eigen/Core>
#include <vector>

namespace fw::cpu {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;

#if EIGEN_WORLD_VERSION == 3 && EIGEN_MAJOR_VERSION == 4
#define FW_GEMM_REUSE_BUFFERS 1

using Index = Eigen::Index;

// A 64-byte aligned per-thread buffer of at least n floats, grown on demand and kept.
float* aligned_buffer(int slot, Index n) {
  thread_local std::vector<float> buffers[2];
  std::vector<float>& b = buffers[slot];
  if (b.size() < static_cast<size_t>(n + 16)) b.resize(n + 16);
  const auto p = reinterpret_cast<uintptr_t>(b.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t(63));
}

// Eigen's blocking sizes for a product, with packing buffers from aligned_buffer().
class ReusedBlocking : public Eigen::internal::level3_blocking<float, float> {
 public:
  // m, n, k as Eigen's column-major kernel sees them.
  ReusedBlocking(Index m, Index n, Index k) {
    m_mc = m, m_nc = n, m_kc = k;
    Eigen::internal::computeProductBlockingSizes<float, float, 1, Index>(m_kc, m_mc, m_nc, 1);
    m_blockA = aligned_buffer(0, m_mc * m_kc);
    m_blockB = aligned_buffer(1, m_kc * m_nc);
  }
};

template <int LhsOrder, int RhsOrder>
void run_gemm(Index M, Index N, Index K, const float* A, Index lda, const float* B, Index ldb,
              float* C, Index ldc) {
  // Row-major destination: Eigen runs the transposed (column-major) product, whose rows are
  // our columns.
  ReusedBlocking blocking(N, M, K);
  Eigen::internal::general_matrix_matrix_product<Index, float, LhsOrder, false, float, RhsOrder,
                                                 false, Eigen::RowMajor, 1>::run(M, N, K, A, lda, B,
                                                                                 ldb, C, 1, ldc,
                                                                                 1.0f, blocking);
}
#endif

template <class TA, class TB>
void run(const TA& a, const TB& b, MutMap& c, bool accumulate) {
  if (accumulate)
    c.noalias() += a * b;
  else
    c.noalias() = a * b;
}

}  // namespace

void gemm_eigen(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
                int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  MutMap c(C, M, N, Eigen::OuterStride<>(ldc));
  if (!accumulate) c.setZero();
  if (K <= 0) return;
#ifdef FW_GEMM_REUSE_BUFFERS
  // Tiny products: the packing overhead dominates, Eigen's lazy product is faster.
  if (M * N * K >= 4096) {
    constexpr int R = Eigen::RowMajor, Cm = Eigen::ColMajor;
    if (!trans_a && !trans_b) run_gemm<R, R>(M, N, K, A, lda, B, ldb, C, ldc);
    if (!trans_a && trans_b) run_gemm<R, Cm>(M, N, K, A, lda, B, ldb, C, ldc);
    if (trans_a && !trans_b) run_gemm<Cm, R>(M, N, K, A, lda, B, ldb, C, ldc);
    if (trans_a && trans_b) run_gemm<Cm, Cm>(M, N, K, A, lda, B, ldb, C, ldc);
    return;
  }
#endif
  const ConstMap a = trans_a ? ConstMap(A, K, M, Eigen::OuterStride<>(lda))
                             : ConstMap(A, M, K, Eigen::OuterStride<>(lda));
  const ConstMap b = trans_b ? ConstMap(B, N, K, Eigen::OuterStride<>(ldb))
                             : ConstMap(B, K, N, Eigen::OuterStride<>(ldb));
  if (!trans_a && !trans_b) run(a, b, c, true);
  if (!trans_a && trans_b) run(a, b.transpose(), c, true);
  if (trans_a && !trans_b) run(a.transpose(), b, c, true);
  if (trans_a && trans_b) run(a.transpose(), b.transpose(), c, true);
}

}  // namespace fw::cpu
