// The background inference service every view shares (and later the search and the GPU backend):
// one model at a time, requests run on one worker thread, results cached; the UI never waits.
//
// Model
//  - set_model(snapshot): the graph and weights the requests run on, with their revisions
//    (Document::revision() and a weights revision the caller bumps when weights change) and the
//    backend. A snapshot whose revisions differ from the current one abandons the request running
//    on the old one (its JobControl is cancelled: the executor stops at the next op, RunOptions::
//    cancel, and long loops check JobControl::cancelled(); nothing it would have produced is
//    stored) and drops queued ones. The executor is built on the worker, lazily, once per model.
//    A graph that does not validate or weights that do not bind make every request fail with that
//    reason.
//  - request(input_id, what, work): asks for the result of `work` on the current model for an
//    input (input_id names it: "sample:3", "file:/x.png@<mtime>", "dataset:fashion-mnist:test:17")
//    and a request (what: "gradcam|stages.2|class=3|gradcam++"). Returns at once. Nothing happens
//    when the key (graph revision, weights revision, input_id, what) is cached (Done or Failed),
//    queued or running. Before any set_model the request is Failed ("no model to run").
//    Requests run one at a time in the order asked, newest first when several wait (the one the
//    user looks at now).
//  - get(input_id, what): the state for the current model: Absent (never asked), Queued, Running
//    (with progress), Done (the result), Failed (the reason, one line). Results stay cached (up to
//    `cache_limit` of them, least recently read dropped first) until the model changes; a model
//    switched back to an earlier revision pair recomputes.
//  - activity(): for the status bar: what runs now, its progress, how many wait.
//  - A device that runs out of memory (fw::gpu::DeviceOutOfMemory, kernels/cuda/device.h, from
//    building the model's executor or from the work) does not fail the request: it runs again on
//    a CPU executor of the same model (built once, when first needed), and its Status carries a
//    `notice` saying so; activity() counts these retries and keeps the last notice, for the
//    status bar. The next request tries the device again.
//  - Work gets a Context: the executor (its inputs batched as the graph says), the graph, the
//    analysis, the weights, the backend and the JobControl (progress: control.total/done; a
//    status line). It returns any result as a shared_ptr<const void>; get_as<T> casts it back.
//    An fw::Error / std::exception thrown by work makes the request Failed with its message.
//    Work sees the model's executor through a wrapper that puts the request's cancel flag into
//    the RunOptions of every forward (unless the work set its own), so code that knows nothing of
//    the service (views/gradcam.h) stops at the next op when the request is abandoned. fw::Cancelled
//    thrown by work stores nothing; a request abandoned while running stores nothing even when its
//    work returns.
//  - Threads: runs use the process-wide kernel pool (kernels/parallel.h) as it is; `threads` > 0
//    sets its size in the constructor, on the constructing thread (set_num_threads() must not run
//    while another thread is inside parallel_for, so the worker never changes it). The default (0)
//    leaves the pool alone: the UI thread is not part of the pool, and the scheduler shares the
//    cores between it and the workers (formwork_editor_bench measures the frames meanwhile), while
//    a training run started beside the service keeps every core.
//  - Locking: get(), activity(), request() and set_model() take one mutex that the worker holds only
//    to take a request and to publish its result, never while a model is built or work runs;
//    results dropped from the cache are released outside it.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/analysis.h"
#include "core/graph.h"
#include "core/job.h"
#include "kernels/backend.h"

namespace fw {

struct ModelSnapshot {
  std::shared_ptr<const Graph> graph;
  std::shared_ptr<const TensorMap> weights;
  int64_t graph_revision = 0, weights_revision = 0;
  const Backend* backend = nullptr;  // nullptr: cpu_backend()
};

class InferenceService {
 public:
  struct Context {
    Executor& ex;
    const Graph& graph;
    const Analysis& analysis;
    const TensorMap& weights;
    const Backend& backend;
    JobControl& control;
  };
  using Result = std::shared_ptr<const void>;
  using Work = std::function<Result(Context&)>;

  enum class State { Absent, Queued, Running, Done, Failed };
  struct Status {
    State state = State::Absent;
    Result result;          // Done
    std::string error;      // Failed
    // Done or Failed after a retry on the CPU: "cuda: out of GPU memory: ...; this request ran
    // on the CPU instead"; "" when it ran where the model asked.
    std::string notice;
    int64_t done = 0, total = 0;  // Running: progress
    std::string status;     // Running: the work's status line
  };
  struct Activity {
    bool busy = false;
    std::string what;       // the running request's `what`
    int64_t done = 0, total = 0;
    std::string status;
    int queued = 0;
    int64_t cpu_retries = 0;   // requests run again on the CPU (device out of memory), in all
    std::string retry_notice;  // the last one's Status::notice
  };

  explicit InferenceService(int threads = 0, size_t cache_limit = 64);
  ~InferenceService();  // abandons what runs and joins the worker
  InferenceService(const InferenceService&) = delete;
  InferenceService& operator=(const InferenceService&) = delete;

  void set_model(ModelSnapshot snapshot);
  int64_t graph_revision() const;
  int64_t weights_revision() const;

  void request(const std::string& input_id, const std::string& what, Work work);
  Status get(const std::string& input_id, const std::string& what) const;
  template <class T>
  std::shared_ptr<const T> get_as(const std::string& input_id, const std::string& what) const {
    return std::static_pointer_cast<const T>(get(input_id, what).result);
  }
  Activity activity() const;

  // Tests and benchmarks: blocks until nothing is queued or running.
  void wait_idle();
  // How many running requests were abandoned because the model changed (tests; queued ones that
  // set_model drops are not counted).
  int64_t abandoned() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fw
