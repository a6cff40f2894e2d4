// TEMPORARY stand-ins, so that the GUI builds and runs before the other branches land:
// - fw::InferenceService (kernels/inference_service.h; views-service implements it),
// - views/mixing.h and views/faithfulness.h (views-compute implements them).
// Each stand-in is the header's contract in its simplest form, or a clear "not in this build yet"
// failure that the views show as the request's reason. DELETE THIS FILE when `main` has them
// (the real definitions would otherwise be duplicates at link time).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "kernels/inference_service.h"
#include "kernels/parallel.h"
#include "views/faithfulness.h"
#include "views/gradcam.h"
#include "views/mixing.h"

namespace fw {

// ---- views/mixing.h ------------------------------------------------------------------------------
std::vector<std::string> attention_layers(const Graph& g, const FlatGraph& fg) {
  std::vector<std::string> out;
  (void)g;
  for (const FlatOp& op : fg.ops)
    if (op.def->id == "self_attention") out.push_back(op.path.substr(0, op.path.rfind('.')));
  return out;
}
std::vector<MixerInfo> token_mixers(const Graph& g, const FlatGraph& fg) {
  std::vector<MixerInfo> out;
  for (const std::string& p : attention_layers(g, fg)) out.push_back(token_mixer(g, fg, p));
  return out;
}
MixerInfo token_mixer(const Graph& g, const FlatGraph& fg, const std::string& layer) {
  const int op = attention_op(g, fg, layer);
  MixerInfo m;
  m.path = layer;
  m.kind = "attention";
  const Shape& s = fg.ops[size_t(op)].in_shapes.at(0);
  m.tokens = s.at(0);
  const Shape& in = fg.ops.at(size_t(fg.inputs.at(0))).out_shapes.at(0);
  for (int64_t prefix : {0, 1})
    for (int64_t st = 1; st <= 64; st *= 2)
      if ((in[1] / st) * (in[2] / st) == m.tokens - prefix && m.h == 0) {
        m.prefix = prefix;
        m.h = in[1] / st;
        m.w = in[2] / st;
      }
  return m;
}
Tensor mixing_map(const Backend&, Executor&, const Graph&, const TensorMap&, const Tensor&,
                  const std::string&, std::optional<int64_t>, const JobControl*) {
  throw Error("the effective mixing map is not in this build yet (views-compute)");
}
Tensor attention_rollout(Executor&, const Graph&, const Tensor&, const std::string&) {
  throw Error("attention rollout is not in this build yet (views-compute)");
}

// ---- views/faithfulness.h ------------------------------------------------------------------------
Tensor saliency(const float* cam, int64_t h, int64_t w, int64_t H, int64_t W) {
  Tensor s({H, W});
  const float sy = float(h) / float(H), sx = float(w) / float(W);
  for (int64_t y = 0; y < H; ++y) {
    const float fy = std::max(0.0f, (float(y) + 0.5f) * sy - 0.5f);
    const int64_t y0 = std::min<int64_t>(int64_t(fy), h - 1), y1 = std::min(y0 + 1, h - 1);
    const float ly = fy - float(y0);
    for (int64_t x = 0; x < W; ++x) {
      const float fx = std::max(0.0f, (float(x) + 0.5f) * sx - 0.5f);
      const int64_t x0 = std::min<int64_t>(int64_t(fx), w - 1), x1 = std::min(x0 + 1, w - 1);
      const float lx = fx - float(x0);
      s.data[size_t(y * W + x)] =
          (1 - ly) * ((1 - lx) * cam[y0 * w + x0] + lx * cam[y0 * w + x1]) +
          ly * ((1 - lx) * cam[y1 * w + x0] + lx * cam[y1 * w + x1]);
    }
  }
  return s;
}
std::vector<int64_t> pixel_order(const Tensor& s) {
  std::vector<int64_t> o(size_t(s.size()));
  std::iota(o.begin(), o.end(), 0);
  std::stable_sort(o.begin(), o.end(), [&](int64_t a, int64_t b) { return s.data[a] > s.data[b]; });
  return o;
}
Faithfulness faithfulness(Executor&, const Tensor&, const Tensor&, int64_t, const std::optional<PixelBox>&,
                          int64_t, const JobControl*) {
  throw Error("deletion/insertion scores are not in this build yet (views-compute)");
}

// ---- kernels/inference_service.h ------------------------------------------------------------------
struct InferenceService::Impl {
  struct Entry {
    Status st;
    Work work;
    uint64_t order = 0;
  };
  mutable std::mutex mu;
  std::condition_variable cv;
  ModelSnapshot model;
  std::map<std::pair<std::string, std::string>, Entry> entries;
  std::shared_ptr<JobControl> running_ctl;
  std::pair<std::string, std::string> running_key;
  bool busy = false, stop = false;
  uint64_t next_order = 0;
  int64_t abandoned = 0;
  int threads = 1;
  std::thread worker;

