// The search loop (nas/search.h) without a project: commits captured in memory.
#include <gtest/gtest.h>

#include <set>

#include "core/error.h"
#include "core/graph_json.h"
#include "core/templates.h"
#include "nas/search.h"

namespace {

fw::SearchInfo info_for(const std::string& space_json, const std::string& strategy, int64_t budget,
                        const std::string& objectives = "params:min,macs:max") {
  fw::SearchInfo info;
  info.name = "t";
  info.settings.name = "t";
  info.settings.strategy.name = strategy;
  info.settings.strategy.seed = 5;
  info.settings.strategy.population = 6;
  info.settings.strategy.tournament = 3;
  info.settings.budget = budget;
  info.settings.objectives = fw::parse_objectives(objectives);
  info.settings.strategy.objectives = int(info.settings.objectives.size());
  const fw::Graph base = fw::build_template("caformer_mini64");
  info.base_json = fw::graph_to_json(base, -1);
  info.space = fw::check_space(base, fw::SearchSpace::from_json(space_json));
  return info;
}

const char* kSpace = R"({"choices": [
  {"node": "stages.1", "attr": "token_mixer", "values": ["pooling", "sepconv", "attention"]},
  {"node": "stages.1", "attr": "depth", "values": [1, 2, 3]},
  {"node": "stages.2", "attr": "depth", "values": [1, 2]},
  {"node": "stages.2", "attr": "in_dim", "values": [64, 80]}]})";  // 80: an invalid graph

struct SearchRun {
  std::vector<fw::SearchRecord> committed;
  fw::SearchProgress prog;
  std::string status;
};

SearchRun run(const fw::SearchInfo& info, int threads,
              const std::vector<fw::SearchRecord>& stored = {}) {
  fw::SearchInfo i = info;
  i.settings.threads = threads;
  SearchRun r;
  int64_t next = 1;
  for (const fw::SearchRecord& s : stored) next = std::max(next, s.id + 1);
  fw::SearchHooks hooks;
  hooks.commit = [&](const fw::SearchRecord& rec) {
    fw::SearchRecord c = rec;
    c.id = next++;
    r.committed.push_back(c);
    return c.id;
  };
  fw::JobControl ctl;
  r.prog = fw::run_search(i, fw::EvalSettings{}, stored, hooks, ctl, &r.status);
  return r;
}

// What must agree between two runs (not the wall times).
std::vector<std::string> summary(const std::vector<fw::SearchRecord>& recs) {
  std::vector<std::string> out;
  for (const fw::SearchRecord& r : recs) {
    std::string m;
    for (const auto& [k, v] : r.metrics) m += k + "=" + std::to_string(v) + " ";
    out.push_back(std::to_string(r.id) + " " + std::to_string(r.seq) + " " + r.key + " " +
                  r.status + " " + std::to_string(r.parent) + " " + std::to_string(r.generation) +
                  " " + m);
  }
  return out;
}

}  // namespace

TEST(NasSearch, CountsOnlyScoredSubnetsAndRecordsInvalidOnes) {
  const SearchRun r = run(info_for(kSpace, "random", 10), 1);
  EXPECT_EQ(r.status, "done");
  EXPECT_EQ(r.prog.scored, 10);
  int ok = 0, invalid = 0;
  for (const fw::SearchRecord& rec : r.committed) {
    if (rec.status == "ok") ++ok;
    if (rec.status == "invalid") {
      ++invalid;
      EXPECT_NE(rec.reason.find("80"), std::string::npos) << rec.reason;
      EXPECT_NE(rec.key.find("stages.2.in_dim=80"), std::string::npos);
    }
  }
  EXPECT_EQ(ok, 10);
  EXPECT_EQ(invalid, r.prog.invalid);
  EXPECT_GT(invalid, 0);
  // Committed in proposal order, each subnet once.
  std::set<std::string> keys;
  for (size_t i = 0; i < r.committed.size(); ++i) {
    EXPECT_EQ(r.committed[i].seq, int64_t(i));
    EXPECT_TRUE(keys.insert(r.committed[i].key).second) << r.committed[i].key;
  }
}

TEST(NasSearch, ResultsDoNotDependOnTheThreadCount) {
  for (const char* strategy : {"random", "evolution", "nsga2"}) {
    const fw::SearchInfo info = info_for(kSpace, strategy, 14);
    EXPECT_EQ(summary(run(info, 1).committed), summary(run(info, 4).committed)) << strategy;
  }
}

