#include "core/project_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/project_meta.h"
#include "core/sqlite_db.h"
#include "core/sysmem.h"

namespace fw {
namespace {

// ---- Schema ------------------------------------------------------------------------------------

// Migration i brings schema version i-1 to i; a new file runs them all from 0. Never edit a
// shipped migration: append one.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
      CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE graph(id INTEGER PRIMARY KEY CHECK (id = 1), format_version INTEGER NOT NULL,
                         json TEXT NOT NULL);
      CREATE TABLE weights(name TEXT PRIMARY KEY, dtype TEXT NOT NULL,
                           shape TEXT NOT NULL /* JSON array */, data BLOB NOT NULL);
    )sql"},
    {2, R"sql(
      CREATE TABLE training_runs(id INTEGER PRIMARY KEY, created TEXT, settings_json TEXT,
                                 dataset TEXT, status TEXT);
      CREATE TABLE training_curves(run_id INTEGER REFERENCES training_runs(id), step INTEGER,
                                   epoch REAL, key TEXT, value REAL);
      CREATE TABLE search_results(id INTEGER PRIMARY KEY, search TEXT, subnet_json TEXT,
                                  metrics_json TEXT, created TEXT);
      CREATE TABLE views(name TEXT PRIMARY KEY, settings_json TEXT);
      CREATE TABLE blobs(name TEXT PRIMARY KEY, mime TEXT, data BLOB);
    )sql"},
    {3, R"sql(
      ALTER TABLE search_results ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE search_results ADD COLUMN parent INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE search_results ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE search_results ADD COLUMN status TEXT NOT NULL DEFAULT 'ok';
      ALTER TABLE search_results ADD COLUMN reason TEXT NOT NULL DEFAULT '';
      ALTER TABLE search_results ADD COLUMN seconds REAL NOT NULL DEFAULT 0;
      CREATE TABLE searches(name TEXT PRIMARY KEY, settings_json TEXT NOT NULL,
                            space_json TEXT NOT NULL, base_json TEXT NOT NULL,
                            created TEXT NOT NULL);
    )sql"},
};
static_assert(std::size(kMigrations) == kProjectSchemaVersion,
              "one migration per schema version: append to kMigrations and bump the version");

// The tables of the newest schema, checked on load.
constexpr const char* kTables[] = {"meta",          "graph",           "weights",
                                   "training_runs", "training_curves", "search_results",
                                   "views",         "blobs",           "searches"};

// Runs the migrations after version `from`; the caller holds a transaction.
void migrate(SqliteDb& db, int64_t from) {
  for (const Migration& m : kMigrations) {
    if (m.version <= from) continue;
    db.exec(m.sql);
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
  }
}

std::string hex32(int64_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", static_cast<unsigned>(static_cast<uint32_t>(v)));
  return buf;
}

std::function<void(int64_t)>& save_row_hook() {
  static std::function<void(int64_t)> hook;
  return hook;
}

// ---- Load --------------------------------------------------------------------------------------

uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// Before SQLite sees the file: it exists, is an SQLite database, and is not cut short.
void check_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot open (" + errno_text(errno) + ")");
  struct stat st;
  uint8_t h[100];
  ssize_t n = -1;
  const bool stat_ok = fstat(fd, &st) == 0;
  if (stat_ok && !S_ISDIR(st.st_mode)) n = pread(fd, h, sizeof h, 0);
  const int err = errno;
  close(fd);
  if (stat_ok && S_ISDIR(st.st_mode)) throw Error(path + ": is a directory, not a project file");
  if (!stat_ok || n < 0) throw Error(path + ": cannot read (" + errno_text(err) + ")");
  static const char kMagic[16] = "SQLite format 3";  // with its terminating NUL
  if (n < 16 || std::memcmp(h, kMagic, 16) != 0)
    throw Error(path + ": not a Formwork project (not an SQLite database)");
  if (n < 100) throw Error(path + ": file is truncated (" + std::to_string(n) + " bytes)");
  // Database size in pages, valid when the change counter matches version-valid-for.
  const uint32_t page_size = h[16] << 8 | h[17];
  const uint64_t page_bytes = page_size == 1 ? 65536 : page_size;
  const uint64_t pages = be32(h + 28);
  if (pages != 0 && be32(h + 24) == be32(h + 92) && uint64_t(st.st_size) < pages * page_bytes)
    throw Error(path + ": file is truncated (" + std::to_string(st.st_size) + " of " +
                std::to_string(pages * page_bytes) + " bytes)");
}

