#include "nas/session.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/analysis.h"
#include "core/batches.h"
#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/npy.h"
#include "core/project_meta.h"
#include "kernels/parallel.h"

namespace fw {

namespace {

// The batch the data proxies see: `n` items spread over the first 1000 of the project's dataset
// (train split), or a seeded normal batch when the project has no dataset.
void proxy_batch(const ProjectData& p, const Graph& g, const Analysis& an, int64_t n, uint64_t seed,
                 EvalSettings& e, std::string& said) {
  const NodeId in = g.top_level_of_kind("input").at(0);
  const Shape chw = an.of(in)->out.at(0);
  const NodeId outn = g.top_level_of_kind("output").at(0);
  const int64_t classes = an.of(outn)->in.at(0).back();
  Shape bshape = {n};
  bshape.insert(bshape.end(), chw.begin(), chw.end());
  e.proxy_x = Tensor(bshape);
  e.proxy_labels.assign(size_t(n), 0);
  const auto ds_meta = p.meta.find("dataset");
  if (ds_meta != p.meta.end() && !ds_meta->second.empty()) {
    const TrainData d = load_train_data(g, an, ds_meta->second, stored_normalization(p), 0,
                                        std::max<int64_t>(n, 1000), false, "train");
    const int64_t total = d.test.size();
    if (total < n)
      throw Error("--proxy-batch " + std::to_string(n) + ": the dataset has " +
                  std::to_string(total) + " items");
    const int64_t per = numel(chw);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t idx = i * (total / n);
      const Tensor t = sample_tensor(d.test, idx, d.norm, d.channels);
      std::copy(t.data.begin(), t.data.end(), e.proxy_x.data.begin() + i * per);
      e.proxy_labels[size_t(i)] = d.test.labels.at(size_t(idx));
    }
    said = std::to_string(n) + " items of " + ds_meta->second + " (train split)";
    return;
  }
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (float& v : e.proxy_x.data) v = normal(rng);
  for (int64_t i = 0; i < n; ++i) e.proxy_labels[size_t(i)] = i % classes;
  said = std::to_string(n) + " random normal images (the project has no dataset)";
}

// --proxy-input X.npy --proxy-labels L.npy: the user's own batch.
void user_proxy_batch(const SearchSettings& set, const Graph& g, const Analysis& an,
                      EvalSettings& e, std::string& said) {
  const NodeId in = g.top_level_of_kind("input").at(0);
  const Shape chw = an.of(in)->out.at(0);
  const NodeId outn = g.top_level_of_kind("output").at(0);
  const int64_t classes = an.of(outn)->in.at(0).back();
  e.proxy_x = read_npy(set.proxy_input);
  const Shape& s = e.proxy_x.shape;
  if (s.size() != 4 || Shape(s.begin() + 1, s.end()) != chw)
    throw Error(set.proxy_input + ": shape " + shape_str(s) +
                " does not fit the network's input [B," + shape_str(chw).substr(1));
  if (s[0] < 2) throw Error(set.proxy_input + ": the proxies need a batch of at least 2");
  for (size_t i = 0; i < e.proxy_x.data.size(); ++i)
    if (!std::isfinite(e.proxy_x.data[i]))
      throw Error(set.proxy_input + ": element " + std::to_string(i) + " is not a finite number");
  if (set.proxy_labels.empty()) throw UsageError("--proxy-input needs --proxy-labels L.npy");
  const LabelArray l = read_npy_labels(set.proxy_labels);
  if (l.shape.size() != 1 || int64_t(l.data.size()) != s[0])
    throw Error(set.proxy_labels + ": expected " + std::to_string(s[0]) +
                " labels [B], got shape " + shape_str(l.shape));
  for (size_t i = 0; i < l.data.size(); ++i)
    if (l.data[i] < 0 || l.data[i] >= classes)
      throw Error(set.proxy_labels + ": label " + std::to_string(l.data[i]) + " of sample " +
                  std::to_string(i) + " is out of range for " + std::to_string(classes) +
                  " classes");
  e.proxy_labels = l.data;
  said = std::to_string(s[0]) + " items of " + set.proxy_input;
}

// The graph JSON without the nodes' canvas positions: the same base moved around on the canvas,
// or laid out by the GUI where the file has none (a project written by the command line), is the
// same base graph.
std::string without_layout(const std::string& graph_json) {
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(graph_json, nullptr, false);
  if (j.is_discarded()) return graph_json;
  if (j.contains("nodes") && j["nodes"].is_array())
    for (auto& n : j["nodes"])
      if (n.is_object()) n.erase("pos");
  return j.dump();
}

}  // namespace

