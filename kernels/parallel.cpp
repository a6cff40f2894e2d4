#include "kernels/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace fw {
namespace {

// One parallel_for call: its own chunk counter and completion count, shared with the workers
// that pick it up. Keeping them per task (not in the pool) means a worker that wakes late for an
// old task can never take chunks of, or report completions to, a newer one.
struct Task {
  const std::function<void(int64_t)>* fn = nullptr;
  int64_t chunks = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> done{0};
};

// Workers wait for a new task generation; the caller and the workers pull chunks of the current
// task with its atomic counter, and the caller waits until all of them are done.
class Pool {
 public:
  explicit Pool(int n) : n_(std::max(1, n)) {
    for (int i = 1; i < n_; ++i) workers_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return n_; }

  void run(int64_t chunks, const std::function<void(int64_t)>& fn) {
    auto task = std::make_shared<Task>();
    task->fn = &fn;
    task->chunks = chunks;
    {
      std::lock_guard<std::mutex> lk(mu_);
      current_ = task;
      ++generation_;
    }
    cv_.notify_all();
    work(*task);
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return task->done.load() == task->chunks; });
    current_.reset();
  }

 private:
  // Runs chunks of `t` until none is left. Once every chunk has been taken the counter only
  // grows past `chunks`, so a late worker never calls t.fn (which may be gone by then).
  void work(Task& t) {
    int64_t finished = 0;
    for (;;) {
      const int64_t c = t.next.fetch_add(1);
      if (c >= t.chunks) break;
      (*t.fn)(c);
      ++finished;
    }
    if (finished && t.done.fetch_add(finished) + finished == t.chunks) {
      std::lock_guard<std::mutex> lk(mu_);  // the waiter checks `done` under this lock
      done_cv_.notify_all();
    }
  }
  void loop() {
    uint64_t seen = 0;
    for (;;) {
      std::shared_ptr<Task> t;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
        t = current_;
      }
      if (t) work(*t);
    }
  }

  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_, done_cv_;
  std::shared_ptr<Task> current_;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

std::mutex g_pool_mu;
std::unique_ptr<Pool> g_pool;
thread_local bool t_inside = false;

int hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

Pool& pool() {
  std::lock_guard<std::mutex> lk(g_pool_mu);
  if (!g_pool) g_pool = std::make_unique<Pool>(hardware_threads());
  return *g_pool;
}

}  // namespace

void set_num_threads(int n) {
  if (n <= 0) n = hardware_threads();
  std::lock_guard<std::mutex> lk(g_pool_mu);
  if (g_pool && g_pool->size() == n) return;
  g_pool.reset();
  g_pool = std::make_unique<Pool>(n);
}

int num_threads() { return pool().size(); }

SerialScope::SerialScope() : was_(t_inside) { t_inside = true; }
SerialScope::~SerialScope() { t_inside = was_; }

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  if (end <= begin) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t n = end - begin;
  Pool& p = pool();
  int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, int64_t(p.size()) * 4);
  if (chunks <= 1 || p.size() == 1 || t_inside) {
    fn(begin, end);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  chunks = (n + step - 1) / step;
  std::function<void(int64_t)> body = [&](int64_t c) {
    const bool was = t_inside;
    t_inside = true;
    const int64_t lo = begin + c * step;
    fn(lo, std::min(end, lo + step));
    t_inside = was;
  };
  p.run(chunks, body);
}

}  // namespace fw