void quick_check(SqliteDb& db) {
  SqliteStmt st(db, "PRAGMA quick_check");
  if (!st.step()) throw Error(db.what() + ": file is corrupt (quick_check returned nothing)");
  const std::string first = st.column_text(0);
  if (first != "ok") throw Error(db.what() + ": file is corrupt (quick_check: " + first + ")");
}

void require_tables(SqliteDb& db) {
  SqliteStmt st(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1");
  for (const char* table : kTables) {
    st.bind_text(1, table);
    if (!st.step()) throw Error(db.what() + ": table '" + table + "' is missing");
    st.reset();
  }
}

Shape parse_shape(const std::string& text, const std::string& ctx) {
  const auto bad = [&]() {
    return Error(ctx + "shape '" + text + "' is not a JSON array of sizes");
  };
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) throw bad();
  Shape shape;
  for (const nlohmann::json& d : j) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > uint64_t{INT64_MAX}) throw bad();
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

Tensor weight_from_row(const SqliteStmt& st, const std::string& name, const std::string& what) {
  const std::string ctx = what + ": weight '" + name + "': ";
  const std::string dtype = st.column_text(1);
  if (dtype != "F32") throw Error(ctx + "dtype '" + dtype + "' is not supported (F32)");
  const std::string shape_text = st.column_text(2);
  const Shape shape = parse_shape(shape_text, ctx);
  require_shape_fits(what + ": weight '" + name + "'", shape, 4);
  uint64_t need = 4;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(need, static_cast<uint64_t>(d), &need))
      throw Error(ctx + "shape " + shape_text + " is too large");
  const auto [bytes, size] = st.column_bytes(3);
  if (size != need)
    throw Error(ctx + "blob has " + std::to_string(size) + " bytes, shape " + shape_str(shape) +
                " F32 needs " + std::to_string(need));
  Tensor t(shape);
  if (size) std::memcpy(t.ptr(), bytes, size);
  return t;
}

SearchResult result_from_row(const SqliteStmt& st) {
  SearchResult r;
  r.id = st.column_int(0);
  r.search = st.column_text(1);
  r.subnet_json = st.column_text(2);
  r.metrics_json = st.column_text(3);
  r.created = st.column_text(4);
  r.seq = st.column_int(5);
  r.parent = st.column_int(6);
  r.generation = st.column_int(7);
  r.status = st.column_text(8);
  r.reason = st.column_text(9);
  r.seconds = st.column_double(10);
  return r;
}

ProjectData read_project(SqliteDb& db) {
  ProjectData p;
  const std::string& what = db.what();
  {
    SqliteStmt st(db, "SELECT format_version, json FROM graph WHERE id = 1");
    if (!st.step()) throw Error(what + ": table 'graph' has no row");
    p.graph_format = static_cast<int>(st.column_int(0));
    p.graph_json = st.column_text(1);
  }
  {
    SqliteStmt st(db, "SELECT key, value FROM meta");
    while (st.step()) p.meta[st.column_text(0)] = st.column_text(1);
  }
  {
    SqliteStmt st(db, "SELECT name, dtype, shape, data FROM weights");
    while (st.step()) {
      std::string name = st.column_text(0);
      Tensor t = weight_from_row(st, name, what);
      p.weights.emplace(std::move(name), std::move(t));
    }
  }
  {
    SqliteStmt st(db, "SELECT name, mime, data FROM blobs");
    while (st.step()) p.blobs[st.column_text(0)] = {st.column_text(1), st.column_blob(2)};
  }
  {
    SqliteStmt st(db,
                  "SELECT id, created, settings_json, dataset, status FROM training_runs "
                  "ORDER BY id");
    while (st.step())
      p.runs.push_back({st.column_int(0),
                        st.column_text(1),
                        st.column_text(2),
                        st.column_text(3),
                        st.column_text(4),
                        {}});
  }
  {
    std::map<int64_t, TrainingRun*> by_id;
    for (TrainingRun& r : p.runs) by_id[r.id] = &r;
    SqliteStmt st(db, "SELECT run_id, step, epoch, key, value FROM training_curves ORDER BY rowid");
    while (st.step()) {
      const auto run = by_id.find(st.column_int(0));
      if (run == by_id.end())
        throw Error(what + ": a training curve refers to run " + std::to_string(st.column_int(0)) +
                    ", which is not in table 'training_runs'");
      run->second->curve.push_back(
          {st.column_int(1), st.column_double(2), st.column_text(3), st.column_double(4)});
    }
  }
  {
    SqliteStmt st(db,
                  "SELECT id, search, subnet_json, metrics_json, created, seq, parent, generation, "
                  "status, reason, seconds FROM search_results ORDER BY id");
    while (st.step()) p.search_results.push_back(result_from_row(st));
  }
  {
    SqliteStmt st(db,
                  "SELECT name, settings_json, space_json, base_json, created FROM searches "
                  "ORDER BY name");
    while (st.step())
      p.searches.push_back({st.column_text(0), st.column_text(1), st.column_text(2),
                            st.column_text(3), st.column_text(4)});
  }
  {
    SqliteStmt st(db, "SELECT name, settings_json FROM views");
    while (st.step()) p.views[st.column_text(0)] = st.column_text(1);
  }
  return p;
}

