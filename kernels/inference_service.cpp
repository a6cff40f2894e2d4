#include "kernels/inference_service.h"

#include <algorithm>
#include <list>
#include <set>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "kernels/cuda/device.h"
#include "kernels/parallel.h"

namespace fw {
namespace {

// (graph revision, weights revision, input_id, what).
using Key = std::tuple<int64_t, int64_t, std::string, std::string>;

// The executor the work sees: the model's own, with the request's cancel flag put into every
// forward's RunOptions (unless the work set one itself), so that code that knows nothing of the
// service (views/gradcam.h) stops at the next op once the request is abandoned. The backward that
// follows a forward checks the same flag (the executor keeps the forward's options).
class CancellingExecutor final : public Executor {
 public:
  CancellingExecutor(Executor& inner, const std::atomic<bool>& cancel)
      : inner_(inner), cancel_(cancel) {}
  void bind(const TensorMap& params) override { inner_.bind(params); }
  std::vector<Tensor> forward(const std::vector<Tensor>& inputs, const RunOptions& opts) override {
    if (opts.cancel) return inner_.forward(inputs, opts);
    RunOptions o = opts;
    o.cancel = &cancel_;
    return inner_.forward(inputs, o);
  }
  void backward(const std::vector<Tensor>& dout, Gradients& grads) override {
    if (cancel_.load()) throw Cancelled();
    inner_.backward(dout, grads);
  }
  const Tensor* value(ValueRef v) const override { return inner_.value(v); }
  const Tensor* attention(int op) const override { return inner_.attention(op); }
  MemoryStats memory() const override { return inner_.memory(); }
  long double planned_peak_bytes(int64_t batch, const RunOptions& opts) const override {
    return inner_.planned_peak_bytes(batch, opts);
  }
  const FlatGraph& flat() const override { return inner_.flat(); }
  const std::vector<double>& forward_times() const override { return inner_.forward_times(); }
  const std::vector<double>& backward_times() const override { return inner_.backward_times(); }

 private:
  Executor& inner_;
  const std::atomic<bool>& cancel_;
};

std::string first_line(const std::string& s) {
  const size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

}  // namespace

struct InferenceService::Impl {
  struct Pending {
    Key key;
    Work work;
  };
  struct Entry {
    State state = State::Done;  // Done or Failed
    Result result;
    std::string error;
    std::string notice;            // ran on the CPU after the device ran out of memory
    std::list<Key>::iterator lru;  // position in `lru` (front: most recently read)
  };
  // What the worker built for one model (touched by the worker only).
  struct Built {
    uint64_t epoch = 0;  // Impl::epoch it was built for; 0: nothing built
    ModelSnapshot model;
    std::unique_ptr<Analysis> analysis;  // the executor refers to it: stable address
    std::unique_ptr<Executor> ex;
    std::string error;  // why the model cannot run ("" when ex is usable)
    std::string oom;    // the device ran out of memory building ex: requests run on the CPU
    std::unique_ptr<Executor> cpu;  // the CPU fallback, built when a request first needs it
  };

  size_t cache_limit = 64;

  // Everything below up to `worker` is guarded by `mu`. It is held only to look up, queue and
  // publish: never while a model is built or work runs.
  mutable std::mutex mu;
  std::condition_variable wake;  // the worker: a request came, or stop
  std::condition_variable idle;  // wait_idle(): the queue emptied and nothing runs
  bool stop = false;
  bool have_model = false;
  ModelSnapshot model;
  uint64_t epoch = 0;         // bumped by every set_model that changes the model
  std::deque<Pending> queue;  // front: the newest (runs next)
  std::set<Key> queued;
  bool running = false;
  Key running_key;
  std::shared_ptr<JobControl> running_control;
  mutable std::map<Key, Entry> cache;
  mutable std::list<Key> lru;
  std::atomic<int64_t> abandoned{0};
  int64_t cpu_retries = 0;  // guarded by mu
  std::string retry_notice;

  Built built;  // worker only
  std::thread worker;

  Key key_of(const std::string& input_id, const std::string& what) const {
    return {model.graph_revision, model.weights_revision, input_id, what};
  }
  // Whether `key` runs for the current model (an abandoned run keeps its key until it returns,
  // which matters when only the backend changed: the revisions, hence the keys, are the same).
  bool runs(const Key& key) const {
    return running && running_key == key && !running_control->cancelled();
  }

  // Stores a finished request (under `mu`); evicted results are moved to `dropped` so that they
  // are destroyed after the lock is released.
  void store(const Key& key, Entry e, std::vector<Result>& dropped) {
    auto it = cache.find(key);
    if (it != cache.end()) {
      lru.erase(it->second.lru);
      cache.erase(it);
    }
    lru.push_front(key);
    e.lru = lru.begin();
    cache.emplace(key, std::move(e));
    while (cache.size() > std::max<size_t>(1, cache_limit)) {
      auto old = cache.find(lru.back());
      dropped.push_back(std::move(old->second.result));
      cache.erase(old);
      lru.pop_back();
    }
  }

