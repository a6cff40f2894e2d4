// Long jobs (inference, training, search) report through atomics that a UI polls each frame and
// obey a cancel flag and a pause flag (STYLE.md, Tracy's habit).
//
// - JobControl: progress {done, total}, cancel and pause requests, and a status line. The job
//   checks `cancelled()` and calls `wait_if_paused()` at safe points (between training steps).
// - Job: runs a function on a background thread with a JobControl; `finished()` polls, `wait()`
//   joins and rethrows what the function threw (fw::Error), `error()` gives its message.
#pragma once
#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace fw {

struct JobControl {
  std::atomic<int64_t> done{0}, total{0};
  std::atomic<bool> cancel{false}, pause{false};

  bool cancelled() const { return cancel.load(); }
  // Blocks while paused (checking every 20 ms); returns false if cancelled meanwhile.
  bool wait_if_paused() const {
    while (pause.load() && !cancel.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return !cancel.load();
  }
  void set_status(std::string s) {
    std::lock_guard<std::mutex> lk(mu_);
    status_ = std::move(s);
  }
  std::string status() const {
    std::lock_guard<std::mutex> lk(mu_);
    return status_;
  }

 private:
  mutable std::mutex mu_;
  std::string status_;
};

class Job {
 public:
  Job() = default;
  ~Job() {
    control_.cancel = true;
    if (thread_.joinable()) thread_.join();
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  void start(std::function<void(JobControl&)> fn) {
    finished_ = false;
    thread_ = std::thread([this, fn = std::move(fn)] {
      try {
        fn(control_);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lk(mu_);
        error_ = std::current_exception();
        message_ = e.what();
      }
      finished_ = true;
    });
  }
  bool running() const { return thread_.joinable() && !finished_; }
  bool finished() const { return finished_.load(); }
  void wait() {
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lk(mu_);
    if (error_) std::rethrow_exception(error_);
  }
  std::string error() const {
    std::lock_guard<std::mutex> lk(mu_);
    return message_;
  }
  JobControl& control() { return control_; }

 private:
  JobControl control_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  mutable std::mutex mu_;
  std::exception_ptr error_;
  std::string message_;
};

}  // namespace fw