TEST(NasSearch, AResumedSearchEndsAsAnUninterruptedOne) {
  for (const char* strategy : {"random", "evolution", "nsga2"}) {
    const fw::SearchInfo info = info_for(kSpace, strategy, 14);
    const SearchRun full = run(info, 2);
    for (size_t cut : {size_t(1), size_t(5), full.committed.size() - 1}) {
      const std::vector<fw::SearchRecord> stored(full.committed.begin(),
                                                 full.committed.begin() + long(cut));
      const SearchRun rest = run(info, 2, stored);
      std::vector<fw::SearchRecord> all = stored;
      all.insert(all.end(), rest.committed.begin(), rest.committed.end());
      EXPECT_EQ(summary(all), summary(full.committed)) << strategy << " cut at " << cut;
    }
  }
}

TEST(NasSearch, ChildrenReferToTheirParentsIds) {
  const SearchRun r = run(info_for(kSpace, "evolution", 20, "params:min"), 2);
  std::map<int64_t, const fw::SearchRecord*> by_id;
  for (const fw::SearchRecord& rec : r.committed) by_id[rec.id] = &rec;
  int children = 0;
  for (const fw::SearchRecord& rec : r.committed) {
    if (rec.generation == 0) {
      EXPECT_EQ(rec.parent, 0);
      continue;
    }
    ++children;
    ASSERT_TRUE(by_id.count(rec.parent)) << rec.id;
    EXPECT_LT(by_id.at(rec.parent)->seq, rec.seq);
    EXPECT_EQ(by_id.at(rec.parent)->status, "ok");
  }
  EXPECT_GT(children, 0);
}

TEST(NasSearch, ASmallSpaceIsExhausted) {
  const SearchRun r =
      run(info_for(R"({"choices": [{"node": "stages.1", "attr": "depth", "values": [1, 2]}]})",
                   "nsga2", 50),
          1);
  EXPECT_EQ(r.prog.scored, 2);
  EXPECT_EQ(r.status, "space exhausted after 2 subnets");
}

TEST(NasSearch, AnalyticConstraintsFilterBeforeScoring) {
  fw::SearchInfo info = info_for(kSpace, "random", 6);
  info.space.constraints.params_max = 420000;
  const SearchRun r = run(info, 1);
  int filtered = 0;
  for (const fw::SearchRecord& rec : r.committed) {
    if (rec.status == "filtered") {
      ++filtered;
      EXPECT_GT(rec.metrics.at("params"), 420000);
      EXPECT_NE(rec.reason.find("params_max 420000"), std::string::npos) << rec.reason;
    } else if (rec.status == "ok") {
      EXPECT_LE(rec.metrics.at("params"), 420000);
    }
  }
  EXPECT_GT(filtered, 0);
  EXPECT_EQ(r.prog.scored, 6);
}

TEST(NasSearch, ParetoIdsAreTheNonDominatedOkRecords) {
  std::vector<fw::SearchRecord> recs(4);
  const double v[4][2] = {{1, 5}, {2, 3}, {3, 4}, {4, 1}};  // (params min, naswot max)
  for (int i = 0; i < 4; ++i) {
    recs[size_t(i)].id = i + 1;
    recs[size_t(i)].status = "ok";
    recs[size_t(i)].metrics = {{"params", v[i][0]}, {"naswot", v[i][1]}};
  }
  recs[0].status = "failed";
  // Record 1 failed: never on the front. Maximising naswot, (4, 1) is dominated by (2, 3); (2, 3)
  // and (3, 4) trade params for naswot. Minimising it, (3, 4) is dominated by (2, 3).
  EXPECT_EQ(fw::pareto_ids(recs, fw::parse_objectives("params:min,naswot:max")),
            (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(fw::pareto_ids(recs, fw::parse_objectives("params:min,naswot:min")),
            (std::vector<int64_t>{2, 4}));
}

TEST(NasSearch, SettingsSayWhatIsWrongAndWhatDiffers) {
  fw::SearchSettings s;
  s.objectives = fw::parse_objectives("naswot:max");
  s.budget = 0;
  EXPECT_EQ(s.problem(), "--budget must be at least 1, got 0");
  s.budget = 5;
  EXPECT_EQ(s.problem(), "");
  s.strategy.name = "nsga2";
  EXPECT_EQ(s.problem(), "nsga2 needs two or three objectives, got 1");
  s.strategy.name = "random";
  s.objectives = fw::parse_objectives("accuracy:max");
  EXPECT_EQ(s.problem(), "accuracy needs --train-steps K (K at least 1)");
  s.train_steps = 3;
  fw::SearchSettings t = fw::SearchSettings::from_json(s.to_json());
  EXPECT_TRUE(t.differences(s).empty());
  t.strategy.seed = 9;
  t.budget = 50;  // may grow
  t.threads = 7;  // not part of the search
  EXPECT_EQ(t.differences(s), (std::vector<std::string>{"--seed 9 (stored 0)"}));
  EXPECT_THROW(fw::parse_objectives("naswot"), fw::UsageError);
  EXPECT_THROW(fw::parse_objectives("naswot:max,naswot:min"), fw::UsageError);
}
