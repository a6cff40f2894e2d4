// The project file (*.formwork): one SQLite database holding everything about a project: the
// graph, its weights, metadata, sample images, training runs with their curves, search results
// and saved views.
//
// Contents
//  1. ProjectData        - the whole project in memory
//  2. load / save        - the two entry points and their guarantees
//  3. Schema             - tables, versions, migrations
//  4. Test hooks
//
// 2. Load and save
//  - load_project(path) reads the whole project. It never writes to `path`: an older schema is
//    migrated in an in-memory copy. Every failure is one fw::Error line naming the file:
//      missing or unreadable  "p.formwork: cannot open (No such file or directory)"
//      not SQLite             "p.formwork: not a Formwork project (not an SQLite database)"
//      another SQLite file    "p.formwork: not a Formwork project (SQLite application_id
//                              0x00000000, expected 0x46524d57)"
//      cut short              "p.formwork: file is truncated (40960 of 81920 bytes)"
//      damaged                "p.formwork: file is corrupt (quick_check: ...)"
//      newer schema           "p.formwork: schema version 7 is newer than this Formwork supports
//                              (2); update Formwork"
//      missing table          "p.formwork: table 'weights' is missing"
//      bad row                "p.formwork: weight 'fc.weight': blob has 20 bytes, shape 2x3 F32
//                              needs 24"
//    SQLite failures carry SQLite's message and the call site (core/sqlite_db.h).
//  - save_project(path, data) builds the complete new database in a temp file beside `path`
//    (through SQLite, in one transaction), closes it, fsyncs it and renames it over `path`
//    (core/atomic_file.h). A crash, a kill or a full disk at any point leaves the previous file
//    intact; a temp file left by a crash is removed by the next save of the same path. Errors
//    carry errno's text: "p.formwork: SQLite: database or disk is full (No space left on device)
//    [sqlite3_step at project_store.cpp:265]".
//  - Runs and search results keep their ids when they are non-zero; id 0 takes the next free id.
//    load_project returns them ordered by id, curve points in the order they were saved.
//  - Weights must be consistent (data size == numel(shape)) and at most 1e9 bytes each (SQLite's
//    row limit, 250M floats); the graph JSON is stored as is.
//
// 3. Schema (PRAGMA application_id = kProjectApplicationId, PRAGMA user_version = version)
//  version 1:
//    meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)
//    graph(id INTEGER PRIMARY KEY CHECK (id = 1), format_version INTEGER NOT NULL,
//          json TEXT NOT NULL)                                   -- exactly one row
//    weights(name TEXT PRIMARY KEY, dtype TEXT NOT NULL, shape TEXT NOT NULL, data BLOB NOT NULL)
//          -- one row per tensor: dtype "F32", shape a JSON array ("[64,3,7,7]"), data raw
//          -- little-endian float32, numel(shape) * 4 bytes
//  version 2 adds:
//    training_runs(id INTEGER PRIMARY KEY, created TEXT, settings_json TEXT, dataset TEXT,
//                  status TEXT)
//    training_curves(run_id INTEGER REFERENCES training_runs(id), step INTEGER, epoch REAL,
//                    key TEXT, value REAL)                       -- long format, one value a row
//    search_results(id INTEGER PRIMARY KEY, search TEXT, subnet_json TEXT, metrics_json TEXT,
//                   created TEXT)
//    views(name TEXT PRIMARY KEY, settings_json TEXT)
//    blobs(name TEXT PRIMARY KEY, mime TEXT, data BLOB)          -- sample images etc.
//  version 3 adds:
//    search_results columns seq INTEGER, parent INTEGER, generation INTEGER, status TEXT,
//                   reason TEXT, seconds REAL (defaults 0, 0, 0, 'ok', '', 0)
//    searches(name TEXT PRIMARY KEY, settings_json TEXT, space_json TEXT, base_json TEXT,
//             created TEXT)
//  Migration i (project_store.cpp, kMigrations) brings version i-1 to i; a new version appends
//  one migration and bumps kProjectSchemaVersion. Saving always writes the newest version.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/project_lock.h"
#include "core/safetensors.h"  // TensorMap
#include "core/tensor.h"