  void loop() {
    set_num_threads(threads);
    std::unique_ptr<Executor> ex;
    std::unique_ptr<Analysis> analysis;
    std::pair<int64_t, int64_t> built{-1, -1};
    std::string model_error;
    std::unique_lock<std::mutex> lk(mu);
    while (true) {
      cv.wait(lk, [&] {
        if (stop) return true;
        for (auto& [k, e] : entries)
          if (e.st.state == State::Queued) return true;
        return false;
      });
      if (stop) return;
      auto best = entries.end();
      for (auto it = entries.begin(); it != entries.end(); ++it)
        if (it->second.st.state == State::Queued &&
            (best == entries.end() || it->second.order > best->second.order))
          best = it;
      const auto key = best->first;
      Work work = best->second.work;
      best->second.st.state = State::Running;
      ModelSnapshot m = model;
      auto ctl = std::make_shared<JobControl>();
      running_ctl = ctl;
      running_key = key;
      busy = true;
      lk.unlock();
      Result result;
      std::string error;
      bool failed = false;
      try {
        if (std::make_pair(m.graph_revision, m.weights_revision) != built) {
          ex.reset();
          analysis.reset();
          model_error.clear();
          built = {m.graph_revision, m.weights_revision};
          try {
            if (!m.graph || !m.weights) throw Error("no model");
            analysis = std::make_unique<Analysis>(analyze(*m.graph));
            require_valid(*analysis);
            const Backend& b = m.backend ? *m.backend : cpu_backend();
            ex = b.create(*m.graph, *analysis);
            ex->bind(*m.weights);
          } catch (const std::exception& e) {
            model_error = e.what();
            ex.reset();
          }
        }
        if (!ex) throw Error(model_error);
        Context c{*ex, *m.graph, *analysis, *m.weights, m.backend ? *m.backend : cpu_backend(), *ctl};
        result = work(c);
      } catch (const std::exception& e) {
        failed = true;
        error = e.what();
      }
      lk.lock();
      busy = false;
      running_ctl.reset();
      auto it = entries.find(key);
      if (ctl->cancelled() || it == entries.end()) continue;
      it->second.st.state = failed ? State::Failed : State::Done;
      it->second.st.result = result;
      it->second.st.error = error;
      it->second.work = nullptr;
    }
  }
};

InferenceService::InferenceService(int threads, size_t) : impl_(std::make_unique<Impl>()) {
  impl_->threads = threads > 0 ? threads : std::max(1, int(std::thread::hardware_concurrency()) - 1);
  impl_->worker = std::thread([this] { impl_->loop(); });
}
InferenceService::~InferenceService() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stop = true;
    if (impl_->running_ctl) impl_->running_ctl->cancel = true;
  }
  impl_->cv.notify_all();
  impl_->worker.join();
}
void InferenceService::set_model(ModelSnapshot s) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  if (s.graph_revision == impl_->model.graph_revision &&
      s.weights_revision == impl_->model.weights_revision && impl_->model.graph)
    return;
  impl_->model = std::move(s);
  if (impl_->running_ctl) {
    impl_->running_ctl->cancel = true;
    ++impl_->abandoned;
  }
  impl_->entries.clear();
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
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    auto& e = impl_->entries[{input_id, what}];
    if (e.st.state != State::Absent) {
      if (e.st.state == State::Queued) e.order = ++impl_->next_order;
      return;
    }
    e.st.state = State::Queued;
    e.work = std::move(work);
    e.order = ++impl_->next_order;
  }
  impl_->cv.notify_all();
}
InferenceService::Status InferenceService::get(const std::string& input_id,
                                               const std::string& what) const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  auto it = impl_->entries.find({input_id, what});
  if (it == impl_->entries.end()) return {};
  Status s = it->second.st;
  if (s.state == State::Running && impl_->running_ctl) {
    s.done = impl_->running_ctl->done;
    s.total = impl_->running_ctl->total;
    s.status = impl_->running_ctl->status();
  }
  return s;
}
InferenceService::Activity InferenceService::activity() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  Activity a;
  a.busy = impl_->busy;
  if (impl_->running_ctl) {
    a.what = impl_->running_key.second;
    a.done = impl_->running_ctl->done;
    a.total = impl_->running_ctl->total;
    a.status = impl_->running_ctl->status();
  }
  for (auto& [k, e] : impl_->entries)
    if (e.st.state == State::Queued) ++a.queued;
  return a;
}
void InferenceService::wait_idle() {
  while (true) {
    const Activity a = activity();
    if (!a.busy && a.queued == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}
int64_t InferenceService::abandoned() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->abandoned;
}

}  // namespace fw
