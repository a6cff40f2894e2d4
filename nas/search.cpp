#include "nas/search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/project_store.h"
#include "kernels/parallel.h"
#include "nas/pareto.h"

namespace fw {

namespace {
using json = nlohmann::ordered_json;

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }
}  // namespace

// ---- Settings
// ---------------------------------------------------------------------------------------

std::string SearchSettings::to_json() const {
  json j;
  j["name"] = name;
  j["strategy"] = strategy.name;
  j["seed"] = strategy.seed;
  j["population"] = strategy.population;
  j["tournament"] = strategy.tournament;
  j["crossover"] = strategy.crossover;
  j["budget"] = budget;
  j["objectives"] = objectives_str(objectives);
  j["threads"] = threads;
  j["proxy_batch"] = proxy_batch;
  j["proxy_input"] = proxy_input;
  j["proxy_labels"] = proxy_labels;
  j["latency_repeats"] = latency_repeats;
  j["latency_batch"] = latency_batch;
  j["train_steps"] = train_steps;
  j["train_batch"] = train_batch;
  j["train_lr"] = train_lr;
  j["eval_limit"] = eval_limit;
  return j.dump();
}

SearchSettings SearchSettings::from_json(const std::string& text) {
  SearchSettings s;
  try {
    const json j = json::parse(text);
    s.name = j.value("name", s.name);
    s.strategy.name = j.value("strategy", s.strategy.name);
    s.strategy.seed = j.value("seed", s.strategy.seed);
    s.strategy.population = j.value("population", s.strategy.population);
    s.strategy.tournament = j.value("tournament", s.strategy.tournament);
    s.strategy.crossover = j.value("crossover", s.strategy.crossover);
    s.budget = j.value("budget", s.budget);
    s.objectives = parse_objectives(j.value("objectives", std::string()));
    s.strategy.objectives = int(s.objectives.size());
    s.threads = j.value("threads", s.threads);
    s.proxy_batch = j.value("proxy_batch", s.proxy_batch);
    s.proxy_input = j.value("proxy_input", s.proxy_input);
    s.proxy_labels = j.value("proxy_labels", s.proxy_labels);
    s.latency_repeats = j.value("latency_repeats", s.latency_repeats);
    s.latency_batch = j.value("latency_batch", s.latency_batch);
    s.train_steps = j.value("train_steps", s.train_steps);
    s.train_batch = j.value("train_batch", s.train_batch);
    s.train_lr = j.value("train_lr", s.train_lr);
    s.eval_limit = j.value("eval_limit", s.eval_limit);
  } catch (const json::exception& e) {
    throw Error("search settings: " + std::string(e.what()));
  }
  return s;
}

std::vector<std::string> SearchSettings::differences(const SearchSettings& stored) const {
  std::vector<std::string> out;
  const auto cmp = [&](const char* flag, const auto& mine, const auto& theirs) {
    if (mine == theirs) return;
    const auto text = [](const auto& v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>)
        return v;
      else
        return format_number(double(v));
    };
    out.push_back(std::string(flag) + " " + text(mine) + " (stored " + text(theirs) + ")");
  };
  cmp("--strategy", strategy.name, stored.strategy.name);
  cmp("--seed", strategy.seed, stored.strategy.seed);
  cmp("--population", strategy.population, stored.strategy.population);
  cmp("--tournament", strategy.tournament, stored.strategy.tournament);
  cmp("--crossover", strategy.crossover, stored.strategy.crossover);
  cmp("--objectives", objectives_str(objectives), objectives_str(stored.objectives));
  cmp("--proxy-batch", proxy_batch, stored.proxy_batch);
  cmp("--proxy-input", proxy_input, stored.proxy_input);
  cmp("--proxy-labels", proxy_labels, stored.proxy_labels);
  cmp("--latency-repeats", latency_repeats, stored.latency_repeats);
  cmp("--latency-batch", latency_batch, stored.latency_batch);
  cmp("--train-steps", train_steps, stored.train_steps);
  cmp("--train-batch", train_batch, stored.train_batch);
  cmp("--train-lr", train_lr, stored.train_lr);
  cmp("--eval-limit", eval_limit, stored.eval_limit);
  return out;
}