// ---- Save --------------------------------------------------------------------------------------

void check_weights(const ProjectData& data, const std::string& path) {
  for (const auto& [name, t] : data.weights) {
    const std::string ctx = path + ": weight '" + name + "': ";
    for (int64_t d : t.shape)
      if (d < 0) throw Error(ctx + "negative dimension in shape " + shape_str(t.shape));
    if (numel(t.shape) != t.size())
      throw Error(ctx + "shape " + shape_str(t.shape) + " needs " + std::to_string(numel(t.shape)) +
                  " values but the tensor has " + std::to_string(t.size()));
  }
}

// One value of a row to insert: bound by type (a row id of 0 is NULL: the next free id).
struct Blob {
  const void* data;
  size_t size;
};
struct RowId {
  int64_t id;
};
void bind(SqliteStmt& st, int i, int64_t v, CallSite site) { st.bind_int(i, v, site); }
void bind(SqliteStmt& st, int i, double v, CallSite site) { st.bind_double(i, v, site); }
void bind(SqliteStmt& st, int i, const std::string& v, CallSite site) { st.bind_text(i, v, site); }
void bind(SqliteStmt& st, int i, Blob v, CallSite site) { st.bind_blob(i, v.data, v.size, site); }
void bind(SqliteStmt& st, int i, RowId v, CallSite site) {
  if (v.id != 0)
    st.bind_int(i, v.id, site);
  else
    st.bind_null(i, site);
}

// Inserts rows through one prepared statement, counting them for the save hook (test_project_store
// stops a save after any row). SQLite failures name the line that called row().
class RowWriter {
 public:
  RowWriter(SqliteDb& db, const std::string& sql, int64_t& rows,
            CallSite site = CallSite::current())
      : st_(db, sql, site), rows_(rows) {}
  template <class... V>
  void row(CallSite site, const V&... values) {
    int i = 0;
    (bind(st_, ++i, values, site), ...);
    st_.step(site);
    st_.reset(site);
    ++rows_;
    if (save_row_hook()) save_row_hook()(rows_);
  }

 private:
  SqliteStmt st_;
  int64_t& rows_;
};

constexpr const char* kInsertResult =
    "INSERT INTO search_results(id, search, subnet_json, metrics_json, created, seq, parent, "
    "generation, status, reason, seconds) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
constexpr const char* kInsertSearch =
    "INSERT INTO searches(name, settings_json, space_json, base_json, created) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

void insert_result(RowWriter& w, const SearchResult& r) {
  w.row(CallSite::current(), RowId{r.id}, r.search, r.subnet_json, r.metrics_json, r.created, r.seq,
        r.parent, r.generation, r.status, r.reason, r.seconds);
}
void insert_search(RowWriter& w, const SearchRow& s) {
  w.row(CallSite::current(), s.name, s.settings_json, s.space_json, s.base_json, s.created);
}

