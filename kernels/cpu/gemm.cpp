#include "kernels/cpu/gemm.h"

// GCC 12 reports a false "may be used uninitialized" inside Eigen's AVX-512 packet code
// (_mm512_undefined_ps), at the point of instantiation, i.e. in this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>

namespace fw::cpu {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;
using MutMap = Eigen::Map<RowMat, Eigen::Unaligned, Eigen::OuterStride<>>;

template <class TA, class TB>
void run(const TA& a, const TB& b, MutMap& c, bool accumulate) {
  if (accumulate)
    c.noalias() += a * b;
  else
    c.noalias() = a * b;
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float* A,
          int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  MutMap c(C, M, N, Eigen::OuterStride<>(ldc));
  if (K <= 0) {
    if (!accumulate) c.setZero();
    return;
  }
  const ConstMap a = trans_a ? ConstMap(A, K, M, Eigen::OuterStride<>(lda))
                             : ConstMap(A, M, K, Eigen::OuterStride<>(lda));
  const ConstMap b = trans_b ? ConstMap(B, N, K, Eigen::OuterStride<>(ldb))
                             : ConstMap(B, K, N, Eigen::OuterStride<>(ldb));
  if (!trans_a && !trans_b) run(a, b, c, accumulate);
  if (!trans_a && trans_b) run(a, b.transpose(), c, accumulate);
  if (trans_a && !trans_b) run(a.transpose(), b, c, accumulate);
  if (trans_a && trans_b) run(a.transpose(), b.transpose(), c, accumulate);
}

}  // namespace fw::cpu