std::unique_ptr<SearchSession> prepare_search(const ProjectData& p, const std::string& path,
                                              const std::string& graph_json,
                                              const SearchSettings& in) {
  SearchSettings set = in;
  set.strategy.objectives = int(set.objectives.size());
  if (set.strategy.name != "random" && set.strategy.name != "evolution" &&
      set.strategy.name != "nsga2")
    throw UsageError("unknown strategy '" + set.strategy.name +
                     "'; use random, evolution or nsga2");
  if (const std::string why = set.problem(); !why.empty()) throw UsageError(why);
  auto s = std::make_unique<SearchSession>();
  s->path = path;
  const Graph g = graph_from_json(graph_json, path);
  SearchSpace space = graph_space(g);
  if (space.empty())
    throw Error(path + ": no search space; set one with `formwork space " + path +
                " --set FILE.json`");
  space = check_space(g, space);
  const Analysis an = analyze(g);
  require_valid(an);
  const bool accuracy = std::any_of(set.objectives.begin(), set.objectives.end(),
                                    [](const Objective& o) { return o.metric == "accuracy"; });
  const auto ds_meta = p.meta.find("dataset");
  if (accuracy && (ds_meta == p.meta.end() || ds_meta->second.empty()))
    throw Error(path +
                ": accuracy needs the project's dataset, and this project has none (train it once, "
                "or choose other objectives)");
  Graph base = g;
  base.meta.erase(kSearchSpaceMeta);
  SearchInfo& info = s->info;
  info.name = set.name;
  info.settings = set;
  info.base_json = graph_to_json(base, -1);
  info.space = space;
  info.created = now_iso8601();
  const auto existing = std::find_if(p.searches.begin(), p.searches.end(),
                                     [&](const SearchRow& r) { return r.name == set.name; });
  if (existing != p.searches.end()) {
    const SearchInfo was = info_from_row(*existing);
    const std::vector<std::string> diff = set.differences(was.settings);
    if (!diff.empty())
      throw UsageError("search '" + set.name +
                       "' was started with other settings: " + format_list(diff) +
                       "; give the same ones to continue it, or --name NEW for a new search");
    if (!(was.space == space))
      throw Error("search '" + set.name + "' was started on another search space; use --name NEW");
    if (without_layout(was.base_json) != without_layout(info.base_json))
      throw Error("search '" + set.name +
                  "' was started on another base graph (the graph changed since); use --name NEW");
    info.base_json = was.base_json;  // as stored (the nodes' canvas positions may differ)
    info.created = was.created;
    s->exists = true;
    s->budget_changed = was.settings.budget != set.budget;
    s->stored = search_records(p, set.name);
  }
  s->eval.init_seed = set.strategy.seed;
  if (!set.proxy_input.empty())
    user_proxy_batch(set, g, an, s->eval, s->proxy_said);
  else
    proxy_batch(p, g, an, set.proxy_batch, set.strategy.seed, s->eval, s->proxy_said);
  if (accuracy) {
    s->train_data = std::make_unique<TrainData>(
        load_train_data(g, an, ds_meta->second, stored_normalization(p),
                        set.train_steps * set.train_batch, set.eval_limit));
    s->eval.train_data = s->train_data.get();
  }
  return s;
}

SearchProgress run_project_search(SearchSession& s, JobControl& ctl,
                                  const std::function<void(const SearchRecord&)>& on_commit,
                                  const std::function<void(const SearchProgress&)>& on_progress,
                                  std::string* status,
                                  const decltype(SearchHooks::evaluate)& evaluate) {
  ProjectAppender out(s.path);  // the lock: one search writes a project at a time
  if (!s.exists)
    out.add_search(row_from_info(s.info));
  else if (s.budget_changed)
    out.update_search(row_from_info(s.info));
  s.exists = true;
  s.budget_changed = false;
  const SearchSettings& set = s.info.settings;
  if (set.threads > 0 && std::any_of(set.objectives.begin(), set.objectives.end(),
                                     [](const Objective& o) { return o.metric == "latency_ms"; }))
    set_num_threads(set.threads);
  int64_t next_id = out.next_free_id();
  SearchHooks hooks;
  hooks.commit = [&](const SearchRecord& r) {
    SearchRecord c = r;
    c.id = next_id++;
    out.append_result(row_from_record(c));
    if (on_commit) on_commit(c);
    return c.id;
  };
  hooks.group = [&](bool begin) {
    if (begin)
      out.begin_group();
    else
      out.end_group();
  };
  hooks.progress = on_progress;
  hooks.evaluate = evaluate;
  return run_search(s.info, s.eval, s.stored, hooks, ctl, status);
}

}  // namespace fw
