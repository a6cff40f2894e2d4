#include "nas/evaluate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <new>
#include <thread>

#include "core/analysis.h"
#include "core/error.h"
#include "core/format.h"
#include "core/init.h"
#include "kernels/train/trainer.h"
#include "nas/proxies.h"

namespace fw {

const std::vector<std::string>& search_metrics() {
  static const std::vector<std::string> m = {"synflow_log", "grad_norm",  "snip",
                                             "naswot",      "jacob_cov",  "params",
                                             "macs",        "latency_ms", "accuracy"};
  return m;
}

bool is_search_metric(const std::string& m) {
  return std::find(search_metrics().begin(), search_metrics().end(), m) != search_metrics().end();
}

std::vector<Objective> parse_objectives(const std::string& list) {
  std::vector<Objective> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string item =
        list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (item.empty()) continue;
    const size_t colon = item.find(':');
    if (colon == std::string::npos)
      throw UsageError("--objectives: '" + item + "' needs a direction (:min or :max)");
    Objective o;
    o.metric = item.substr(0, colon);
    const std::string dir = item.substr(colon + 1);
    if (!is_search_metric(o.metric))
      throw UsageError("unknown objective '" + o.metric +
                       "'; metrics: " + format_list(search_metrics()));
    if (dir != "min" && dir != "max")
      throw UsageError("--objectives: direction '" + dir + "' of " + o.metric +
                       " must be min or max");
    o.maximize = dir == "max";
    for (const Objective& p : out)
      if (p.metric == o.metric) throw UsageError("--objectives: " + o.metric + " is named twice");
    out.push_back(o);
  }
  if (out.empty()) throw UsageError("--objectives: give at least one, e.g. naswot:max,params:min");
  return out;
}

std::string objectives_str(const std::vector<Objective>& objs) {
  std::string s;
  for (const Objective& o : objs) {
    if (!s.empty()) s += ',';
    s += o.str();
  }
  return s;
}

namespace {

bool wants(const EvalSettings& s, const std::string& m) {
  return std::find(s.metrics.begin(), s.metrics.end(), m) != s.metrics.end();
}

// Test top-1 after a short training from `weights`.
double short_training_accuracy(const Graph& g, const Analysis& a, const Backend& be,
                               const EvalSettings& s, const TensorMap& weights, JobControl* outer) {
  if (!s.train_data) throw Error("accuracy needs the project's dataset");
  if (s.train_steps < 1) throw Error("accuracy needs --train-steps of at least 1");
  TrainSettings ts;
  ts.epochs = 1;
  ts.batch = s.train_batch;
  ts.lr = s.train_lr;
  ts.min_lr = std::min(ts.min_lr, ts.lr);
  ts.warmup_epochs = 0.1;
  ts.seed = s.init_seed;
  ts.limit = s.train_steps * s.train_batch;
  ts.check();
  TrainCheckpoint ck;
  ck.weights = weights;
  // The trainer counts its steps on its own control; the search's cancel reaches it from here.
  JobControl ctl;
  std::atomic<bool> running{true};
  std::thread relay([&] {
    while (running.load()) {
      if (outer && outer->cancelled()) ctl.cancel = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  double top1 = std::nan("");
  std::string status;
  try {
    status = train(g, a, be, ts, *s.train_data, ck, ctl, {},
                   [&](const TrainCheckpoint&, const EpochResult& r) { top1 = r.test_top1; });
  } catch (...) {
    running = false;
    relay.join();
    throw;
  }
  running = false;
  relay.join();
  if (status == "cancelled") throw Cancelled();
  return top1;
}

}  // namespace

SubnetScore evaluate_subnet(const Graph& subnet, const EvalSettings& s, JobControl* ctl) {
  const auto t0 = std::chrono::steady_clock::now();
  SubnetScore r;
  const auto finish = [&](std::string status, std::string reason = "") {
    r.status = std::move(status);
    r.reason = std::move(reason);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  const Backend& be = s.backend ? *s.backend : cpu_backend();
  try {
    const Analysis a = analyze(subnet);
    if (!a.ok()) return finish("failed", a.problems.front().message);
    r.metrics["params"] = double(a.total_params);
    r.metrics["macs"] = double(a.total_macs);
    const SpaceConstraints& k = s.constraints;
    if (k.params_max && double(a.total_params) > *k.params_max)
      return finish("filtered", "params " + format_number(double(a.total_params)) +
                                    " > params_max " + format_number(*k.params_max));
    if (k.macs_max && double(a.total_macs) > *k.macs_max)
      return finish("filtered", "macs " + format_number(double(a.total_macs)) + " > macs_max " +
                                    format_number(*k.macs_max));
    const bool latency = wants(s, "latency_ms") || k.latency_ms_max;
    std::vector<std::string> proxies;
    for (const std::string& m : s.metrics)
      if (m != "params" && m != "macs" && m != "latency_ms" && m != "accuracy")
        proxies.push_back(m);
    if (!latency && proxies.empty() && !wants(s, "accuracy")) return finish("ok");

    const TensorMap weights = init_weights(a, s.init_seed);
    ProxyInput in;
    in.graph = &subnet;
    in.analysis = &a;
    in.backend = &be;
    in.weights = &weights;
    in.x = s.proxy_x;
    in.labels = s.proxy_labels;
    in.latency_repeats = 0;
    if (latency) {
      if (in.x.shape.empty()) throw Error("latency needs an input batch");
      r.metrics["latency_ms"] = forward_latency_ms(in, 1, s.latency_repeats);
      if (s.latency_batch > 1)
        r.metrics["latency_ms_b" + std::to_string(s.latency_batch)] =
            forward_latency_ms(in, s.latency_batch, s.latency_repeats);
      if (k.latency_ms_max && r.metrics["latency_ms"] > *k.latency_ms_max)
        return finish("filtered", "latency_ms " + format_number(r.metrics["latency_ms"]) +
                                      " > latency_ms_max " + format_number(*k.latency_ms_max));
    }
    if (ctl && ctl->cancelled()) throw Cancelled();
    if (!proxies.empty()) {
      if (in.x.shape.empty()) throw Error("the proxies need an input batch");
      for (const auto& [name, v] : compute_proxies(in, proxies))
        if (name != "latency_ms" && name != "params" && name != "macs") r.metrics[name] = v;
    }
    if (ctl && ctl->cancelled()) throw Cancelled();
    if (wants(s, "accuracy"))
      r.metrics["accuracy"] = short_training_accuracy(subnet, a, be, s, weights, ctl);
    for (const std::string& m : s.metrics) {
      const auto it = r.metrics.find(m);
      if (it == r.metrics.end()) return finish("failed", m + " was not computed");
      if (!std::isfinite(it->second))
        return finish("failed", m + " is not finite (" + format_number(it->second) + ")");
    }
    return finish("ok");
  } catch (const Cancelled&) {
    throw;
  } catch (const std::bad_alloc&) {
    return finish("failed", "out of memory");
  } catch (const std::exception& e) {
    return finish("failed", e.what());
  }
}

}  // namespace fw
