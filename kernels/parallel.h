// A fixed pool of worker threads and parallel_for over an index range.
//
// - set_num_threads(n): n >= 1 threads take part (the caller is one of them); 0 = all cores.
// - parallel_for(begin, end, grain, fn): calls fn(lo, hi) on disjoint chunks covering
//   [begin, end), each at least `grain` long (except the last), and returns when all are done.
//   Nested calls run serially in the calling thread. Calls from several threads at once (the
//   GUI's training worker beside another job) are correct: each caller runs its own range to the
//   end, and the workers help the latest call.
// - set_num_threads replaces the pool: never while a parallel_for is running in another thread.
#pragma once
#include <cstdint>
#include <functional>

namespace fw {

void set_num_threads(int n);
int num_threads();

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

// While one lives, parallel_for calls made on this thread run serially in it, as nested calls do
// (a search scores several subnets at once, each on its own thread and one core).
class SerialScope {
 public:
  SerialScope();
  ~SerialScope();
  SerialScope(const SerialScope&) = delete;
  SerialScope& operator=(const SerialScope&) = delete;

 private:
  bool was_;
};

}  // namespace fw
