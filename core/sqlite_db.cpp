#include "core/sqlite_db.h"

#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fw {
namespace {

// FW_SQLITE for the wrappers: the call site is the wrapper's caller.
int check_at(int rc, const SqliteDb& db, const char* call, const CallSite& site) {
  return sqlite_checked(rc, db, call, site.file_name(), static_cast<int>(site.line()));
}

}  // namespace

void sqlite_fail(int rc, sqlite3* db, const std::string& what, const char* call, const char* file,
                 int line) {
  std::string fn = call;  // "sqlite3_step(stmt_)" -> "sqlite3_step"
  fn = fn.substr(0, fn.find('('));
  std::string where = file;
  where = where.substr(where.find_last_of('/') + 1);
  const std::string site = " [" + fn + " at " + where + ":" + std::to_string(line) + "]";
  const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
      throw Error(what + ": not a Formwork project (not an SQLite database)" + site);
    case SQLITE_CORRUPT:
      throw Error(what + ": file is corrupt (" + msg + ")" + site);
    default:
      break;
  }
  const int err = db ? sqlite3_system_errno(db) : 0;
  throw Error(what + ": SQLite: " + msg + (err ? " (" + errno_text(err) + ")" : "") + site);
}

SqliteDb::SqliteDb(const std::string& filename, int flags, std::string what, CallSite site)
    : what_(std::move(what)) {
  const int rc = sqlite3_open_v2(filename.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    try {
      check_at(rc, *this, "sqlite3_open_v2", site);
    } catch (...) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw;
    }
  }
  sqlite3_extended_result_codes(db_, 1);
  // A search appends to a project while other processes read it (`formwork results`, the GUI,
  // another search that is about to be refused by the lock): a reader that meets a commit in
  // progress, or a commit that meets a reader, waits for it instead of failing with "database is
  // locked".
  sqlite3_busy_timeout(db_, kSqliteBusyTimeoutMs);
}

SqliteDb::~SqliteDb() {
  if (db_) sqlite3_close_v2(db_);
}

void SqliteDb::exec(const std::string& sql, CallSite site) {
  check_at(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), *this, "sqlite3_exec", site);
}

int64_t SqliteDb::pragma_int(const std::string& name, CallSite site) {
  SqliteStmt st(*this, "PRAGMA " + name, site);
  if (!st.step(site)) throw Error(what_ + ": PRAGMA " + name + " returned no value");
  return st.column_int(0);
}

void SqliteDb::close(CallSite site) {
  if (!db_) return;
  // sqlite3_close fails (SQLITE_BUSY) only while statements are open: a programming error.
  check_at(sqlite3_close(db_), *this, "sqlite3_close", site);
  db_ = nullptr;
}

SqliteStmt::SqliteStmt(SqliteDb& db, const std::string& sql, CallSite site) : db_(db) {
  const int rc =
      sqlite3_prepare_v2(db_.get(), sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  check_at(rc, db_, "sqlite3_prepare_v2", site);
}

SqliteStmt::~SqliteStmt() { sqlite3_finalize(stmt_); }

void SqliteStmt::bind_null(int i, CallSite site) {
  check_at(sqlite3_bind_null(stmt_, i), db_, "sqlite3_bind_null", site);
}

void SqliteStmt::bind_int(int i, int64_t v, CallSite site) {
  check_at(sqlite3_bind_int64(stmt_, i, v), db_, "sqlite3_bind_int64", site);
}

void SqliteStmt::bind_double(int i, double v, CallSite site) {
  check_at(sqlite3_bind_double(stmt_, i, v), db_, "sqlite3_bind_double", site);
}

void SqliteStmt::bind_text(int i, const std::string& v, CallSite site) {
  const int rc = sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  check_at(rc, db_, "sqlite3_bind_text64", site);
}

void SqliteStmt::bind_blob(int i, const void* data, size_t size, CallSite site) {
  // A zero-length blob must still be a blob, not NULL: SQLite wants a non-null pointer for that.
  static const uint8_t empty = 0;
  const int rc = sqlite3_bind_blob64(stmt_, i, size ? data : &empty, size, SQLITE_TRANSIENT);
  check_at(rc, db_, "sqlite3_bind_blob64", site);
}

bool SqliteStmt::step(CallSite site) {
  return check_at(sqlite3_step(stmt_), db_, "sqlite3_step", site) == SQLITE_ROW;
}

void SqliteStmt::reset(CallSite site) {
  check_at(sqlite3_reset(stmt_), db_, "sqlite3_reset", site);
  check_at(sqlite3_clear_bindings(stmt_), db_, "sqlite3_clear_bindings", site);
}

bool SqliteStmt::column_is_null(int i) const {
  return sqlite3_column_type(stmt_, i) == SQLITE_NULL;
}

int64_t SqliteStmt::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }

double SqliteStmt::column_double(int i) const { return sqlite3_column_double(stmt_, i); }

std::string SqliteStmt::column_text(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
}

std::pair<const uint8_t*, size_t> SqliteStmt::column_bytes(int i) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, i));
  const int n = sqlite3_column_bytes(stmt_, i);
  return {p, p ? static_cast<size_t>(n) : 0};
}

std::vector<uint8_t> SqliteStmt::column_blob(int i) const {
  const auto [p, n] = column_bytes(i);
  return std::vector<uint8_t>(p, p + n);
}

}  // namespace fw
