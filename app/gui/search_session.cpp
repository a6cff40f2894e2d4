#include "app/gui/search_session.h"

#include <chrono>

#include "core/error.h"
#include "core/graph_json.h"
#include "nas/session.h"

namespace fw::gui {

using Phase = SearchLive::Phase;
using Clock = std::chrono::steady_clock;

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Idle:
      return "idle";
    case Phase::Preparing:
      return "preparing";
    case Phase::Searching:
      return "searching";
    case Phase::Done:
      return "done";
    case Phase::Cancelled:
      return "stopped";
    case Phase::Failed:
      return "failed";
  }
  return "?";
}

// What the worker publishes; poll() takes it. Only appends and overwrites under the lock.
struct SearchRun::Shared {
  std::mutex mu;
  bool changed = false;
  Phase phase = Phase::Idle;
  std::string status, error, proxy_said;
  std::optional<SearchRow> row;
  SearchProgress progress;
  std::vector<SearchRecord> records;  // pending
  std::optional<std::map<std::string, double>> base_metrics;
  std::string path;
  Clock::time_point started;
};

SearchRun::SearchRun() : shared_(std::make_shared<Shared>()) {}

SearchRun::~SearchRun() {
  stop();  // cancels and joins before the state goes
}

std::string SearchRun::start(SearchRequest req) {
  if (active()) return "a search is already running";
  shared_ = std::make_shared<Shared>();
  shared_->path = req.path;
  shared_->phase = Phase::Preparing;
  shared_->changed = true;
  shared_->started = Clock::now();
  const int64_t revision = live_.revision, run = live_.run;
  live_ = SearchLive{};
  live_.revision = revision + 1;
  live_.run = run + 1;
  live_.path = req.path;
  live_.name = req.settings.name;
  live_.settings = req.settings;
  new_.clear();

  fresh_job().start([sh = shared_, req = std::move(req)](JobControl& ctl) {
    auto publish = [&](auto&& fn) {
      std::lock_guard<std::mutex> lk(sh->mu);
      fn(*sh);
      sh->changed = true;
    };
    try {
      const ProjectData p = load_project(req.path);
      std::unique_ptr<SearchSession> s = prepare_search(p, req.path, req.graph_json, req.settings);
      s->eval.backend = req.backend;  // the subnets and the base are scored there
      if (ctl.cancelled()) {
        publish([](Shared& x) { x.phase = Phase::Cancelled; });
        return;
      }
      publish([&](Shared& x) {
        x.proxy_said = s->proxy_said;
        x.phase = Phase::Searching;
      });
      // The search's own lock and registration come first (a second search is refused before
      // anything is scored); the base network is scored once, beside the first results.
      bool base_done = false;
      const auto score_base = [&] {
        if (base_done) return;
        base_done = true;
        const Graph base = graph_from_json(s->info.base_json, req.path + ": the base graph");
        EvalSettings e = s->eval;
        e.metrics.clear();
        for (const Objective& o : s->info.settings.objectives) e.metrics.push_back(o.metric);
        e.constraints = {};
        e.latency_repeats = s->info.settings.latency_repeats;
        e.train_steps = s->info.settings.train_steps;
        e.train_batch = s->info.settings.train_batch;
        e.train_lr = s->info.settings.train_lr;
        const SubnetScore sc = evaluate_subnet(base, e, &ctl);
        publish([&](Shared& x) { x.base_metrics = sc.metrics; });
      };
      const SearchRow row = row_from_info(s->info);
      std::string status;
      const SearchProgress prog = run_project_search(
          *s, ctl,
          [&](const SearchRecord& r) {
            publish([&](Shared& x) {
              if (!x.row) x.row = row;
              x.records.push_back(r);
            });
          },
          [&](const SearchProgress& pr) {
            publish([&](Shared& x) {
              if (!x.row) x.row = row;
              x.progress = pr;
            });
            if (!base_done && !ctl.cancelled()) {
              try {
                score_base();
              } catch (const Cancelled&) {
                // the search itself stops at its next check
              }
            }
          },
          &status);
      if (!ctl.cancelled() && !base_done) score_base();  // nothing was new (a finished search)
      publish([&](Shared& x) {
        if (!x.row) x.row = row;
        x.progress = prog;
        x.status = status;
        x.phase = status == "cancelled" ? Phase::Cancelled : Phase::Done;
      });
    } catch (const Cancelled&) {
      publish([](Shared& x) {
        x.phase = Phase::Cancelled;
        x.status = "cancelled";
      });
    } catch (const std::exception& e) {
      publish([&](Shared& x) {
        x.phase = Phase::Failed;
        x.error = e.what();
      });
    }
  });
  return "";
}

std::string SearchRun::busy_path() const { return active() ? shared_->path : ""; }

void SearchRun::poll() {
  const bool paused = BackgroundJob::paused();
  if (paused != live_.paused) {
    live_.paused = paused;
    ++live_.revision;
  }
  if (active())
    live_.seconds = std::chrono::duration<double>(Clock::now() - shared_->started).count();
  std::lock_guard<std::mutex> lk(shared_->mu);
  if (!shared_->changed) return;
  Shared& s = *shared_;
  live_.phase = s.phase;
  live_.status = s.status;
  live_.error = s.error;
  live_.proxy_said = s.proxy_said;
  if (s.row) live_.row = s.row;
  live_.progress = s.progress;
  if (s.base_metrics) live_.base_metrics = s.base_metrics;
  live_.committed += int64_t(s.records.size());
  new_.insert(new_.end(), s.records.begin(), s.records.end());
  s.records.clear();
  s.changed = false;
  ++live_.revision;
}

std::vector<SearchRecord> SearchRun::take_new() {
  std::vector<SearchRecord> out;
  out.swap(new_);
  return out;
}

void SearchRun::wait() {
  join();
  poll();
}

}  // namespace fw::gui