std::string SearchSettings::problem() const {
  const auto uses = [&](const char* m) {
    return std::any_of(objectives.begin(), objectives.end(),
                       [&](const Objective& o) { return o.metric == m; });
  };
  if (name.empty()) return "--name must not be empty";
  if (budget < 1) return "--budget must be at least 1, got " + std::to_string(budget);
  if (objectives.empty()) return "--objectives: give at least one, e.g. naswot:max,params:min";
  if (strategy.population < 2)
    return "--population must be at least 2, got " + std::to_string(strategy.population);
  if (strategy.tournament < 1 || strategy.tournament > strategy.population)
    return "--tournament must be between 1 and the population (" +
           std::to_string(strategy.population) + "), got " + std::to_string(strategy.tournament);
  if (!(strategy.crossover >= 0 && strategy.crossover <= 1))
    return "--crossover must be between 0 and 1, got " + format_number(strategy.crossover);
  if (strategy.name == "nsga2" && (objectives.size() < 2 || objectives.size() > 3))
    return "nsga2 needs two or three objectives, got " + std::to_string(objectives.size());
  if (proxy_batch < 2 || proxy_batch > 65536)
    return "--proxy-batch must be between 2 and 65536, got " + std::to_string(proxy_batch);
  if (latency_repeats < 1)
    return "--latency-repeats must be at least 1, got " + std::to_string(latency_repeats);
  if (latency_batch < 0 || latency_batch > 4096)
    return "--latency-batch must be between 0 and 4096, got " + std::to_string(latency_batch);
  if (uses("accuracy") && train_steps < 1) return "accuracy needs --train-steps K (K at least 1)";
  if (train_batch < 1 || train_batch > 65536)
    return "--train-batch must be between 1 and 65536, got " + std::to_string(train_batch);
  if (!(train_lr > 0) || !std::isfinite(train_lr))
    return "--train-lr must be positive, got " + format_number(train_lr);
  if (eval_limit < 0) return "--eval-limit must be at least 0, got " + std::to_string(eval_limit);
  return "";
}

// ---- Rows
// -------------------------------------------------------------------------------------------

SearchRecord record_from_row(const SearchResult& row) {
  SearchRecord r;
  r.id = row.id;
  r.seq = row.seq;
  r.search = row.search;
  r.choices_json = row.subnet_json;
  r.status = row.status;
  r.reason = row.reason;
  r.parent = row.parent;
  r.generation = row.generation;
  r.seconds = row.seconds;
  r.created = row.created;
  if (!row.metrics_json.empty()) {
    const json j = json::parse(row.metrics_json, nullptr, false);
    if (j.is_object())
      for (const auto& [k, v] : j.items())
        r.metrics[k] = v.is_number() ? v.get<double>() : std::nan("");
  }
  return r;
}

SearchResult row_from_record(const SearchRecord& r) {
  SearchResult row;
  row.id = r.id;
  row.search = r.search;
  row.subnet_json = r.choices_json;
  json m = json::object();
  for (const auto& [k, v] : r.metrics) m[k] = number_or_null(v);
  row.metrics_json = m.dump();
  row.created = r.created;
  row.seq = r.seq;
  row.parent = r.parent;
  row.generation = r.generation;
  row.status = r.status;
  row.reason = r.reason;
  row.seconds = r.seconds;
  return row;
}

SearchInfo info_from_row(const SearchRow& row) {
  SearchInfo info;
  info.name = row.name;
  info.settings = SearchSettings::from_json(row.settings_json);
  info.settings.name = row.name;
  info.base_json = row.base_json;
  info.space = SearchSpace::from_json(row.space_json, "search '" + row.name + "': space");
  info.created = row.created;
  return info;
}

SearchRow row_from_info(const SearchInfo& info) {
  return {info.name, info.settings.to_json(), info.space.to_json(-1), info.base_json, info.created};
}

std::vector<SearchRecord> search_records(const ProjectData& p, const std::string& name) {
  std::vector<SearchRecord> out;
  for (const SearchResult& r : p.search_results)
    if (r.search == name) out.push_back(record_from_row(r));
  std::stable_sort(out.begin(), out.end(),
                   [](const SearchRecord& a, const SearchRecord& b) { return a.seq < b.seq; });
  return out;
}

