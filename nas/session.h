// A search on a project, as the command line and the GUI both run it: everything between the
// project file and run_search (nas/search.h).
//
// - prepare_search checks the settings against the project (its space, its dataset when accuracy
//   is asked, a search of the same name started with other settings, another space or another
//   base graph, the nodes' canvas positions aside: each one clear fw::Error / fw::UsageError) and
//   assembles what the metrics need: the proxy batch (the user's --proxy-input, else `proxy_batch`
//   items spread over the first 1000 of the project's dataset, train split, normalised as training
//   does, else a seeded normal batch when the project has no dataset) and, for accuracy, the
//   training data (the first train_steps * train_batch train items, eval_limit test items).
// - run_project_search takes the project's lock (core/project_store.h ProjectAppender: a second
//   search fails at once), registers the search (or its grown budget), runs it and commits every
//   result to the file as it comes, with the next free id. on_commit sees each committed record
//   (the GUI mirrors it into its in-memory project; the CLI prints a line).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/project_store.h"
#include "kernels/train/trainer.h"
#include "nas/search.h"

namespace fw {

struct SearchSession {
  std::string path;                  // the project file
  SearchInfo info;                   // settings, base graph (no space in its meta), space
  EvalSettings eval;                 // proxy batch, training data pointer
  std::vector<SearchRecord> stored;  // this search's committed results (continuing)
  bool exists = false;               // the project holds this search already
  bool budget_changed = false;
  std::string proxy_said;  // "16 items of fashion-mnist-placed (train split)"
  std::unique_ptr<TrainData> train_data;
};

// `set.name`, strategy, objectives, ... as the user gave them. `graph_json`: the graph to search
// (the project's own, or the editor's current one); its meta holds the space.
std::unique_ptr<SearchSession> prepare_search(const ProjectData& p, const std::string& path,
                                              const std::string& graph_json,
                                              const SearchSettings& set);

// `evaluate`: where subnets are scored (SearchHooks::evaluate: MPI workers), empty: here.
SearchProgress run_project_search(SearchSession& s, JobControl& ctl,
                                  const std::function<void(const SearchRecord&)>& on_commit,
                                  const std::function<void(const SearchProgress&)>& on_progress,
                                  std::string* status,
                                  const decltype(SearchHooks::evaluate)& evaluate = {});

}  // namespace fw
