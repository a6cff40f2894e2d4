// Scoring one subnet: what a search asks of each candidate (CONTRACT.md, "Search").
//
// evaluate_subnet is a pure function of (the subnet's graph, the settings): it keeps no state
// between calls and touches no project, so a later step can run it in worker processes on other
// machines (MPI) and get the same numbers. Data it needs (the proxy batch, the training data)
// travels in EvalSettings.
//
// Metrics (names as `formwork score` and `nas --objectives` spell them)
//  params, macs          analytic (core/analysis.h); always computed, they cost nothing
//  synflow_log, grad_norm, snip, naswot, jacob_cov
//                        nas/proxies.h on the subnet at initialisation (timm's init, `init_seed`)
//                        with the proxy batch (`proxy_x`, `proxy_labels`)
//  latency_ms            median batch-1 forward time over `latency_repeats` runs after 2 warm-ups;
//                        with latency_batch > 1 also `latency_ms_b<B>` (the batch-B forward)
//  accuracy              test top-1 after `train_steps` steps of the trainer (kernels/train) from
//                        the same initialisation on `train_data`, evaluated on its test split
// Order: analysis and the analytic constraints first (a subnet over params_max or macs_max is
// "filtered" before anything runs), then latency (and latency_ms_max), then the rest.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/job.h"
#include "core/tensor.h"
#include "kernels/backend.h"
#include "nas/space.h"

namespace fw {

struct TrainData;

// Every metric an objective may name, in display order.
const std::vector<std::string>& search_metrics();
bool is_search_metric(const std::string& m);

struct Objective {
  std::string metric;
  bool maximize = false;
  std::string str() const { return metric + (maximize ? ":max" : ":min"); }
  bool operator==(const Objective&) const = default;
};
// "naswot:max,params:min" -> objectives. Throws fw::UsageError: an empty list, an unknown
// metric ("unknown objective 'acc'; metrics: synflow_log, ..."), a direction other than min/max,
// a metric named twice.
std::vector<Objective> parse_objectives(const std::string& list);
std::string objectives_str(const std::vector<Objective>& objs);

struct EvalSettings {
  std::vector<std::string> metrics;  // what to compute beyond params and macs
  const Backend* backend = nullptr;  // cpu unless told
  uint64_t init_seed = 0;
  Tensor proxy_x;                    // [B,C,H,W] for the data proxies
  std::vector<int64_t> proxy_labels;  // B labels (grad_norm, snip)
  int latency_repeats = 10;
  int64_t latency_batch = 0;         // > 1: also time this batch
  int64_t train_steps = 0;           // accuracy
  int64_t train_batch = 64;
  double train_lr = 2e-3;
  const TrainData* train_data = nullptr;  // accuracy: the project's dataset fitted to the input
  SpaceConstraints constraints;
};

struct SubnetScore {
  std::string status;  // "ok", "filtered" (a constraint), "failed" (NaN, out of memory, error)
  std::string reason;  // why, when not ok
  std::map<std::string, double> metrics;  // whatever was computed before it stopped
  double seconds = 0;  // wall time of the evaluation
};

// Scores one subnet. Never throws for the subnet's own faults (they become "failed" with the
// reason, e.g. "synflow_log is not finite", "out of memory"); `ctl` may cancel (throws
// fw::Cancelled). An invalid graph never reaches here (apply_subnet refuses it).
SubnetScore evaluate_subnet(const Graph& subnet, const EvalSettings& s, JobControl* ctl = nullptr);

}  // namespace fw