  // Worker thread, no lock held. The executor refers to the analysis and the graph: it goes first.
  void release() {
    built.ex.reset();
    built.cpu.reset();
    built.analysis.reset();
    built.model = {};
    built.epoch = 0;
    built.error.clear();
    built.oom.clear();
  }
  void build(uint64_t for_epoch, const ModelSnapshot& m) {
    release();
    built.model = m;
    built.epoch = for_epoch;
    try {
      if (!m.graph) throw Error("no model: set_model() was given no graph");
      const Backend& backend = m.backend ? *m.backend : cpu_backend();
      built.analysis = std::make_unique<Analysis>(analyze(*m.graph));
      require_valid(*built.analysis);
      if (!m.weights) throw Error("the model has no weights");
      built.ex = backend.create(*m.graph, *built.analysis);
      built.ex->bind(*m.weights);
    } catch (const gpu::DeviceOutOfMemory& e) {
      built.ex.reset();
      built.oom = first_line(e.what());
      if (built.oom.empty()) built.oom = "out of device memory";
      if (&backend_of(m) == &cpu_backend()) {  // nowhere to retry
        built.error = built.oom;
        built.oom.clear();
      }
    } catch (const std::exception& e) {
      built.ex.reset();
      built.error = first_line(e.what());
      if (built.error.empty()) built.error = "the model could not be built";
    }
  }
  static const Backend& backend_of(const ModelSnapshot& m) {
    return m.backend ? *m.backend : cpu_backend();
  }

  // Runs the work on `x` into `e` (Done or Failed). Returns false when it was abandoned
  // (fw::Cancelled: nothing is stored). A DeviceOutOfMemory from a device backend sets `oom`
  // instead (the caller retries on the CPU).
  bool attempt(const Pending& req, const ModelSnapshot& m, Executor& x, const Backend& backend,
               JobControl& control, Entry& e, std::string* oom) {
    try {
      CancellingExecutor ex(x, control.cancel);
      Context ctx{ex, *m.graph, *built.analysis, *m.weights, backend, control};
      e.result = req.work(ctx);
      e.state = State::Done;
    } catch (const Cancelled&) {
      return false;
    } catch (const gpu::DeviceOutOfMemory& ex) {
      if (oom && &backend != &cpu_backend()) {
        *oom = first_line(ex.what());
        if (oom->empty()) *oom = "out of device memory";
      } else {
        e.state = State::Failed;
        e.error = first_line(ex.what());
      }
    } catch (const std::exception& ex) {
      e.state = State::Failed;
      e.error = first_line(ex.what());
      if (e.error.empty()) e.error = "the request failed";
    } catch (...) {
      e.state = State::Failed;
      e.error = "the request failed (unknown exception)";
    }
    return true;
  }

  // The request again on the model's CPU executor (built on first use), after the device ran out
  // of memory with `oom`. Returns false when abandoned.
  bool retry_on_cpu(const Pending& req, const ModelSnapshot& m, JobControl& control,
                    const std::string& oom, Entry& e) {
    e = Entry{};
    e.notice =
        std::string(backend_of(m).name()) + ": " + oom + "; this request ran on the CPU instead";
    if (control.cancelled()) return false;
    if (!built.cpu) {
      try {
        auto cpu = cpu_backend().create(*m.graph, *built.analysis);
        cpu->bind(*m.weights);
        built.cpu = std::move(cpu);
      } catch (const std::exception& ex) {
        e.state = State::Failed;
        e.error = "on the CPU: " + first_line(ex.what());
        return true;
      }
    }
    control.done = 0;
    control.total = 0;
    return attempt(req, m, *built.cpu, cpu_backend(), control, e, nullptr);
  }

