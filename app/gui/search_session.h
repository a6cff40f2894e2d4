// The GUI's search: nas/session.h prepare_search + run_project_search (what `formwork nas` runs)
// on a background Job (core/job.h), with what the Search view draws handed to the UI thread
// without ever blocking it.
//
// - start(request) begins a search on request.path (a saved *.formwork project) of the graph
//   request.graph_json (the editor's graph, its search space in its meta). Reading the project,
//   the proxy batch, the base network's metrics (scored once, as every subnet is), the search and
//   every commit to the file happen on the worker. A second search on the same file fails (after
//   the lock's 3 s wait) with the reason naming the holder ("p.formwork: formwork nas (pid N,
//   search, since ...) is writing this project"): the lock is the project's
//   (core/project_lock.h), so a `formwork nas` or `formwork train` from a shell is refused too,
//   and the GUI's search is refused while a shell's job runs.
// - pause(), resume(), cancel(): at the next subnet (JobControl.pause / cancel). A stopped search
//   keeps every committed result; starting it again with the same settings continues it.
// - poll() (once per frame, UI thread) moves what the worker published into live(): phase,
//   progress, the searches row, the records committed since the last poll (take_new() hands them
//   to the view, which mirrors them into its ProjectData), the base's metrics, the error.
// - wait() joins the worker (quitting, tests).
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "app/gui/background_job.h"
#include "core/job.h"
#include "core/project_store.h"
#include "nas/search.h"

namespace fw::gui {

struct SearchRequest {
  std::string path;        // the project the search writes (must exist)
  std::string graph_json;  // the graph searched, its space in meta "search_space"
  SearchSettings settings;
  const Backend* backend = nullptr;  // where subnets are scored (AppState::device); nullptr: CPU
};

struct SearchLive {
  enum class Phase { Idle, Preparing, Searching, Done, Cancelled, Failed };
  Phase phase = Phase::Idle;
  bool paused = false;
  std::string path;    // the project being searched
  std::string name;    // the search's name
  std::string status;  // run_search's: "done", "cancelled", "space exhausted after N subnets"
  std::string error;   // Failed: why
  std::string proxy_said;
  SearchSettings settings;
  std::optional<SearchRow> row;  // the searches row, once registered
  SearchProgress progress;
  int64_t committed = 0;  // records committed by this run
  // The base network's metrics (params, macs and the objectives' metrics), once scored.
  std::optional<std::map<std::string, double>> base_metrics;
  double seconds = 0;    // since start (pauses included)
  int64_t run = 0;       // which start() this is (1, 2, ...)
  int64_t revision = 0;  // bumped whenever anything above changed
};

const char* phase_name(SearchLive::Phase p);

class SearchRun : public BackgroundJob {
 public:
  SearchRun();
  ~SearchRun();
  SearchRun(const SearchRun&) = delete;
  SearchRun& operator=(const SearchRun&) = delete;

  // Starts a search; returns "" or why it cannot start now (one is running).
  std::string start(SearchRequest request);
  // pause(), resume(), cancel(), active(): BackgroundJob's.
  // The project an active search writes to ("" when none).
  std::string busy_path() const;

  void poll();
  const SearchLive& live() const { return live_; }
  // The records committed since the last take_new() (in commit order), as poll() received them.
  std::vector<SearchRecord> take_new();
  void wait();

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  SearchLive live_;
  std::vector<SearchRecord> new_;
};

}  // namespace fw::gui