void write_project(SqliteDb& db, const ProjectData& data) {
  using Site = CallSite;
  int64_t rows = 0;
  RowWriter(db, "INSERT INTO graph(id, format_version, json) VALUES (1, ?1, ?2)", rows)
      .row(Site::current(), int64_t(data.graph_format), data.graph_json);
  {
    RowWriter w(db, "INSERT INTO meta(key, value) VALUES (?1, ?2)", rows);
    for (const auto& [key, value] : data.meta) w.row(Site::current(), key, value);
  }
  {
    RowWriter w(db, "INSERT INTO weights(name, dtype, shape, data) VALUES (?1, 'F32', ?2, ?3)",
                rows);
    const auto max_bytes = static_cast<size_t>(sqlite3_limit(db.get(), SQLITE_LIMIT_LENGTH, -1));
    for (const auto& [name, t] : data.weights) {
      const size_t bytes = t.data.size() * sizeof(float);
      if (bytes > max_bytes)
        throw Error(db.what() + ": weight '" + name + "' has " + std::to_string(bytes) +
                    " bytes; a project stores at most " + std::to_string(max_bytes) +
                    " bytes per tensor");
      w.row(Site::current(), name, nlohmann::json(t.shape).dump(), Blob{t.ptr(), bytes});
    }
  }
  {
    RowWriter w(db, "INSERT INTO blobs(name, mime, data) VALUES (?1, ?2, ?3)", rows);
    for (const auto& [name, blob] : data.blobs)
      w.row(Site::current(), name, blob.first, Blob{blob.second.data(), blob.second.size()});
  }
  {
    RowWriter runs(db,
                   "INSERT INTO training_runs(id, created, settings_json, dataset, status) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)",
                   rows);
    RowWriter curves(db,
                     "INSERT INTO training_curves(run_id, step, epoch, key, value) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)",
                     rows);
    for (const TrainingRun& r : data.runs) {
      runs.row(Site::current(), RowId{r.id}, r.created, r.settings_json, r.dataset, r.status);
      const int64_t run_id = sqlite3_last_insert_rowid(db.get());
      for (const CurvePoint& c : r.curve)
        curves.row(Site::current(), run_id, c.step, c.epoch, c.key, c.value);
    }
  }
  {
    RowWriter w(db, kInsertResult, rows);
    for (const SearchResult& r : data.search_results) insert_result(w, r);
  }
  {
    RowWriter w(db, kInsertSearch, rows);
    for (const SearchRow& s : data.searches) insert_search(w, s);
  }
  {
    RowWriter w(db, "INSERT INTO views(name, settings_json) VALUES (?1, ?2)", rows);
    for (const auto& [name, settings] : data.views) w.row(Site::current(), name, settings);
  }
}

// The project's data settings must be readable by every command (core/project_meta.h).
ProjectData checked(ProjectData p, const std::string& path) {
  try {
    check_project_meta(p);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  return p;
}

}  // namespace

ProjectData load_project(const std::string& path) {
  check_file(path);
  SqliteDb src(path, SQLITE_OPEN_READONLY, path);
  const int64_t app_id = src.pragma_int("application_id");
  if (app_id != kProjectApplicationId)
    throw Error(path + ": not a Formwork project (SQLite application_id " + hex32(app_id) +
                ", expected " + hex32(kProjectApplicationId) + ")");
  const int64_t version = src.pragma_int("user_version");
  if (version > kProjectSchemaVersion)
    throw Error(path + ": schema version " + std::to_string(version) +
                " is newer than this Formwork supports (" + std::to_string(kProjectSchemaVersion) +
                "); update Formwork");
  if (version < 1)
    throw Error(path + ": not a Formwork project (schema version " + std::to_string(version) + ")");
  quick_check(src);
  if (version == kProjectSchemaVersion) {
    require_tables(src);
    return checked(read_project(src), path);
  }
  // An older schema: migrate a copy in memory, never the user's file.
  SqliteDb mem(":memory:", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, path);
  sqlite3_backup* backup = sqlite3_backup_init(mem.get(), "main", src.get(), "main");
  if (!backup) {
    FW_SQLITE(mem, sqlite3_errcode(mem.get()));
    throw Error(path + ": cannot copy the project into memory to migrate it");
  }
  sqlite3_backup_step(backup, -1);
  FW_SQLITE(mem, sqlite3_backup_finish(backup));  // reports the step's error, if any
  mem.exec("BEGIN");
  migrate(mem, version);
  mem.exec("COMMIT");
  require_tables(mem);
  return checked(read_project(mem), path);
}