Graph result_graph(const ProjectData& p, int64_t id, const std::string& where) {
  const auto r = std::find_if(p.search_results.begin(), p.search_results.end(),
                              [&](const SearchResult& x) { return x.id == id; });
  if (r == p.search_results.end()) throw Error(where + ": no search result " + std::to_string(id));
  if (r->status == "invalid")
    throw Error(where + ": search result " + std::to_string(id) + " is not a valid graph (" +
                r->reason + ")");
  const auto s = std::find_if(p.searches.begin(), p.searches.end(),
                              [&](const SearchRow& x) { return x.name == r->search; });
  if (s == p.searches.end())
    throw Error(where + ": search result " + std::to_string(id) + " belongs to search '" +
                r->search + "', which the project does not hold");
  const SearchInfo info = info_from_row(*s);
  const Graph base = graph_from_json(info.base_json, where + ": search '" + info.name + "' base");
  const SearchSpace space = check_space(base, info.space);
  return apply_subnet(base, space, pick_from_choices_json(space, r->subnet_json));
}

// ---- Pareto
// -------------------------------------------------------------------------------------------

namespace {
// Objective values oriented for minimisation; false when one is missing or not finite.
bool oriented(const std::map<std::string, double>& metrics, const std::vector<Objective>& objs,
              std::vector<double>& out) {
  out.clear();
  for (const Objective& o : objs) {
    const auto it = metrics.find(o.metric);
    if (it == metrics.end() || !std::isfinite(it->second)) return false;
    out.push_back(o.maximize ? -it->second : it->second);
  }
  return true;
}
}  // namespace

std::vector<int64_t> pareto_ids(const std::vector<SearchRecord>& records,
                                const std::vector<Objective>& objectives) {
  std::vector<ObjectivePoint> pts;
  std::vector<int64_t> ids;
  for (const SearchRecord& r : records) {
    std::vector<double> p;
    if (r.status != "ok" || !oriented(r.metrics, objectives, p)) continue;
    pts.push_back(p);
    ids.push_back(r.id);
  }
  std::vector<int64_t> out;
  if (pts.empty()) return out;
  const std::vector<bool> mask = pareto_mask(pts);
  for (size_t i = 0; i < ids.size(); ++i)
    if (mask[i]) out.push_back(ids[i]);
  return out;
}

// ---- The loop
// -------------------------------------------------------------------------------------

EvalSettings search_eval_settings(const SearchInfo& info, const EvalSettings& data) {
  const SearchSettings& set = info.settings;
  EvalSettings eval = data;
  eval.metrics.clear();
  for (const Objective& o : set.objectives) eval.metrics.push_back(o.metric);
  eval.constraints = info.space.constraints;
  eval.latency_repeats = set.latency_repeats;
  eval.latency_batch = set.latency_batch;
  eval.train_steps = set.train_steps;
  eval.train_batch = set.train_batch;
  eval.train_lr = set.train_lr;
  return eval;
}

