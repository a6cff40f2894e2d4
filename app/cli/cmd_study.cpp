// formwork study: the proxy study (do the zero-cost scores predict accuracy on this space?).
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "core/error.h"
#include "core/format.h"
#include "core/project_store.h"
#include "nas/session.h"
#include "nas/study.h"

namespace fw::cli {

namespace {
// Abdelfattah et al. 2021 ("Zero-Cost Proxies for Lightweight NAS"), NAS-Bench-201 CIFAR-10,
// Spearman rho against final accuracy (their Table 2; naswot and MACs are not in it).
double published_rho(const std::string& m) {
  if (m == "synflow_log") return 0.74;  // synflow (the log is monotone: same ranks)
  if (m == "jacob_cov") return 0.73;
  if (m == "grad_norm") return 0.58;
  if (m == "snip") return 0.58;
  if (m == "params") return 0.75;
  return std::nan("");
}

std::string fixed3(double v) {
  if (!std::isfinite(v)) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", v);
  return b;
}
}  // namespace

void register_study(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "study", "Proxy study: Kendall tau and Spearman rho of each proxy against trained accuracy");
  cmd->footer(
      "Samples --samples subnets of the project's search space at random (a search named --name, "
      "default 'study', stored in the project like any other: a killed study continues), trains "
      "each "
      "for --train-steps steps on the project's dataset, and ranks every zero-cost proxy "
      "(synflow_log, "
      "grad_norm, snip, naswot, jacob_cov), params and MACs against the test top-1: Kendall's "
      "tau-b and "
      "Spearman's rho as scipy.stats computes them. The published column is Abdelfattah et al. "
      "2021, "
      "NAS-Bench-201 CIFAR-10 (Spearman rho).");
  struct Args {
    std::string project, name = "study";
    SearchSettings s;
    int64_t samples = 30;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  a->s.train_steps = 200;
  cmd->add_option("PROJECT", a->project,
                  "project file (*.formwork) with a search space and a dataset")
      ->required();
  cmd->add_option("--samples", a->samples, "subnets to sample and train (default 30)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--train-steps", a->s.train_steps, "training steps per subnet (default 200)");
  cmd->add_option("--train-batch", a->s.train_batch, "batch size (default 64)");
  cmd->add_option("--train-lr", a->s.train_lr, "peak learning rate (default 0.002)");
  cmd->add_option("--eval-limit", a->s.eval_limit, "test items evaluated (default 1000; 0 all)");
  cmd->add_option("--proxy-batch", a->s.proxy_batch, "items the data proxies see (default 16)");
  cmd->add_option("--seed", a->s.strategy.seed, "seed of the sampling and the initialisation")
      ->check(non_negative());
  cmd->add_option("--threads", a->s.threads, "subnets trained at once (default: all cores)")
      ->check(non_negative());
  cmd->add_option("--name", a->name, "the study's search name (default: study)");
  cmd->add_flag("--json", a->json, "print the table as JSON");
  cmd->callback([a] {
    if (!ends_with(a->project, ".formwork"))
      throw UsageError("study: PROJECT must be a project file (*.formwork), got '" + a->project +
                       "'");
    SearchSettings set = a->s;
    set.name = a->name;
    set.strategy.name = "random";
    set.budget = a->samples;
    set.objectives = parse_objectives(study_objectives());
    {
      const ProjectData p = load_project(a->project);
      const std::unique_ptr<SearchSession> session =
          prepare_search(p, a->project, p.graph_json, set);
      JobControl ctl;
      std::string status;
      int64_t done = int64_t(session->stored.size());
      const auto line = [&](const SearchRecord& r) {
        ++done;
        if (a->json) return;
        const auto acc = r.metrics.find("accuracy");
        std::printf("  [%lld/%lld] #%lld %s%s%s\n", (long long)done, (long long)set.budget,
                    (long long)r.id, r.status.c_str(),
                    acc != r.metrics.end() ? (" accuracy " + fixed3(acc->second)).c_str() : "",
                    r.reason.empty() ? "" : (": " + r.reason).c_str());
        std::fflush(stdout);
      };
      run_project_search(*session, ctl, line, {}, &status);
    }
    const ProjectData p = load_project(a->project);
    const std::vector<SearchRecord> recs = search_records(p, a->name);
    const std::vector<ProxyCorrelation> table = proxy_study(recs);
    if (a->json) {
      nlohmann::ordered_json j = nlohmann::ordered_json::array();
      for (const ProxyCorrelation& c : table) {
        const auto num = [](double v) {
          return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
        };
        j.push_back({{"metric", c.metric},
                     {"n", c.n},
                     {"kendall_tau", num(c.kendall)},
                     {"spearman_rho", num(c.spearman)},
                     {"published_spearman_rho", num(published_rho(c.metric))}});
      }
      std::printf("%s\n", j.dump(1).c_str());
      return;
    }
    std::printf("%-12s %5s %10s %12s %s\n", "metric", "n", "Kendall", "Spearman",
                "published (NAS-Bench-201 CIFAR-10)");
    for (const ProxyCorrelation& c : table)
      std::printf("%-12s %5lld %10s %12s %s\n", c.metric.c_str(), (long long)c.n,
                  fixed3(c.kendall).c_str(), fixed3(c.spearman).c_str(),
                  fixed3(published_rho(c.metric)).c_str());
  });
}

}  // namespace fw::cli