void save_project(const std::string& path, const ProjectData& data, const ProjectLock* held) {
  check_weights(data, path);
  std::optional<ProjectLock> own;
  if (held)
    FW_ASSERT(held->covers(path), "save_project: the lock held is for another file");
  else
    own.emplace(path, "saving");
  write_file_atomic_at(path, [&](const std::string& tmp) {
    SqliteDb db(tmp, SQLITE_OPEN_READWRITE, path);
    // The temp file is private until renamed, and atomic_file fsyncs it: no journal, no syncs.
    db.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = ON");
    db.exec("BEGIN");
    db.exec("PRAGMA application_id = " + std::to_string(kProjectApplicationId));
    migrate(db, 0);
    write_project(db, data);
    db.exec("COMMIT");
    db.close();
  });
}

// ---- Appender -----------------------------------------------------------------------------------

struct ProjectAppender::Db {
  SqliteDb db;
  explicit Db(const std::string& path) : db(path, SQLITE_OPEN_READWRITE, path) {}
};

ProjectAppender::ProjectAppender(const std::string& path) : path_(path) {
  check_file(path);
  lock_ = std::make_unique<ProjectLock>(path, "search");
  int64_t version = 0;
  {
    SqliteDb probe(path, SQLITE_OPEN_READONLY, path);
    version = probe.pragma_int("user_version");
  }
  if (version < kProjectSchemaVersion)
    save_project(path, load_project(path), lock_.get());  // to the newest schema, atomically
  else
    (void)load_project(path);  // every check a load makes (schema, tables, rows)
  db_ = std::make_unique<Db>(path);
  db_->db.exec("PRAGMA synchronous = FULL");
}

ProjectAppender::~ProjectAppender() = default;

void ProjectAppender::add_search(const SearchRow& row) {
  {
    SqliteStmt st(db_->db, "SELECT 1 FROM searches WHERE name = ?1");
    st.bind_text(1, row.name);
    if (st.step()) throw Error(path_ + ": a search named '" + row.name + "' exists already");
  }
  int64_t rows = 0;
  db_->db.exec("BEGIN IMMEDIATE");
  {
    RowWriter w(db_->db, kInsertSearch, rows);
    insert_search(w, row);
  }
  db_->db.exec("COMMIT");
}

void ProjectAppender::update_search(const SearchRow& row) {
  db_->db.exec("BEGIN IMMEDIATE");
  {
    SqliteStmt st(db_->db,
                  "UPDATE searches SET settings_json = ?2, space_json = ?3, base_json = ?4 "
                  "WHERE name = ?1");
    st.bind_text(1, row.name);
    st.bind_text(2, row.settings_json);
    st.bind_text(3, row.space_json);
    st.bind_text(4, row.base_json);
    st.step();
  }
  if (sqlite3_changes(db_->db.get()) != 1) {
    db_->db.exec("ROLLBACK");
    throw Error(path_ + ": no search named '" + row.name + "'");
  }
  db_->db.exec("COMMIT");
}

void ProjectAppender::append_result(const SearchResult& r) {
  if (r.id <= 0) throw Error(path_ + ": a search result needs an id");
  int64_t rows = 0;
  if (!in_group_) db_->db.exec("BEGIN IMMEDIATE");
  try {
    RowWriter w(db_->db, kInsertResult, rows);
    insert_result(w, r);
  } catch (...) {
    db_->db.exec("ROLLBACK");
    in_group_ = false;
    throw;
  }
  if (!in_group_) db_->db.exec("COMMIT");
}

void ProjectAppender::begin_group() {
  if (in_group_) return;
  db_->db.exec("BEGIN IMMEDIATE");
  in_group_ = true;
}

void ProjectAppender::end_group() {
  if (!in_group_) return;
  in_group_ = false;
  db_->db.exec("COMMIT");
}

int64_t ProjectAppender::next_free_id() const {
  SqliteStmt st(db_->db, "SELECT COALESCE(MAX(id), 0) FROM search_results");
  st.step();
  return st.column_int(0) + 1;
}

namespace testing {
void set_project_save_row_hook(std::function<void(int64_t rows)> hook) {
  save_row_hook() = std::move(hook);
}
}  // namespace testing

}  // namespace fw
