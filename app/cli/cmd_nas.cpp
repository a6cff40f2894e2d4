// formwork space / nas / results: the search engine's commands (CONTRACT.md, "Search").
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "app/cli/cli.h"
#include "app/cli/engine.h"
#include "core/analysis.h"
#include "core/arch.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/project_store.h"
#include "nas/mpi.h"
#include "nas/session.h"

namespace fw::cli {

namespace {

using json = nlohmann::ordered_json;

json number_json(const std::string& metric, double v) {
  if (!std::isfinite(v)) return nullptr;
  if (metric == "params" || metric == "macs") return int64_t(v);
  return v;
}

void require_project(const std::string& path, const char* cmd) {
  if (!ends_with(path, ".formwork"))
    throw UsageError(std::string(cmd) + ": PROJECT must be a project file (*.formwork), got '" +
                     path + "'");
}

}  // namespace

// ---- space
// ------------------------------------------------------------------------------------------

void register_space(CLI::App& app) {
  auto* cmd = app.add_subcommand("space", "Show or set the project's search space");
  cmd->footer(
      "The file: {\"choices\": [{\"node\": \"stages.1\", \"attr\": \"token_mixer\", \"values\": "
      "[\"pooling\", \"sepconv\", \"attention\"]}, {\"node\": \"stages.1\", \"attr\": \"depth\", "
      "\"values\": [1, 2, 3]}], \"constraints\": {\"params_max\": 1e6, \"macs_max\": 5e7, "
      "\"latency_ms_max\": 20}} (each constraint optional). Nodes are module paths; a width choice "
      "(a stage's dim) carries over to what consumes it.");
  struct Args {
    std::string project, set;
    bool clear = false, json = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("PROJECT", a->project, "project file (*.formwork)")->required();
  auto* set =
      cmd->add_option("--set", a->set, "store the space in FILE.json (checked against the graph)");
  cmd->add_flag("--clear", a->clear, "remove the project's search space")->excludes(set);
  cmd->add_flag("--json", a->json, "print the space as JSON, with \"size\"");
  cmd->callback([a] {
    require_project(a->project, "space");
    // Changing the space is a read-modify-write of the project: under its write lock.
    std::optional<ProjectLock> lock;
    if (!a->set.empty() || a->clear) lock.emplace(a->project, "changing the search space");
    ProjectData p = load_project(a->project);
    Graph g = graph_from_json(p.graph_json, a->project);
    SearchSpace s;
    if (!a->set.empty() || a->clear) {
      if (!a->set.empty()) {
        std::string text;
        try {
          const std::vector<uint8_t> bytes = read_file_bytes(a->set);
          text.assign(bytes.begin(), bytes.end());
        } catch (const Error& e) {
          throw Error(a->set + ": cannot read (" + e.what() + ")");
        }
        s = check_space(g, SearchSpace::from_json(text, a->set));
      }
      const std::string v = space_meta_value(s);
      if (v.empty())
        g.meta.erase(kSearchSpaceMeta);
      else
        g.meta.set(kSearchSpaceMeta, v);
      p.graph_json = graph_to_json(g);
      save_project(a->project, p, &*lock);
    } else {
      s = graph_space(g);
      if (!s.empty()) s = check_space(g, s);
    }
    if (a->json) {
      json j = json::parse(s.to_json());
      j["size"] = s.size();
      std::printf("%s\n", j.dump(1).c_str());
      return;
    }
    if (s.empty()) {
      std::printf(
          "%s: no search space%s\n", a->project.c_str(),
          a->clear ? " (removed)" : "; set one with `formwork space PROJECT --set FILE.json`");
      return;
    }
    std::printf("%s: search space of %s subnet%s%s\n", a->project.c_str(),
                format_number(s.size()).c_str(), s.size() == 1 ? "" : "s",
                a->set.empty() ? "" : " (stored)");
    const std::optional<Pick> bp = base_pick(g, s);
    for (size_t i = 0; i < s.choices.size(); ++i) {
      const SpaceChoice& c = s.choices[i];
      std::string vals;
      for (size_t k = 0; k < c.values.size(); ++k) {
        if (!vals.empty()) vals += ", ";
        const bool is_base = bp && (*bp)[i] == int(k);
        vals += attr_to_string(c.values[k]) + (is_base ? "*" : "");
      }
      std::printf("  %-36s %s\n", c.label().c_str(), vals.c_str());
    }
    const SpaceConstraints& k = s.constraints;
    if (k.params_max) std::printf("  params <= %s\n", format_number(*k.params_max).c_str());
    if (k.macs_max) std::printf("  macs <= %s\n", format_number(*k.macs_max).c_str());
    if (k.latency_ms_max)
      std::printf("  latency_ms <= %s\n", format_number(*k.latency_ms_max).c_str());
    std::printf("  (* the base network's value)\n");
  });
}

// ---- nas
// ----------------------------------------------------------------------------------------------

void register_nas(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("nas", "Search the project's search space (random, evolution, NSGA-II)");
  cmd->footer(
      "Objectives: comma-separated metric:min|max; metrics synflow_log, grad_norm, snip, naswot, "
      "jacob_cov, params, macs, latency_ms, accuracy (test top-1 after --train-steps K on the "
      "project's "
      "dataset). Every scored subnet is committed to the project at once: running the same command "
      "again continues the search up to --budget scored subnets in all, with the results an "
      "uninterrupted run gives. Invalid subnets and those over a constraint are recorded with "
      "their "
      "reason and not counted. Proxies are computed on the subnet at initialisation (seed "
      "--seed).");
  struct Args {
    std::string project, strategy = "random", objectives, name = "search";
    SearchSettings s;
    DeviceArgs device;
    bool json = false, quiet = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("PROJECT", a->project, "project file (*.formwork) with a search space")
      ->required();
  cmd->add_option("--strategy", a->strategy, "random (default), evolution or nsga2");
  cmd->add_option("--budget", a->s.budget, "subnets to score in all")->required();
  cmd->add_option("--objectives", a->objectives, "e.g. naswot:max,params:min")->required();
  cmd->add_option("--seed", a->s.strategy.seed,
                  "seed of the strategy and of the subnets' initialisation")
      ->check(non_negative());
  cmd->add_option("--population", a->s.strategy.population, "evolution and nsga2 (default 20)");
  cmd->add_option("--tournament", a->s.strategy.tournament,
                  "evolution: tournament size S (default 5)");
  cmd->add_option("--crossover", a->s.strategy.crossover,
                  "nsga2: crossover probability (default 0.9)");
  cmd->add_option("--name", a->name, "the search's name (default: search)");
  cmd->add_option("--threads", a->s.threads, "subnets scored at once (default: all cores)")
      ->check(non_negative());
  cmd->add_option("--proxy-batch", a->s.proxy_batch,
                  "items of the project's dataset the data proxies see (default 16)");
  cmd->add_option("--proxy-input", a->s.proxy_input,
                  "the data proxies' batch instead (*.npy float32 [B,C,H,W])");
  cmd->add_option("--proxy-labels", a->s.proxy_labels,
                  "its labels (*.npy int64 [B]), with --proxy-input");
  cmd->add_option("--latency-repeats", a->s.latency_repeats, "latency: timed runs (default 10)");
  cmd->add_option("--latency-batch", a->s.latency_batch, "latency: also time this batch size");
  cmd->add_option("--train-steps", a->s.train_steps, "accuracy: training steps per subnet");
  cmd->add_option("--train-batch", a->s.train_batch, "accuracy: batch size (default 64)");
  cmd->add_option("--train-lr", a->s.train_lr, "accuracy: peak learning rate (default 0.002)");
  cmd->add_option("--eval-limit", a->s.eval_limit,
                  "accuracy: test items evaluated (default 1000; 0 all)");
  add_device_options(cmd, a->device);
  cmd->add_flag("--json", a->json, "print a JSON summary at the end");
  cmd->add_flag("--quiet", a->quiet, "no line per subnet");
  cmd->callback([a] {
    // Under mpirun every rank runs this command (nas/mpi.h): rank 0 drives, the others score.
    bool quiet_error = false;
    MpiWorld world;
    try {
      world = mpi_start(&quiet_error);
    } catch (const Error&) {
      if (quiet_error) std::_Exit(1);  // rank 0 says why
      throw;
    }
    struct Finish {
      MpiWorld& w;
      bool serving = false;
      ~Finish() {
        if (serving) mpi_stop_workers(w);
        mpi_finish(w);
      }
    } finish{world};
    std::string problem;
    int problem_code = 1;
    ProjectData p;
    std::unique_ptr<SearchSession> session;
    SearchSettings set = a->s;
    try {
      require_project(a->project, "nas");
      const Backend& backend = device_backend(a->device);  // before the project is read
      set.name = a->name;
      set.strategy.name = a->strategy;
      set.objectives = parse_objectives(a->objectives);
      p = load_project(a->project);
      session = prepare_search(p, a->project, p.graph_json, set);
      session->eval.backend = &backend;  // every subnet is scored there (MPI workers too)
    } catch (const UsageError& e) {
      if (!world.active) throw;
      problem = e.what();
      problem_code = 2;
    } catch (const std::exception& e) {
      if (!world.active) throw;
      problem = e.what();
    }
    if (world.active) {
      const std::string first = mpi_gather_ready(world, problem);
      const bool go = mpi_broadcast_go(world, world.rank != 0 || first.empty());
      if (!go) {
        if (world.rank != 0) return;  // rank 0 says why
        if (problem_code == 2 && first == problem) throw UsageError(first);
        throw Error(first);
      }
      if (world.rank != 0) {
        mpi_serve(world, search_eval_settings(session->info, session->eval));
        return;
      }
      finish.serving = true;
    }
    const SearchSpace& space = session->info.space;
    if (!a->quiet && !a->json) {
      std::printf("search '%s' on %s: %s, %s subnets in the space, budget %lld, objectives %s\n",
                  set.name.c_str(), a->project.c_str(), set.strategy.name.c_str(),
                  format_number(space.size()).c_str(), (long long)set.budget,
                  objectives_str(set.objectives).c_str());
      if (world.active) std::printf("MPI: rank 0 drives, %d workers score\n", world.size - 1);
      std::printf(
          "proxy batch: %s%s\n", session->proxy_said.c_str(),
          session->stored.empty()
              ? ""
              : (", continuing from " + std::to_string(session->stored.size()) + " stored results")
                    .c_str());
      std::fflush(stdout);
    }
    const auto print = [&](const SearchRecord& c) {
      if (a->quiet || a->json) return;
      std::string m;
      for (const Objective& o : set.objectives) {
        const auto it = c.metrics.find(o.metric);
        if (it != c.metrics.end()) m += " " + o.metric + " " + format_number(it->second);
      }
      std::printf("  #%lld gen %lld %-8s%s%s%s (%.2f s)\n", (long long)c.id,
                  (long long)c.generation, c.status.c_str(), m.c_str(),
                  c.reason.empty() ? "" : ": ", c.reason.c_str(), c.seconds);
      std::fflush(stdout);
    };
    JobControl ctl;
    std::string status;
    decltype(SearchHooks::evaluate) remote;
    if (world.active)
      remote = [&](const std::vector<std::string>& graphs, bool serial,
                   const std::function<void(size_t, const SubnetScore&)>& done) {
        mpi_evaluate(world, graphs, serial, done);
      };
    const SearchProgress prog = run_project_search(*session, ctl, print, {}, &status, remote);

    // The front over everything the search has recorded.
    const ProjectData after = load_project(a->project);
    const std::vector<SearchRecord> all = search_records(after, set.name);
    const std::vector<int64_t> front = pareto_ids(all, set.objectives);
    if (a->json) {
      json j;
      j["search"] = set.name;
      j["status"] = status;
      j["scored"] = prog.scored;
      j["budget"] = prog.budget;
      j["invalid"] = prog.invalid;
      j["filtered"] = prog.filtered;
      j["failed"] = prog.failed;
      j["results"] = all.size();
      j["pareto"] = front;
      j["seconds"] = prog.seconds;
      std::printf("%s\n", j.dump(1).c_str());
    } else {
      std::printf(
          "%s: %lld of %lld scored (%lld invalid, %lld filtered, %lld failed) in %s; Pareto front: "
          "%zu\n",
          status.c_str(), (long long)prog.scored, (long long)prog.budget, (long long)prog.invalid,
          (long long)prog.filtered, (long long)prog.failed, format_duration(prog.seconds).c_str(),
          front.size());
    }
  });
}

// ---- results
// ------------------------------------------------------------------------------------------

void register_results(CLI::App& app) {
  auto* cmd = app.add_subcommand("results", "The project's search results");
  cmd->footer(
      "One row per recorded subnet: id, search, choices (node.attr -> value), metrics, pareto (on "
      "its "
      "search's objectives), parent (the id it was bred from, or null), generation, status (ok, "
      "failed, "
      "invalid, filtered) and reason.");
  struct Args {
    std::string project, name;
    bool pareto = false, json = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("PROJECT", a->project, "project file (*.formwork)")->required();
  cmd->add_option("--name", a->name, "only this search");
  cmd->add_flag("--pareto", a->pareto, "only the Pareto front of each search");
  cmd->add_flag("--json", a->json, "print a JSON array of rows");
  cmd->callback([a] {
    require_project(a->project, "results");
    const ProjectData p = load_project(a->project);
    if (!a->name.empty() && std::none_of(p.searches.begin(), p.searches.end(),
                                         [&](const SearchRow& r) { return r.name == a->name; }))
      throw Error(a->project + ": no search named '" + a->name + "'");
    json rows = json::array();
    std::vector<std::string> lines;
    for (const SearchRow& row : p.searches) {
      if (!a->name.empty() && row.name != a->name) continue;
      const SearchInfo info = info_from_row(row);
      const std::vector<SearchRecord> recs = search_records(p, row.name);
      const std::vector<int64_t> front = pareto_ids(recs, info.settings.objectives);
      if (!a->json)
        lines.push_back("search '" + row.name + "': " + info.settings.strategy.name +
                        ", objectives " + objectives_str(info.settings.objectives) + ", " +
                        std::to_string(recs.size()) + " results, " + std::to_string(front.size()) +
                        " on the Pareto front");
      for (const SearchRecord& r : recs) {
        const bool on_front = std::find(front.begin(), front.end(), r.id) != front.end();
        if (a->pareto && !on_front) continue;
        if (a->json) {
          json j;
          j["id"] = r.id;
          j["search"] = r.search;
          j["choices"] = json::parse(r.choices_json);
          json m = json::object();
          for (const auto& [k, v] : r.metrics) m[k] = number_json(k, v);
          j["metrics"] = m;
          j["pareto"] = on_front;
          j["parent"] = r.parent ? json(r.parent) : json(nullptr);
          j["generation"] = r.generation;
          j["status"] = r.status;
          j["reason"] = r.reason;
          j["seconds"] = r.seconds;
          j["created"] = r.created;
          rows.push_back(j);
        } else {
          std::string ch;
          for (const auto& [k, v] : json::parse(r.choices_json).items())
            ch += (ch.empty() ? "" : " ") + k + "=" +
                  (v.is_string() ? v.get<std::string>() : v.dump());
          std::string m;
          for (const Objective& o : info.settings.objectives) {
            const auto it = r.metrics.find(o.metric);
            m += " " + o.metric + "=" +
                 (it == r.metrics.end() ? std::string("-") : format_number(it->second));
          }
          lines.push_back("  " + std::string(on_front ? "*" : " ") + " #" + std::to_string(r.id) +
                          " gen " + std::to_string(r.generation) + " " + r.status + m + "  " + ch +
                          (r.reason.empty() ? "" : "  (" + r.reason + ")"));
        }
      }
    }
    if (a->json) {
      std::printf("%s\n", rows.dump(1).c_str());
      return;
    }
    if (lines.empty()) std::printf("%s: no search results\n", a->project.c_str());
    for (const std::string& l : lines) std::printf("%s\n", l.c_str());
    if (!lines.empty()) std::printf("(* on the search's Pareto front)\n");
  });
}

}  // namespace fw::cli
