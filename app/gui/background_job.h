// What the GUI's background runs (the Training view's TrainingSession, the Search view's SearchRun)
// share: at most one Job at a time, started by the run, with pause, resume and cancel.
#pragma once
#include <memory>

#include "core/job.h"

namespace fw::gui {

class BackgroundJob {
 public:
  BackgroundJob() = default;
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;
  ~BackgroundJob() { stop(); }

  void pause() {
    if (active()) job_->control().pause = true;
  }
  void resume() {
    if (job_) job_->control().pause = false;
  }
  void cancel() {
    if (!job_) return;
    job_->control().cancel = true;
    job_->control().pause = false;
  }
  // True from the start until the worker has finished (paused and stopping included).
  bool active() const { return job_ && !job_->finished(); }
  bool paused() const { return active() && job_->control().pause.load(); }

 protected:
  // Joins a finished worker (it reported its own failure) and makes a new Job to start.
  Job& fresh_job() {
    if (job_) join();
    job_ = std::make_unique<Job>();
    return *job_;
  }
  // Waits for the worker; its failures reach the view through the run's own state.
  void join() {
    if (!job_) return;
    try {
      job_->wait();
    } catch (const std::exception&) {
    }
  }
  // Cancels and joins (the runs' destructors call it before their state goes).
  void stop() {
    if (job_) job_->control().cancel = true;
    job_.reset();
  }
  bool has_job() const { return job_ != nullptr; }
  JobControl& control() { return job_->control(); }

 private:
  std::unique_ptr<Job> job_;
};

}  // namespace fw::gui