namespace fw {

constexpr int kProjectSchemaVersion = 3;
constexpr int32_t kProjectApplicationId = 0x46524d57;  // "FRMW"

// 1. ProjectData ---------------------------------------------------------------------------------

// One logged value of a training run: e.g. {step 500, epoch 1.0, "val_top1", 0.71}.
struct CurvePoint {
  int64_t step = 0;
  double epoch = 0;
  std::string key;  // "train_loss", "val_loss", "val_top1", "lr", ...
  double value = 0;

  bool operator==(const CurvePoint&) const = default;
};

struct TrainingRun {
  int64_t id = 0;             // 0 on save: the next free id
  std::string created;        // ISO 8601 time
  std::string settings_json;  // epochs, batch, lr, optimiser, ...
  std::string dataset;        // "fashion-mnist" or a directory
  std::string status;         // "running", "done", "cancelled", "failed"
  std::vector<CurvePoint> curve;

  bool operator==(const TrainingRun&) const = default;
};

struct SearchResult {
  int64_t id = 0;            // 0 on save: the next free id
  std::string search;        // which search produced it
  std::string subnet_json;   // the subnet's choices: {"stages.1.depth": 2, ...} (nas/space.h)
  std::string metrics_json;  // metric -> number (null: not finite)
  std::string created;       // ISO 8601 time
  // version 3:
  int64_t seq = 0;     // place in its search's proposal order
  int64_t parent = 0;  // id of the result it was bred from; 0: none
  int64_t generation = 0;
  std::string status = "ok";  // ok, failed, invalid, filtered
  std::string reason;         // why, when not ok
  double seconds = 0;         // evaluation wall time

  bool operator==(const SearchResult&) const = default;
};

// A search as started (nas/search.h SearchInfo): its settings, base graph and space.
struct SearchRow {
  std::string name;
  std::string settings_json;
  std::string space_json;
  std::string base_json;
  std::string created;

  bool operator==(const SearchRow&) const = default;
};

struct ProjectData {
  std::string graph_json;
  int graph_format = 1;  // version of the graph JSON format
  TensorMap weights;     // parameter name -> float32 tensor
  std::map<std::string, std::string> meta;
  std::map<std::string, std::pair<std::string, std::vector<uint8_t>>>
      blobs;                                 // name -> (mime, bytes)
  std::vector<TrainingRun> runs;             // with their curves
  std::vector<SearchResult> search_results;  // ordered by id
  std::vector<SearchRow> searches;           // ordered by name
  std::map<std::string, std::string> views;  // view name -> settings JSON
};

// 2. Load and save -------------------------------------------------------------------------------

ProjectData load_project(const std::string& path);
// Takes the project's write lock (core/project_lock.h) for the save, or uses `held`, a lock the
// caller holds for its whole read-modify-write (or its whole training run). Another writer
// holding it: fw::Error naming it, "p.formwork: formwork nas (pid 77, search, since ...) is
// writing this project; try again when it has finished", and the file is left as it was.
void save_project(const std::string& path, const ProjectData& data,
                  const ProjectLock* held = nullptr);

// Incremental writes for a running search, one SQLite transaction each on the project file itself
// (no rewrite: a kill between two leaves every earlier one in the file). Opening takes the
// project's write lock (core/project_lock.h) until destruction, so a second search, a training
// run or a save of the same project fails, naming the search. A file of an older schema
// is first brought to the newest by save_project(load_project(path)) (atomic, as always).
class ProjectAppender {
 public:
  explicit ProjectAppender(const std::string& path);
  ~ProjectAppender();
  ProjectAppender(const ProjectAppender&) = delete;
  ProjectAppender& operator=(const ProjectAppender&) = delete;

  void add_search(const SearchRow& row);      // fw::Error if the name exists
  void update_search(const SearchRow& row);   // by name (a grown budget)
  void append_result(const SearchResult& r);  // r.id must be free (non-zero)
  // Rows appended between begin_group() and end_group() share one transaction (one sync).
  void begin_group();
  void end_group();
  int64_t next_free_id() const;  // one past the highest result id in the file
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<ProjectLock> lock_;  // declared before db_: the database closes first
  bool in_group_ = false;
  struct Db;
  std::unique_ptr<Db> db_;
};

// 4. Test hooks ----------------------------------------------------------------------------------
namespace testing {
// Test-only: called during save_project after each row written, with the count so far (a test
// can _exit() there to simulate a crash mid-save). Pass {} to remove. Not thread-safe.
void set_project_save_row_hook(std::function<void(int64_t rows)> hook);
}  // namespace testing

}  // namespace fw
