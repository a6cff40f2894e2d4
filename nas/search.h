// Running a search: the strategy proposes, evaluate_subnet scores (in parallel threads where the
// objectives allow), every result is committed the moment it is known, and a stopped search
// resumes from what was committed (CONTRACT.md, "Search").
//
// Settings and identity
//  - A search has a name (default "search"), its settings (strategy, budget, objectives, seed,
//    population, ...), its base graph and its space, stored once when it starts (SearchInfo). The
//    same command again continues it; other settings, another base or another space under the same
//    name are refused, naming what differs ("search 'search' was started with --budget 200,
//    not 300"), except the budget, which may grow.
//  - Every recorded proposal has a seq (its place in the search's proposal order, 0, 1, ...) and
//    an id (the project's next free id when it is committed). Results are committed in seq order:
//    a subnet that finishes before an earlier one of its batch waits for it (at most one batch),
//    so ids, like everything else, do not depend on the thread count or on timing.
//
// The loop
//  - Budget = subnets scored (status ok or failed). Invalid subnets (not a valid graph) and
//    filtered ones (over a constraint) are recorded with their reason and do not count. A
//    proposal whose key was seen before in this search is answered from the cache (not recorded
//    again, not counted). The search stops at the budget, on cancel, or when kStallLimit
//    proposals in a row brought no scored subnet: the space is exhausted (every proposal was a
//    repeat) or what is left of it is invalid or over a constraint; status says which.
//  - Resuming replays the strategy from the seed: a proposal already committed takes its stored
//    result instead of being evaluated; so an interrupted and resumed run ends with the results an
//    uninterrupted one has (deterministic metrics: everything but latency).
//  - Threads: `threads` subnets are scored at once, each on one kernel thread (so the metrics,
//    a short training's included, do not depend on the thread count), unless latency is measured
//    (an objective or a constraint): then one at a time, on all kernel threads, so that timings
//    do not disturb each other.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/graph.h"
#include "core/job.h"
#include "nas/evaluate.h"
#include "nas/space.h"
#include "nas/strategy.h"

namespace fw {

inline constexpr int kStallLimit = 1000;

struct SearchSettings {
  std::string name = "search";
  StrategySettings strategy;         // name, seed, population, tournament, crossover
  int64_t budget = 0;
  std::vector<Objective> objectives;
  int threads = 0;                   // 0: all cores
  int64_t proxy_batch = 16;          // items of the project's dataset for the data proxies
  std::string proxy_input, proxy_labels;  // or the user's own batch (.npy files)
  int latency_repeats = 10;
  int64_t latency_batch = 0;
  int64_t train_steps = 0;           // accuracy objective
  int64_t train_batch = 64;
  double train_lr = 2e-3;
  int64_t eval_limit = 1000;         // accuracy: test items evaluated

  std::string to_json() const;
  static SearchSettings from_json(const std::string& text);  // fw::Error for bad JSON
  // "--budget 300 (stored 200)" per setting that differs (threads and budget are not compared).
  std::vector<std::string> differences(const SearchSettings& stored) const;
  // The first setting that makes no sense ("--budget must be at least 1, got 0"), or "".
  std::string problem() const;
};

// One committed result, as `results` shows it.
struct SearchRecord {
  int64_t id = 0;
  int64_t seq = 0;
  std::string search;
  std::string key;            // canonical key (nas/space.h)
  std::string choices_json;   // label -> value
  std::map<std::string, double> metrics;
  std::string status;         // ok, failed, invalid, filtered
  std::string reason;
  int64_t parent = 0;         // id of the parent, 0 for none
  int64_t generation = 0;
  double seconds = 0;
  std::string created;        // ISO 8601
};

// What a search is, stored when it starts.
struct SearchInfo {
  std::string name;
  SearchSettings settings;
  std::string base_json;  // the base graph (graph JSON, no space in its meta)
  SearchSpace space;
  std::string created;
};

struct SearchProgress {
  int64_t scored = 0, budget = 0;  // counted evaluations
  int64_t proposals = 0, invalid = 0, filtered = 0, failed = 0, cached = 0;
  double seconds = 0;              // since this run started
  double seconds_left = -1;        // estimate; -1 unknown
};

struct SearchHooks {
  // Called once per new result, in seq order, from the driver's thread; returns the id it was
  // stored under (the parent ids of later results refer to it). Throws to stop the search (a
  // write that failed).
  std::function<int64_t(const SearchRecord&)> commit;
  // Brackets commits made together (results that became ready at once): group(true) before the
  // first, group(false) after the last, so that they can share one transaction. May be empty.
  std::function<void(bool begin)> group;
  std::function<void(const SearchProgress&)> progress;  // after each result; may be empty
  // Scores subnets elsewhere instead of on this process's threads (nas/mpi.h): called with the
  // graphs (JSON) to score and whether each gets one kernel thread; calls done(i, score) for each
  // as it comes back, on this thread, in any order; returns when all are back. May be empty.
  std::function<void(const std::vector<std::string>& graphs, bool serial,
                     const std::function<void(size_t, const SubnetScore&)>& done)>
      evaluate;
};

// Runs (or continues: `stored` are this search's committed records) the search described by
// `info` until its budget. `eval` carries the data the metrics need (proxy batch, training data);
// its metrics/constraints are filled from the settings and the space here. Returns the final
// progress; status text ("done", "cancelled", "space exhausted after N subnets") in `status`.
SearchProgress run_search(const SearchInfo& info, const EvalSettings& eval,
                          const std::vector<SearchRecord>& stored, const SearchHooks& hooks,
                          JobControl& ctl, std::string* status = nullptr);

// What evaluate_subnet is given for each subnet of the search: `data` (proxy batch, training
// data, backend, seed) with the metrics, constraints and training settings of the search.
EvalSettings search_eval_settings(const SearchInfo& info, const EvalSettings& data);

// Pareto membership of a search's ok records on its objectives (maximised metrics negated);
// records without every objective are not on it. Returns ids on the front.
std::vector<int64_t> pareto_ids(const std::vector<SearchRecord>& records,
                                const std::vector<Objective>& objectives);

// Conversions to and from the project's stored rows (core/project_store.h).
struct SearchResult;
struct SearchRow;
struct ProjectData;
// The graph of result `id` of a project: its search's base graph with its choices applied.
// fw::Error "p.formwork: no search result 7" / "... result 7 is invalid (reason)".
Graph result_graph(const ProjectData& p, int64_t id, const std::string& where);
// The records of search `name` in a project, in seq order.
std::vector<SearchRecord> search_records(const ProjectData& p, const std::string& name);
SearchRecord record_from_row(const SearchResult& row);
SearchResult row_from_record(const SearchRecord& r);
SearchInfo info_from_row(const SearchRow& row);
SearchRow row_from_info(const SearchInfo& info);

}  // namespace fw
