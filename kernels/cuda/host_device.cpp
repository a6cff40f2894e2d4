// HostDevice (device.h): gemm through Eigen, memory limits from core/sysmem.h.
// GCC 12 reports false maybe-uninitialized warnings inside Eigen's AVX-512 kernels (as in
// kernels/cpu/gemm_eigen.cpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Core>

#include "core/sysmem.h"
#include "kernels/cuda/device.h"

namespace fw::gpu {

void HostDevice::gemm(const Gemm& g) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using CMap = Eigen::Map<const Mat, 0, Eigen::OuterStride<>>;
  using MMap = Eigen::Map<Mat, 0, Eigen::OuterStride<>>;
  if (g.m <= 0 || g.n <= 0) return;
  for (int64_t e = 0; e < g.batch; ++e) {
    MMap c(g.c + e * g.sc, g.m, g.n, Eigen::OuterStride<>(g.ldc));
    if (g.beta == 0.0f)
      c.setZero();
    else if (g.beta != 1.0f)
      c *= g.beta;
    if (g.k <= 0) continue;
    // A is stored m x k (or k x m when ta), B k x n (or n x k when tb).
    CMap a(g.a + e * g.sa, g.ta ? g.k : g.m, g.ta ? g.m : g.k, Eigen::OuterStride<>(g.lda));
    CMap b(g.b + e * g.sb, g.tb ? g.n : g.k, g.tb ? g.k : g.n, Eigen::OuterStride<>(g.ldb));
    if (!g.ta && !g.tb) c.noalias() += g.alpha * (a * b);
    if (g.ta && !g.tb) c.noalias() += g.alpha * (a.transpose() * b);
    if (!g.ta && g.tb) c.noalias() += g.alpha * (a * b.transpose());
    if (g.ta && g.tb) c.noalias() += g.alpha * (a.transpose() * b.transpose());
  }
}

MemoryLimit HostDevice::limit() const {
  return {static_cast<long double>(memory_limit_bytes()), memory_limit_text()};
}

std::string HostDevice::out_of_memory(size_t n) const {
  return "out of memory: a buffer of " + format_bytes(4.0L * static_cast<long double>(n)) +
         " could not be allocated (" + memory_limit_text() + ")";
}

}  // namespace fw::gpu