SearchProgress run_search(const SearchInfo& info, const EvalSettings& eval_in,
                          const std::vector<SearchRecord>& stored, const SearchHooks& hooks,
                          JobControl& ctl, std::string* status_out) {
  const SearchSettings& set = info.settings;
  if (const std::string p = set.problem(); !p.empty()) throw UsageError(p);
  const SearchSpace space =
      check_space(graph_from_json(info.base_json, "search '" + info.name + "': base"), info.space);
  const Graph base = graph_from_json(info.base_json, "search '" + info.name + "': base");

  const EvalSettings eval = search_eval_settings(info, eval_in);
  const bool timed = std::any_of(set.objectives.begin(), set.objectives.end(),
                                 [](const Objective& o) { return o.metric == "latency_ms"; }) ||
                     space.constraints.latency_ms_max.has_value();
  int threads =
      set.threads > 0 ? set.threads : int(std::max(1u, std::thread::hardware_concurrency()));
  if (timed) threads = 1;

  StrategySettings ss = set.strategy;
  ss.objectives = int(set.objectives.size());
  std::vector<int> counts;
  for (const SpaceChoice& c : space.choices) counts.push_back(int(c.values.size()));
  std::unique_ptr<Strategy> strategy = make_strategy(ss, counts);

  std::map<std::string, const SearchRecord*> stored_by_key;
  for (const SearchRecord& r : stored)
    stored_by_key[r.key.empty() ? subnet_key(space, pick_from_choices_json(space, r.choices_json))
                                : r.key] = &r;

  struct Known {
    Outcome outcome;
    int64_t id = 0;
  };
  std::map<std::string, Known> known;   // this search's subnets by key
  std::vector<int64_t> id_of_proposal;  // every proposal, cached ones too
  int64_t next_seq = 0;
  for (const SearchRecord& r : stored) next_seq = std::max(next_seq, r.seq + 1);
  int64_t seq = 0;

  SearchProgress prog;
  prog.budget = set.budget;
  const auto t0 = std::chrono::steady_clock::now();
  int64_t scored_here = 0;         // evaluated in this run (for the time estimate)
  int64_t stall = 0;               // proposals since the last one that was scored
  bool fresh_since_score = false;  // whether any of them was new
  std::string status = "done";

  const auto outcome_of = [&](const SearchRecord& r) {
    Outcome o;
    o.ok = r.status == "ok" && oriented(r.metrics, set.objectives, o.objectives);
    if (!o.ok) o.objectives.clear();
    return o;
  };
  const auto counts_for_budget = [](const std::string& st) { return st == "ok" || st == "failed"; };
  const auto report = [&] {
    prog.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    prog.seconds_left = scored_here > 0
                            ? prog.seconds / double(scored_here) *
                                  double(std::max<int64_t>(0, prog.budget - prog.scored))
                            : -1;
    ctl.done = prog.scored;
    ctl.total = prog.budget;
    if (hooks.progress) hooks.progress(prog);
  };

  while (prog.scored < set.budget) {
    if (ctl.cancelled() || !ctl.wait_if_paused()) {
      status = "cancelled";
      break;
    }
    const std::vector<Proposal> batch = strategy->propose();
    if (batch.empty()) {
      status = "space exhausted after " + std::to_string(prog.scored) + " subnets";
      break;
    }
    // Sort the batch: cached, stored, invalid, or to evaluate.
    struct Item {
      const Proposal* p;
      std::string key;
      bool cached = false;
      SearchRecord rec;  // new records (stored, invalid or evaluated)
      Graph graph;
      bool evaluate = false, ready = false, has_record = false;
    };
    std::vector<Item> items(batch.size());
    int64_t budget_left = set.budget - prog.scored;
    bool fresh = false;
    for (size_t i = 0; i < batch.size(); ++i) {
      Item& it = items[i];
      it.p = &batch[i];
      it.key = subnet_key(space, batch[i].pick);
      if (known.count(it.key)) {
        it.cached = true;
        it.ready = true;
        continue;
      }
      fresh = true;
      it.has_record = true;
      SearchRecord& r = it.rec;
      r.seq = seq++;
      r.search = info.name;
      r.key = it.key;
      r.choices_json = subnet_choices_json(space, batch[i].pick);
      r.generation = batch[i].generation;
      known[it.key] = {};  // a later duplicate in this batch is answered from the cache
      if (const auto st = stored_by_key.find(it.key); st != stored_by_key.end()) {
        r = *st->second;
        r.key = it.key;
        it.ready = true;
        if (counts_for_budget(r.status)) --budget_left;
        continue;
      }
      r.created = now_iso8601();
      try {
        it.graph = apply_subnet(base, space, batch[i].pick);
      } catch (const Error& e) {
        r.status = "invalid";
        r.reason = e.what();
        it.ready = true;
        continue;
      }
      // The analytic constraints filter before anything runs.
      const Analysis a = analyze(it.graph);
      r.metrics["params"] = double(a.total_params);
      r.metrics["macs"] = double(a.total_macs);
      const SpaceConstraints& k = space.constraints;
      if (k.params_max && double(a.total_params) > *k.params_max) {
        r.status = "filtered";
        r.reason = "params " + format_number(double(a.total_params)) + " > params_max " +
                   format_number(*k.params_max);
        it.ready = true;
      } else if (k.macs_max && double(a.total_macs) > *k.macs_max) {
        r.status = "filtered";
        r.reason = "macs " + format_number(double(a.total_macs)) + " > macs_max " +
                   format_number(*k.macs_max);
        it.ready = true;
      } else {
        it.evaluate = true;
      }
    }
    const int64_t scored_before = prog.scored;
    if (fresh) fresh_since_score = true;

    // Score the new ones, `threads` at a time; commit in seq order as they become ready.
    std::mutex mu;
    std::condition_variable cv;
    std::vector<size_t> todo;
    for (size_t i = 0; i < items.size(); ++i)
      if (items[i].evaluate) todo.push_back(i);
    // Past the budget a proposal is not scored nor recorded. Every score counts unless a
    // latency constraint can filter it, which only happens one at a time (timed): the cut is the
    // same whatever the thread count or the timing.
    const auto skip = [&](Item& it) {
      it.has_record = false;
      it.evaluate = false;
      it.ready = true;
      known.erase(it.key);
    };
    if (!timed && int64_t(todo.size()) > std::max<int64_t>(0, budget_left)) {
      for (size_t j = size_t(std::max<int64_t>(0, budget_left)); j < todo.size(); ++j)
        skip(items[todo[j]]);
      todo.resize(size_t(std::max<int64_t>(0, budget_left)));
    }
    int64_t counted_in_batch = 0;  // timed: scores that count, so far
    size_t next_todo = 0;
    bool cancelled = false;
    std::vector<std::thread> workers;
    const int n_workers = hooks.evaluate ? 0 : int(std::min<size_t>(size_t(threads), todo.size()));
    for (int w = 0; w < n_workers; ++w)
      workers.emplace_back([&, w] {
        (void)w;
        std::unique_ptr<SerialScope> serial;
        // One kernel thread per subnet, whatever --threads is: float sums (training's gradients)
        // then add up in the same order and the metrics do not depend on the thread count.
        if (!timed) serial = std::make_unique<SerialScope>();
        for (;;) {
          size_t idx;
          {
            std::lock_guard<std::mutex> lk(mu);
            for (;;) {
              if (cancelled || next_todo >= todo.size()) return;
              idx = todo[next_todo++];
              if (!timed || counted_in_batch < budget_left) break;
              skip(items[idx]);
              cv.notify_all();
            }
          }
          Item& it = items[idx];
          SubnetScore sc;
          try {
            sc = evaluate_subnet(it.graph, eval, &ctl);
          } catch (const Cancelled&) {
            std::lock_guard<std::mutex> lk(mu);
            cancelled = true;
            cv.notify_all();
            return;
          }
          std::lock_guard<std::mutex> lk(mu);
          it.rec.status = sc.status;
          it.rec.reason = sc.reason;
          it.rec.metrics = sc.metrics;
          it.rec.seconds = sc.seconds;
          it.rec.created = now_iso8601();
          it.ready = true;
          if (counts_for_budget(sc.status)) ++counted_in_batch;
          cv.notify_all();
        }
      });

    size_t next_commit = 0;
    std::exception_ptr failure;
    const auto commit_ready = [&](std::unique_lock<std::mutex>& lk) {
      bool grouped = false;
      struct EndGroup {
        bool& grouped;
        const SearchHooks& hooks;
        ~EndGroup() {
          if (grouped && hooks.group && std::uncaught_exceptions() == 0) hooks.group(false);
        }
      };
      const EndGroup end_group{grouped, hooks};
      while (next_commit < items.size() && items[next_commit].ready) {
        Item& it = items[next_commit++];
        if (it.cached) {
          const auto k = known.find(it.key);
          id_of_proposal.push_back(k == known.end() ? 0 : k->second.id);
          ++prog.cached;
          ++prog.proposals;
          continue;
        }
        if (!it.has_record) {
          id_of_proposal.push_back(0);
          continue;
        }
        SearchRecord& r = it.rec;
        const bool from_store = stored_by_key.count(it.key) && r.id != 0 && !it.evaluate;
        if (!from_store) {
          r.parent = it.p->parent >= 0 && size_t(it.p->parent) < id_of_proposal.size()
                         ? id_of_proposal[size_t(it.p->parent)]
                         : 0;
          lk.unlock();
          try {
            if (!grouped && hooks.group) {
              hooks.group(true);
              grouped = true;
            }
            r.id = hooks.commit ? hooks.commit(r) : int64_t(r.seq + 1);
          } catch (...) {
            lk.lock();
            failure = std::current_exception();
            cancelled = true;
            grouped = false;  // the appender drops the open transaction
            return;
          }
          lk.lock();
          if (counts_for_budget(r.status)) ++scored_here;
        }
        known[it.key] = {outcome_of(r), r.id};
        id_of_proposal.push_back(r.id);
        ++prog.proposals;
        if (counts_for_budget(r.status)) ++prog.scored;
        if (r.status == "invalid") ++prog.invalid;
        if (r.status == "filtered") ++prog.filtered;
        if (r.status == "failed") ++prog.failed;
        lk.unlock();
        report();
        lk.lock();
      }
    };
    // Scored elsewhere (MPI workers): results come back on this thread, committed as they allow.
    if (hooks.evaluate && !todo.empty()) {
      const auto fill = [&](size_t idx, const SubnetScore& sc) {
        std::unique_lock<std::mutex> lk(mu);
        Item& it = items[idx];
        it.rec.status = sc.status;
        it.rec.reason = sc.reason;
        it.rec.metrics = sc.metrics;
        it.rec.seconds = sc.seconds;
        it.rec.created = now_iso8601();
        it.ready = true;
        if (counts_for_budget(sc.status)) ++counted_in_batch;
        commit_ready(lk);
      };
      if (!timed) {
        std::vector<std::string> graphs;
        for (size_t idx : todo) graphs.push_back(graph_to_json(items[idx].graph, -1));
        hooks.evaluate(graphs, true,
                       [&](size_t j, const SubnetScore& sc) { fill(todo.at(j), sc); });
      } else {
        for (size_t idx : todo) {  // one at a time, so that the budget cut is the same as here
          if (counted_in_batch >= budget_left) {
            std::lock_guard<std::mutex> lk(mu);
            skip(items[idx]);
            continue;
          }
          hooks.evaluate({graph_to_json(items[idx].graph, -1)}, false,
                         [&](size_t, const SubnetScore& sc) { fill(idx, sc); });
        }
      }
      if (failure) std::rethrow_exception(failure);
    }
    {
      std::unique_lock<std::mutex> lk(mu);
      for (;;) {
        commit_ready(lk);
        if (next_commit >= items.size() || cancelled) break;
        if (ctl.cancelled()) cancelled = true;
        cv.wait_for(lk, std::chrono::milliseconds(50));
      }
    }
    for (std::thread& t : workers) t.join();
    if (failure) std::rethrow_exception(failure);
    if (cancelled || next_commit < items.size()) {
      status = "cancelled";
      break;
    }
    bool over = false;
    std::vector<Outcome> outcomes;
    for (const Item& it : items) {
      if (!it.has_record && !it.cached) over = true;
      const auto k = known.find(it.key);
      outcomes.push_back(k != known.end() && (it.cached || it.has_record) ? k->second.outcome
                                                                          : Outcome{});
    }
    if (over) break;  // the budget ended inside this batch
    strategy->tell(outcomes);
    if (prog.scored > scored_before) {
      stall = 0;
      fresh_since_score = false;
    } else {
      stall += int64_t(batch.size());
    }
    if (stall >= kStallLimit) {
      status = fresh_since_score
                   ? "stopped after " + std::to_string(prog.scored) +
                         " subnets: none of the last " + std::to_string(stall) +
                         " proposals could be scored (invalid or over a constraint)"
                   : "space exhausted after " + std::to_string(prog.scored) + " subnets";
      break;
    }
  }
  if (prog.scored >= set.budget) status = "done";
  report();
  if (status_out) *status_out = status;
  return prog;
}

}  // namespace fw
