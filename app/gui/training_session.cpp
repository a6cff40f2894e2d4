#include "app/gui/training_session.h"

#include <chrono>
#include <filesystem>

#include "core/error.h"
#include "core/weights.h"
#include "kernels/backend.h"
#include "kernels/train/project_run.h"

namespace fw::gui {

using Phase = TrainingLive::Phase;
using Clock = std::chrono::steady_clock;

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::Idle:
      return "idle";
    case Phase::Loading:
      return "loading the data";
    case Phase::Training:
      return "training";
    case Phase::Evaluating:
      return "evaluating";
    case Phase::Done:
      return "done";
    case Phase::Cancelled:
      return "cancelled";
    case Phase::Failed:
      return "failed";
  }
  return "?";
}

// What the worker publishes; poll() takes it. Only appends and overwrites under the lock.
struct TrainingSession::Shared {
  std::mutex mu;
  bool changed = false;
  Phase phase = Phase::Idle;
  std::string error;
  TrainSettings settings;  // the request's, then the run's (a continued run's own)
  int64_t train_images = 0, test_images = 0;
  std::vector<float> step_x, step_loss;  // pending
  std::vector<EpochResult> epochs;       // pending
  bool have_step = false;
  StepInfo last;
  std::string path;
  Clock::time_point started;
};

TrainingSession::TrainingSession() : shared_(std::make_shared<Shared>()) {}

TrainingSession::~TrainingSession() {
  stop();  // cancels and joins before the state goes
}

std::string TrainingSession::start(TrainingRequest req) {
  if (active()) return "a training run is already in progress";
  shared_ = std::make_shared<Shared>();
  shared_->path = req.path;
  shared_->phase = Phase::Loading;
  shared_->settings = req.settings;
  shared_->changed = true;
  shared_->started = Clock::now();
  const int64_t revision = live_.revision, run = live_.run;
  live_ = TrainingLive{};
  live_.revision = revision + 1;
  live_.run = run + 1;
  live_.path = req.path;
  live_.device = req.backend ? std::string(req.backend->name()) : "cpu";

  fresh_job().start([sh = shared_, req = std::move(req)](JobControl& ctl) {
    auto publish = [&](auto&& fn) {
      std::lock_guard<std::mutex> lk(sh->mu);
      fn(*sh);
      sh->changed = true;
    };
    try {
      ProjectRun run;
      if (req.from == TrainFrom::Continue) {
        run = resume_run(req.path, req.settings.epochs);
      } else {
        // Locked before it is read: nobody writes it between this read and the run's saves.
        auto lock = std::make_unique<ProjectLock>(req.path, "training");
        ProjectData base;
        if (std::filesystem::exists(req.path)) base = load_project(req.path);
        TensorMap weights;
        if (req.from == TrainFrom::ProjectWeights) {
          if (base.weights.empty()) throw Error(req.path + ": has no weights to start from");
          require_weights_match(analyze(req.graph), base.weights, req.path, "the graph");
          weights = base.weights;
        }
        run = start_run(req.path, std::move(base), req.graph, std::move(weights), req.settings, "",
                        std::move(lock));
      }
      // A continued run shows its earlier epochs too.
      const std::vector<EpochResult> before = epoch_results(run.ck.curve);
      publish([&](Shared& s) {
        s.settings = run.settings;
        s.epochs = before;
        for (const CurvePoint& p : run.ck.curve)
          if (p.key == "train_loss") {
            s.step_x.push_back(float(p.epoch));
            s.step_loss.push_back(float(p.value));
          }
      });
      const TrainData data = load_run_data(run);
      if (ctl.cancelled()) {  // stopped while loading: nothing was written
        publish([](Shared& s) { s.phase = Phase::Cancelled; });
        return;
      }
      publish([&](Shared& s) {
        s.phase = Phase::Training;
        s.train_images = data.train.size();
        s.test_images = data.test.size();
      });
      const std::string status = run_training(
          run, data, req.backend ? *req.backend : cpu_backend(), ctl,
          [&](const StepInfo& st) {
            publish([&](Shared& s) {
              s.last = st;
              s.have_step = true;
              s.step_x.push_back(float(double(st.epoch * st.steps_per_epoch + st.step + 1) /
                                       double(st.steps_per_epoch)));
              s.step_loss.push_back(float(st.batch_loss));
              if (st.step + 1 == st.steps_per_epoch) s.phase = Phase::Evaluating;
            });
          },
          [&](const EpochResult& r) {
            publish([&](Shared& s) {
              s.epochs.push_back(r);
              s.phase = Phase::Training;
            });
          });
      publish([&](Shared& s) { s.phase = status == "done" ? Phase::Done : Phase::Cancelled; });
    } catch (const std::exception& e) {
      publish([&](Shared& s) {
        s.phase = Phase::Failed;
        s.error = e.what();
      });
    }
  });
  return "";
}

std::string TrainingSession::busy_path() const { return active() ? shared_->path : ""; }

void TrainingSession::poll() {
  const bool paused = BackgroundJob::paused();
  if (paused != live_.paused) {
    live_.paused = paused;
    ++live_.revision;
  }
  if (active())
    live_.seconds = std::chrono::duration<double>(Clock::now() - shared_->started).count();
  if (has_job()) {
    live_.done = control().done.load();
    live_.total = control().total.load();
  }
  std::lock_guard<std::mutex> lk(shared_->mu);
  if (!shared_->changed) return;
  Shared& s = *shared_;
  live_.phase = s.phase;
  live_.error = s.error;
  live_.settings = s.settings;
  live_.train_images = s.train_images;
  live_.test_images = s.test_images;
  live_.step_x.insert(live_.step_x.end(), s.step_x.begin(), s.step_x.end());
  live_.step_loss.insert(live_.step_loss.end(), s.step_loss.begin(), s.step_loss.end());
  s.step_x.clear();
  s.step_loss.clear();
  live_.epochs.insert(live_.epochs.end(), s.epochs.begin(), s.epochs.end());
  s.epochs.clear();
  if (s.have_step) live_.last = s.last;
  s.changed = false;
  ++live_.revision;
}

void TrainingSession::wait() {
  join();
  poll();
}

}  // namespace fw::gui