  void loop() {
    for (;;) {
      Pending req;
      uint64_t req_epoch = 0;
      ModelSnapshot m;
      std::shared_ptr<JobControl> control;
      {
        std::unique_lock<std::mutex> lk(mu);
        const auto stale = [&] { return built.epoch != 0 && built.epoch != epoch; };
        wake.wait(lk, [&] { return stop || !queue.empty() || stale(); });
        if (stop) return;
        if (queue.empty()) {  // the model changed: let the old executor and weights go now
          lk.unlock();
          release();
          continue;
        }
        req = std::move(queue.front());
        queue.pop_front();
        queued.erase(req.key);
        req_epoch = epoch;
        m = model;
        control = std::make_shared<JobControl>();
        running = true;
        running_key = req.key;
        running_control = control;
      }

      Entry e;
      bool keep = true;
      if (built.epoch != req_epoch) build(req_epoch, m);
      std::string oom = built.oom;  // the device could not even hold the model
      if (built.ex) {
        keep = attempt(req, m, *built.ex, backend_of(m), *control, e, &oom);
      } else if (oom.empty()) {
        e.state = State::Failed;
        e.error = built.error;
      }
      if (keep && !oom.empty()) keep = retry_on_cpu(req, m, *control, oom, e);

      std::vector<Result> dropped;
      {
        std::lock_guard<std::mutex> lk(mu);
        // Abandoned (the model changed, or the service is closing): whatever it produced is
        // discarded, even when it completed.
        if (control->cancelled() || req_epoch != epoch) keep = false;
        if (keep && !e.notice.empty()) {
          ++cpu_retries;
          retry_notice = e.notice;
        }
        if (keep) store(req.key, std::move(e), dropped);
        running = false;
        running_control.reset();
        if (queue.empty()) idle.notify_all();
      }
      // `dropped` and `req.work` (and what it captured) are released here, outside the lock.
    }
  }
};

InferenceService::InferenceService(int threads, size_t cache_limit)
    : impl_(std::make_unique<Impl>()) {
  impl_->cache_limit = cache_limit;
  // The kernel pool is process-wide and set_num_threads() must not run while another thread is
  // inside parallel_for (the GUI's training worker shares the pool). So a size, when asked for, is
  // set here, once, on the constructing thread, and never from the worker (see the header).
  if (threads > 0) set_num_threads(threads);
  impl_->worker = std::thread([impl = impl_.get()] { impl->loop(); });
}

InferenceService::~InferenceService() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stop = true;
    impl_->queue.clear();
    impl_->queued.clear();
    if (impl_->running_control) impl_->running_control->cancel = true;
  }
  impl_->wake.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

void InferenceService::set_model(ModelSnapshot snapshot) {
  std::deque<Impl::Pending> dropped_queue;
  std::map<Key, Impl::Entry> dropped_cache;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    Impl& s = *impl_;
    const bool same = s.have_model && snapshot.graph_revision == s.model.graph_revision &&
                      snapshot.weights_revision == s.model.weights_revision &&
                      snapshot.backend == s.model.backend;
    if (same) return;
    s.have_model = true;
    s.model = std::move(snapshot);
    ++s.epoch;
    if (s.running_control && !s.running_control->cancelled()) {
      s.running_control->cancel = true;
      ++s.abandoned;
    }
    dropped_queue.swap(s.queue);
    s.queued.clear();
    dropped_cache.swap(s.cache);
    s.lru.clear();
    if (!s.running) s.idle.notify_all();
  }
  impl_->wake.notify_one();  // the worker drops the old executor
  // The dropped requests' work functions and the old results are destroyed here, unlocked.
}

int64_t InferenceService::graph_revision() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->model.graph_revision;
}

int64_t InferenceService::weights_revision() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->model.weights_revision;
}

void InferenceService::request(const std::string& input_id, const std::string& what, Work work) {
  std::vector<Result> dropped;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    Impl& s = *impl_;
    const Key key = s.key_of(input_id, what);
    if (s.cache.count(key) || s.queued.count(key) || s.runs(key)) return;
    if (!s.have_model) {
      Impl::Entry e;
      e.state = State::Failed;
      e.error = "no model to run (set_model was not called)";
      s.store(key, std::move(e), dropped);
      return;
    }
    s.queue.push_front({key, std::move(work)});
    s.queued.insert(key);
  }
  impl_->wake.notify_one();
}

InferenceService::Status InferenceService::get(const std::string& input_id,
                                               const std::string& what) const {
  Status st;
  std::shared_ptr<JobControl> control;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    const Impl& s = *impl_;
    const Key key = s.key_of(input_id, what);
    if (auto it = s.cache.find(key); it != s.cache.end()) {
      s.lru.splice(s.lru.begin(), s.lru, it->second.lru);  // read: most recent
      st.state = it->second.state;
      st.result = it->second.result;
      st.error = it->second.error;
      st.notice = it->second.notice;
      return st;
    }
    if (s.runs(key)) {
      st.state = State::Running;
      control = s.running_control;
    } else if (s.queued.count(key)) {
      st.state = State::Queued;
    }
  }
  if (control) {  // the JobControl's own lock guards its status line
    st.done = control->done.load();
    st.total = control->total.load();
    st.status = control->status();
  }
  return st;
}

InferenceService::Activity InferenceService::activity() const {
  Activity a;
  std::shared_ptr<JobControl> control;
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    const Impl& s = *impl_;
    a.busy = s.running;
    if (s.running) {
      a.what = std::get<3>(s.running_key);
      control = s.running_control;
    }
    a.queued = static_cast<int>(s.queue.size());
    a.cpu_retries = s.cpu_retries;
    a.retry_notice = s.retry_notice;
  }
  if (control) {
    a.done = control->done.load();
    a.total = control->total.load();
    a.status = control->status();
  }
  return a;
}

void InferenceService::wait_idle() {
  std::unique_lock<std::mutex> lk(impl_->mu);
  impl_->idle.wait(lk, [&] { return impl_->queue.empty() && !impl_->running; });
}

int64_t InferenceService::abandoned() const { return impl_->abandoned.load(); }

}  // namespace fw
