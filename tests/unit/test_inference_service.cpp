// The inference service (kernels/inference_service.h): results cached by (graph revision, weights
// revision, input, what) with an LRU bound, a new revision recomputes, an edit abandons the
// running request (the executor's cancel check stops a real model mid-run, nothing is stored)
// and drops queued ones, failures carry their one-line reason (a graph that does not validate,
// weights that do not bind, work that throws), newest-first order, progress, a destructor that
// joins promptly while a real model runs, and the CPU retry of a request whose device ran out of
// memory.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/analysis.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/init.h"
#include "core/templates.h"
#include "kernels/inference_service.h"
#include "kernels/parallel.h"
#include "tests/unit/backend_doubles.h"

namespace {

using fw::InferenceService;
using State = InferenceService::State;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// input [3,4,4] -> global_avg_pool -> linear(in_features) -> output: builds in microseconds.
// in_features != 3 makes a graph that does not validate.
fw::Graph tiny_graph(int64_t in_features = 3) {
  fw::Graph g;
  const fw::NodeId in = g.add(fw::kNoNode, "input", "input",
                              fw::Attrs({{"channels", fw::AttrValue(int64_t(3))},
                                         {"height", fw::AttrValue(int64_t(4))},
                                         {"width", fw::AttrValue(int64_t(4))}}));
  const fw::NodeId gap = g.add(fw::kNoNode, "global_avg_pool", "gap");
  const fw::NodeId fc = g.add(fw::kNoNode, "linear", "fc",
                              fw::Attrs({{"in_features", fw::AttrValue(in_features)},
                                         {"out_features", fw::AttrValue(int64_t(2))}}));
  const fw::NodeId out = g.add(fw::kNoNode, "output", "output");
  g.connect({in, 0}, gap);
  g.connect({gap, 0}, fc);
  g.connect({fc, 0}, out);
  return g;
}

fw::ModelSnapshot snapshot(const fw::Graph& g, int64_t graph_rev, int64_t weights_rev,
                           bool with_weights = true) {
  fw::ModelSnapshot m;
  m.graph = std::make_shared<const fw::Graph>(g);
  const fw::Analysis a = fw::analyze(g);
  if (with_weights) m.weights = std::make_shared<const fw::TensorMap>(fw::init_weights(a, 0));
  m.graph_revision = graph_rev;
  m.weights_revision = weights_rev;
  return m;
}

// A work function returning `value` that counts its runs.
InferenceService::Work counting(std::atomic<int>& runs, std::string value) {
  return [&runs, value](InferenceService::Context&) -> InferenceService::Result {
    ++runs;
    return std::make_shared<const std::string>(value);
  };
}

// Polls `cond` for up to `limit` seconds.
template <class F>
bool eventually(F cond, double limit = 10) {
  const auto t0 = Clock::now();
  while (!cond()) {
    if (seconds_since(t0) > limit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The service sets the process-wide kernel pool size (to 1 here); put the default back after.
class InferenceServiceTest : public ::testing::Test {
 protected:
  void TearDown() override { fw::set_num_threads(0); }
};

TEST_F(InferenceServiceTest, CachesResultsByKey) {
  InferenceService s(1);
  s.set_model(snapshot(tiny_graph(), 1, 1));
  EXPECT_EQ(s.get("sample:0", "logits").state, State::Absent);
  std::atomic<int> runs{0};
  s.request("sample:0", "logits", counting(runs, "first"));
  s.request("sample:0", "logits", counting(runs, "again"));  // queued or running: nothing
  s.wait_idle();
  s.request("sample:0", "logits", counting(runs, "cached"));  // cached: nothing
  s.wait_idle();
  EXPECT_EQ(runs.load(), 1);
  const InferenceService::Status st = s.get("sample:0", "logits");
  ASSERT_EQ(st.state, State::Done);
  EXPECT_EQ(*s.get_as<std::string>("sample:0", "logits"), "first");
  // Another input or another `what` is another key.
  s.request("sample:1", "logits", counting(runs, "b"));
  s.request("sample:0", "gradcam|stages.3", counting(runs, "c"));
  s.wait_idle();
  EXPECT_EQ(runs.load(), 3);
  EXPECT_EQ(*s.get_as<std::string>("sample:1", "logits"), "b");
  EXPECT_EQ(*s.get_as<std::string>("sample:0", "gradcam|stages.3"), "c");
}

TEST_F(InferenceServiceTest, WorkSeesTheModel) {
  InferenceService s(1);
  const fw::Graph g = tiny_graph();
  s.set_model(snapshot(g, 4, 9));
  EXPECT_EQ(s.graph_revision(), 4);
  EXPECT_EQ(s.weights_revision(), 9);
  s.request("x", "logits", [](InferenceService::Context& c) -> InferenceService::Result {
    EXPECT_EQ(c.backend.name(), "cpu");
    EXPECT_EQ(c.analysis.params.size(), 2u);
    EXPECT_EQ(c.weights.count("fc.weight"), 1u);
    std::vector<fw::Tensor> out = c.ex.forward({fw::Tensor({2, 3, 4, 4}, 1.0f)}, {});
    return std::make_shared<const fw::Tensor>(out.at(0));
  });
  s.wait_idle();
  ASSERT_EQ(s.get("x", "logits").state, State::Done) << s.get("x", "logits").error;
  EXPECT_EQ(s.get_as<fw::Tensor>("x", "logits")->shape, (fw::Shape{2, 2}));
}

TEST_F(InferenceServiceTest, CacheDropsTheLeastRecentlyRead) {
  InferenceService s(1, 2);
  s.set_model(snapshot(tiny_graph(), 1, 1));
  std::atomic<int> runs{0};
  s.request("a", "w", counting(runs, "a"));
  s.request("b", "w", counting(runs, "b"));
  s.wait_idle();
  EXPECT_EQ(s.get("a", "w").state, State::Done);  // read: "b" is now the least recent
  s.request("c", "w", counting(runs, "c"));
  s.wait_idle();
  EXPECT_EQ(s.get("a", "w").state, State::Done);
  EXPECT_EQ(s.get("b", "w").state, State::Absent);
  EXPECT_EQ(s.get("c", "w").state, State::Done);
  s.request("b", "w", counting(runs, "b2"));  // evicted: computed again
  s.wait_idle();
  EXPECT_EQ(runs.load(), 4);
  EXPECT_EQ(*s.get_as<std::string>("b", "w"), "b2");
}

TEST_F(InferenceServiceTest, NewRevisionRecomputes) {
  InferenceService s(1);
  const fw::Graph g = tiny_graph();
  s.set_model(snapshot(g, 1, 1));
  std::atomic<int> runs{0};
  s.request("x", "w", counting(runs, "r1"));
  s.wait_idle();
  s.set_model(snapshot(g, 1, 1));  // the same revisions: nothing changes
  EXPECT_EQ(s.get("x", "w").state, State::Done);
  s.set_model(snapshot(g, 1, 2));  // new weights
  EXPECT_EQ(s.get("x", "w").state, State::Absent);
  s.request("x", "w", counting(runs, "r2"));
  s.wait_idle();
  EXPECT_EQ(*s.get_as<std::string>("x", "w"), "r2");
  s.set_model(snapshot(g, 2, 2));  // an edit
  EXPECT_EQ(s.get("x", "w").state, State::Absent);
  s.set_model(snapshot(g, 1, 1));  // back to the first pair: recomputed
  EXPECT_EQ(s.get("x", "w").state, State::Absent);
  s.request("x", "w", counting(runs, "r3"));
  s.wait_idle();
  EXPECT_EQ(runs.load(), 3);
  EXPECT_EQ(*s.get_as<std::string>("x", "w"), "r3");
  EXPECT_EQ(s.abandoned(), 0);
}

// A run that ignores the cancel flag and completes after the edit: its result is discarded, the
// same input asked on the new model runs anew, and queued requests of the old model are dropped.
TEST_F(InferenceServiceTest, ResultOfAnAbandonedRunIsDiscarded) {
  InferenceService s(1);
  const fw::Graph g = tiny_graph();
  s.set_model(snapshot(g, 1, 1));
  std::atomic<bool> started{false}, release{false};
  std::atomic<int> old_runs{0}, new_runs{0}, dropped_runs{0};
  std::weak_ptr<const std::string> old_result;  // set by the worker before it returns
  s.request("x", "w", [&](InferenceService::Context&) -> InferenceService::Result {
    started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto r = std::make_shared<const std::string>("old");
    old_result = r;
    ++old_runs;
    return r;
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  s.request("y", "w", counting(dropped_runs, "queued on the old model"));
  EXPECT_EQ(s.get("y", "w").state, State::Queued);
  EXPECT_EQ(s.get("x", "w").state, State::Running);

  s.set_model(snapshot(g, 2, 1));
  EXPECT_EQ(s.abandoned(), 1);
  EXPECT_EQ(s.get("x", "w").state, State::Absent);  // the running one is the old model's
  EXPECT_EQ(s.get("y", "w").state, State::Absent);  // dropped
  s.request("x", "w", counting(new_runs, "new"));
  EXPECT_EQ(s.get("x", "w").state, State::Queued);
  release = true;
  s.wait_idle();
  EXPECT_EQ(old_runs.load(), 1);      // it did complete...
  EXPECT_EQ(new_runs.load(), 1);      // ...and was not taken for the new model's result...
  EXPECT_TRUE(old_result.expired());  // ...nor kept anywhere (not even under its old key)
  EXPECT_EQ(dropped_runs.load(), 0);
  ASSERT_EQ(s.get("x", "w").state, State::Done);
  EXPECT_EQ(*s.get_as<std::string>("x", "w"), "new");
  EXPECT_EQ(s.abandoned(), 1);
}

// A real model (poolformer_s12 at 3x64x64) run forward many times by work that never looks at
// the cancel flag: only the executor's check (RunOptions::cancel, put there by the service) can
// stop it. The edit lands mid-run; the run stops within about one op, not after the loop.
TEST_F(InferenceServiceTest, EditAbandonsARealRunMidway) {
  InferenceService s(1);
  const fw::Graph g = fw::build_template("poolformer_s12", {{3, 64, 64}, 10});
  s.set_model(snapshot(g, 1, 1));
  constexpr int kForwards = 400;
  std::atomic<int> forwards{0}, ops_run{-1}, ops_total{0};
  std::atomic<bool> returned{false};
  s.request("sample:0", "slow", [&](InferenceService::Context& c) -> InferenceService::Result {
    const fw::Tensor x({2, 3, 64, 64}, 0.5f);
    fw::RunOptions o;
    o.profile = true;  // per-op times: 0 for the ops a cancelled forward did not reach
    for (int i = 0; i < kForwards; ++i) {
      try {
        c.ex.forward({x}, o);
      } catch (const fw::Cancelled&) {
        int ran = 0;
        for (double ms : c.ex.forward_times()) ran += ms > 0;
        ops_run = ran;
        ops_total = int(c.ex.flat().ops.size());
        throw;
      }
      ++forwards;
    }
    returned = true;
    return std::make_shared<const int>(kForwards);
  });
  ASSERT_TRUE(eventually([&] { return forwards.load() >= 3; }, 60));
  const auto t0 = Clock::now();
  s.set_model(snapshot(g, 2, 1));
  s.wait_idle();
  const double stop_s = seconds_since(t0);
  EXPECT_EQ(s.abandoned(), 1);
  EXPECT_FALSE(returned.load());
  EXPECT_LT(forwards.load(), kForwards);
  EXPECT_GE(ops_run.load(), 0) << "the work never saw fw::Cancelled";
  EXPECT_LT(ops_run.load(), ops_total.load()) << "the forward ran to its end";
  EXPECT_LT(stop_s, 2.0) << "stopping took " << stop_s << " s";
  EXPECT_EQ(s.get("sample:0", "slow").state, State::Absent);
  s.set_model(snapshot(g, 1, 1));  // the old revisions again: nothing was stored for them
  EXPECT_EQ(s.get("sample:0", "slow").state, State::Absent);
}

TEST_F(InferenceServiceTest, FailuresCarryTheirReason) {
  InferenceService s(1);
  std::atomic<int> runs{0};

  // Before any model.
  s.request("x", "w", counting(runs, "x"));
  EXPECT_EQ(s.get("x", "w").state, State::Failed);
  EXPECT_NE(s.get("x", "w").error.find("no model"), std::string::npos);

  // A graph that does not validate: the analysis' first problem, and the work never runs.
  const fw::Graph bad = tiny_graph(5);
  std::string expected;
  try {
    fw::require_valid(fw::analyze(bad));
  } catch (const fw::Error& e) {
    expected = e.what();
  }
  ASSERT_FALSE(expected.empty());
  s.set_model(snapshot(bad, 1, 1, false));
  s.request("x", "w", counting(runs, "x"));
  s.request("y", "w", counting(runs, "y"));
  s.wait_idle();
  for (const char* id : {"x", "y"}) {
    const InferenceService::Status st = s.get(id, "w");
    EXPECT_EQ(st.state, State::Failed) << id;
    EXPECT_EQ(st.error, expected.substr(0, expected.find('\n')));
    EXPECT_EQ(st.error.find('\n'), std::string::npos);
  }

  // Weights that do not bind.
  fw::ModelSnapshot m = snapshot(tiny_graph(), 2, 1, false);
  m.weights = std::make_shared<const fw::TensorMap>();
  s.set_model(m);
  s.request("x", "w", counting(runs, "x"));
  s.wait_idle();
  EXPECT_EQ(s.get("x", "w").state, State::Failed);
  EXPECT_NE(s.get("x", "w").error.find("missing parameter"), std::string::npos)
      << s.get("x", "w").error;
  // No weights at all.
  s.set_model(snapshot(tiny_graph(), 3, 1, false));
  s.request("x", "w", counting(runs, "x"));
  s.wait_idle();
  EXPECT_EQ(s.get("x", "w").error, "the model has no weights");
  EXPECT_EQ(runs.load(), 0);

  // Work that throws; the next request on the same model still runs.
  s.set_model(snapshot(tiny_graph(), 4, 1));
  s.request("x", "fw", [](InferenceService::Context&) -> InferenceService::Result {
    throw fw::Error("layer 'head.fc' outputs [10]: it has no spatial grid\nsecond line");
  });
  s.request("x", "std", [](InferenceService::Context&) -> InferenceService::Result {
    throw std::runtime_error("out of range");
  });
  s.request("x", "ok", counting(runs, "ok"));
  s.wait_idle();
  EXPECT_EQ(s.get("x", "fw").state, State::Failed);
  EXPECT_EQ(s.get("x", "fw").error, "layer 'head.fc' outputs [10]: it has no spatial grid");
  EXPECT_EQ(s.get("x", "std").error, "out of range");
  EXPECT_EQ(s.get("x", "ok").state, State::Done);
  // Failed is cached like Done: asking again does not rerun.
  s.request("x", "fw", counting(runs, "not run"));
  s.wait_idle();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(s.get("x", "fw").state, State::Failed);

  // fw::Cancelled thrown by work stores nothing (not a failure).
  s.request("x", "cancelled",
            [](InferenceService::Context&) -> InferenceService::Result { throw fw::Cancelled(); });
  s.wait_idle();
  EXPECT_EQ(s.get("x", "cancelled").state, State::Absent);
}

TEST_F(InferenceServiceTest, NewestRequestRunsFirst) {
  InferenceService s(1);
  s.set_model(snapshot(tiny_graph(), 1, 1));
  std::atomic<bool> started{false}, release{false};
  std::mutex mu;
  std::vector<std::string> order;
  auto logging = [&](std::string name) {
    return [&, name](InferenceService::Context&) -> InferenceService::Result {
      std::lock_guard<std::mutex> lk(mu);
      order.push_back(name);
      return nullptr;
    };
  };
  s.request("blocker", "w", [&](InferenceService::Context&) -> InferenceService::Result {
    started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return nullptr;
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  s.request("a", "w", logging("a"));
  s.request("b", "w", logging("b"));
  s.request("c", "w", logging("c"));
  s.request("a", "w", logging("a again"));  // already queued: nothing
  release = true;
  s.wait_idle();
  EXPECT_EQ(order, (std::vector<std::string>{"c", "b", "a"}));
}

TEST_F(InferenceServiceTest, ActivityShowsProgress) {
  InferenceService s(1);
  s.set_model(snapshot(tiny_graph(), 1, 1));
  EXPECT_FALSE(s.activity().busy);
  std::atomic<bool> release{false};
  s.request("sample:3", "faithfulness|deletion",
            [&](InferenceService::Context& c) -> InferenceService::Result {
              c.control.total = 10;
              c.control.done = 3;
              c.control.set_status("step 3 of 10");
              while (!release && !c.control.cancelled())
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
              return nullptr;
            });
  ASSERT_TRUE(eventually([&] { return s.activity().done == 3; }));
  std::atomic<int> runs{0};
  s.request("sample:4", "w", counting(runs, "next"));
  const InferenceService::Activity a = s.activity();
  EXPECT_TRUE(a.busy);
  EXPECT_EQ(a.what, "faithfulness|deletion");
  EXPECT_EQ(a.done, 3);
  EXPECT_EQ(a.total, 10);
  EXPECT_EQ(a.status, "step 3 of 10");
  EXPECT_EQ(a.queued, 1);
  const InferenceService::Status st = s.get("sample:3", "faithfulness|deletion");
  EXPECT_EQ(st.state, State::Running);
  EXPECT_EQ(st.done, 3);
  EXPECT_EQ(st.total, 10);
  EXPECT_EQ(st.status, "step 3 of 10");
  EXPECT_EQ(s.get("sample:4", "w").state, State::Queued);
  release = true;
  s.wait_idle();
  const InferenceService::Activity idle = s.activity();
  EXPECT_FALSE(idle.busy);
  EXPECT_EQ(idle.queued, 0);
  EXPECT_EQ(runs.load(), 1);
}

// The destructor while a real model runs (work that never checks the flag) and more wait.
TEST_F(InferenceServiceTest, DestructorAbandonsAndJoinsPromptly) {
  const fw::Graph g = fw::build_template("poolformer_s12", {{3, 64, 64}, 10});
  std::atomic<int> forwards{0}, queued_runs{0};
  auto s = std::make_unique<InferenceService>(1);
  s->set_model(snapshot(g, 1, 1));
  s->request("sample:0", "slow", [&](InferenceService::Context& c) -> InferenceService::Result {
    const fw::Tensor x({2, 3, 64, 64}, 0.5f);
    for (int i = 0; i < 400; ++i, ++forwards) c.ex.forward({x}, {});
    return nullptr;
  });
  ASSERT_TRUE(eventually([&] { return forwards.load() >= 2; }, 60));
  s->request("sample:1", "w", counting(queued_runs, "never"));  // waits behind the running one
  const auto t0 = Clock::now();
  s.reset();
  const double close_s = seconds_since(t0);
  EXPECT_LT(forwards.load(), 400);
  EXPECT_EQ(queued_runs.load(), 0);
  EXPECT_LT(close_s, 2.0);
}

}  // namespace

namespace {

// A forward of the tiny model on whatever executor the request gets, with the backend's name.
struct Ran {
  std::string backend;
  fw::Tensor logits;
};
InferenceService::Result forward_work(InferenceService::Context& c) {
  std::vector<fw::Tensor> out = c.ex.forward({fw::Tensor({2, 3, 4, 4}, 1.0f)}, {});
  return std::make_shared<const Ran>(Ran{std::string(c.backend.name()), out.at(0)});
}

}  // namespace

TEST_F(InferenceServiceTest, ADeviceOutOfMemoryRetriesTheRequestOnTheCpu) {
  InferenceService s(1);
  fwtest::DeviceLikeBackend gpu("fake_gpu");
  gpu.oom_on_forward = true;
  fw::ModelSnapshot m = snapshot(tiny_graph(), 1, 1);
  m.backend = &gpu;
  s.set_model(m);
  s.request("x", "logits", forward_work);
  s.wait_idle();
  const InferenceService::Status st = s.get("x", "logits");
  ASSERT_EQ(st.state, State::Done) << st.error;
  EXPECT_EQ(s.get_as<Ran>("x", "logits")->backend, "cpu");
  EXPECT_EQ(s.get_as<Ran>("x", "logits")->logits.shape, (fw::Shape{2, 2}));
  EXPECT_EQ(gpu.forwards.load(), 1);  // tried on the device first
  EXPECT_NE(st.notice.find("fake_gpu: out of GPU memory"), std::string::npos) << st.notice;
  EXPECT_NE(st.notice.find("ran on the CPU instead"), std::string::npos) << st.notice;
  InferenceService::Activity a = s.activity();
  EXPECT_EQ(a.cpu_retries, 1);
  EXPECT_EQ(a.retry_notice, st.notice);
  // The same logits as the CPU model itself gives.
  InferenceService cpu(1);
  cpu.set_model(snapshot(tiny_graph(), 1, 1));
  cpu.request("x", "logits", forward_work);
  cpu.wait_idle();
  ASSERT_EQ(cpu.get("x", "logits").state, State::Done);
  EXPECT_EQ(cpu.get("x", "logits").notice, "");
  EXPECT_EQ(cpu.get_as<Ran>("x", "logits")->logits.data, s.get_as<Ran>("x", "logits")->logits.data);
  // The next request tries the device again (it may fit), and falls back again.
  s.request("y", "logits", forward_work);
  s.wait_idle();
  EXPECT_EQ(s.get("y", "logits").state, State::Done);
  EXPECT_EQ(gpu.forwards.load(), 2);
  EXPECT_EQ(s.activity().cpu_retries, 2);
  // A device that has the memory runs the request itself, with no notice.
  gpu.oom_on_forward = false;
  m.weights_revision = 2;
  s.set_model(m);
  s.request("x", "logits", forward_work);
  s.wait_idle();
  ASSERT_EQ(s.get("x", "logits").state, State::Done);
  EXPECT_EQ(s.get_as<Ran>("x", "logits")->backend, "fake_gpu");
  EXPECT_EQ(s.get("x", "logits").notice, "");
  EXPECT_EQ(s.activity().cpu_retries, 2);
}

TEST_F(InferenceServiceTest, AModelTheDeviceCannotHoldRunsOnTheCpu) {
  InferenceService s(1);
  fwtest::DeviceLikeBackend gpu("fake_gpu");
  gpu.oom_on_bind = true;
  fw::ModelSnapshot m = snapshot(tiny_graph(), 1, 1);
  m.backend = &gpu;
  s.set_model(m);
  s.request("x", "logits", forward_work);
  s.request("y", "logits", forward_work);
  s.wait_idle();
  for (const char* id : {"x", "y"}) {
    const InferenceService::Status st = s.get(id, "logits");
    ASSERT_EQ(st.state, State::Done) << st.error;
    EXPECT_EQ(s.get_as<Ran>(id, "logits")->backend, "cpu");
    EXPECT_NE(st.notice.find("the weights do not fit"), std::string::npos) << st.notice;
  }
  EXPECT_EQ(gpu.binds.load(), 1);  // the model is built once per snapshot
  EXPECT_EQ(gpu.forwards.load(), 0);
  EXPECT_EQ(s.activity().cpu_retries, 2);
}

TEST_F(InferenceServiceTest, OtherDeviceFailuresAreNotRetried) {
  InferenceService s(1);
  fwtest::DeviceLikeBackend gpu("fake_gpu");
  fw::ModelSnapshot m = snapshot(tiny_graph(), 1, 1);
  m.backend = &gpu;
  s.set_model(m);
  s.request("x", "logits", [](InferenceService::Context&) -> InferenceService::Result {
    throw fw::Error("CUDA: an illegal memory access was encountered (kernel launch)");
  });
  // Out of memory on the CPU itself: there is nowhere else to go.
  fw::ModelSnapshot c = snapshot(tiny_graph(), 1, 1);
  InferenceService on_cpu(1);
  on_cpu.set_model(c);
  on_cpu.request("x", "logits", [](InferenceService::Context&) -> InferenceService::Result {
    throw fw::gpu::DeviceOutOfMemory("out of GPU memory: impossible here");
  });
  s.wait_idle();
  on_cpu.wait_idle();
  EXPECT_EQ(s.get("x", "logits").state, State::Failed);
  EXPECT_EQ(s.get("x", "logits").error,
            "CUDA: an illegal memory access was encountered (kernel launch)");
  EXPECT_EQ(s.get("x", "logits").notice, "");
  EXPECT_EQ(on_cpu.get("x", "logits").state, State::Failed);
  EXPECT_EQ(on_cpu.get("x", "logits").error, "out of GPU memory: impossible here");
  EXPECT_EQ(s.activity().cpu_retries, 0);
  EXPECT_EQ(on_cpu.activity().cpu_retries, 0);
}
