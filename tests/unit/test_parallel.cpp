// The thread pool behind parallel_for: back-to-back calls (as the executor makes between ops)
// must run every index exactly once and always return. An earlier pool kept one chunk counter
// for all calls, so a worker waking late could take chunks of the next call and the caller then
// waited forever (seen as a training run that hung after a few thousand steps).
#include <gtest/gtest.h>

#include <atomic>
#include <vector>

#include "kernels/parallel.h"

TEST(ParallelFor, BackToBackCallsRunEveryIndexOnce) {
  for (int threads : {2, 4}) {
    fw::set_num_threads(threads);
    for (int it = 0; it < 20000; ++it) {
      const int64_t n = 1 + it % 37;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      fw::parallel_for(0, n, 1, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) hits[size_t(i)]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << "call " << it << " index " << i;
    }
  }
  fw::set_num_threads(0);
}

TEST(ParallelFor, NestedCallsRunSerially) {
  fw::set_num_threads(2);
  std::atomic<int64_t> sum{0};
  fw::parallel_for(0, 8, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      fw::parallel_for(0, 10, 1, [&](int64_t a, int64_t b) { sum += b - a; });
  });
  EXPECT_EQ(sum.load(), 80);
  fw::set_num_threads(0);
}
