// A fixed pool of worker threads and parallel_for over an index range.
//
// - set_num_threads(n): n >= 1 threads take part (the caller is one of them); 0 = all cores.
// - parallel_for(begin, end, grain, fn): calls fn(lo, hi) on disjoint chunks covering
//   [begin, end), each at least `grain` long (except the last), and returns when all are done.
//   Nested calls run serially in the calling thread.
#pragma once
#include <cstdint>
#include <functional>

namespace fw {

void set_num_threads(int n);
int num_threads();

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

}  // namespace fw
