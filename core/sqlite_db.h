// Checked SQLite: a thin RAII layer over the sqlite3 C API, used by the project store.
//
//  - Every sqlite3_* call that returns a result code goes through FW_SQLITE(db, call). It yields
//    the code when it is SQLITE_OK, SQLITE_ROW or SQLITE_DONE, and otherwise throws fw::Error with
//    one line naming the file, SQLite's message, errno's text when a system call failed, and the
//    call site:
//      "p.formwork: SQLite: disk I/O error (File too large) [sqlite3_step at
//      project_store.cpp:312]"
//    SQLITE_NOTADB becomes "p.formwork: not a Formwork project (not an SQLite database)" and
//    SQLITE_CORRUPT "p.formwork: file is corrupt (<SQLite's message>)", each with the call site.
//  - The wrappers below check through the same helper and report their caller's line (through
//    std::source_location), so a failing step() names the line in project_store.cpp.
//  - SqliteDb owns a connection; `what` is the file name used in messages (a temp file being built
//    reports the name of the file it will replace). close() closes with a check (use it where
//    the last writes matter); the destructor closes quietly. A connection waits up to
//    kSqliteBusyTimeoutMs for another connection's lock (a search committing a result while
//    another process reads the project) before SQLITE_BUSY ("database is locked").
//  - SqliteStmt owns a prepared statement: bind_*(1-based index), step() -> true while a row is
//    available, column_*(0-based index); NULL columns read as 0 / "" / empty bytes.
#pragma once
#include <sqlite3.h>

#include <cstdint>
#include <source_location>
#include <string>
#include <utility>
#include <vector>

namespace fw {

using CallSite = std::source_location;

inline constexpr int kSqliteBusyTimeoutMs = 5000;

class SqliteDb {
 public:
  SqliteDb(const std::string& filename, int flags, std::string what,
           CallSite site = CallSite::current());
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& what() const { return what_; }

  // Runs one or more statements without results.
  void exec(const std::string& sql, CallSite site = CallSite::current());
  // The value of "PRAGMA name" (user_version, application_id, ...).
  int64_t pragma_int(const std::string& name, CallSite site = CallSite::current());
  void close(CallSite site = CallSite::current());

 private:
  sqlite3* db_ = nullptr;
  std::string what_;
};

class SqliteStmt {
 public:
  SqliteStmt(SqliteDb& db, const std::string& sql, CallSite site = CallSite::current());
  ~SqliteStmt();
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  void bind_null(int i, CallSite site = CallSite::current());
  void bind_int(int i, int64_t v, CallSite site = CallSite::current());
  void bind_double(int i, double v, CallSite site = CallSite::current());
  void bind_text(int i, const std::string& v, CallSite site = CallSite::current());
  void bind_blob(int i, const void* data, size_t size, CallSite site = CallSite::current());
  // true: a row is ready; false: done.
  bool step(CallSite site = CallSite::current());
  // Ready to bind and step again (bindings cleared).
  void reset(CallSite site = CallSite::current());

  bool column_is_null(int i) const;
  int64_t column_int(int i) const;
  double column_double(int i) const;
  std::string column_text(int i) const;
  std::vector<uint8_t> column_blob(int i) const;
  // The blob in place, valid until the next step() or reset(): {data, size}.
  std::pair<const uint8_t*, size_t> column_bytes(int i) const;

 private:
  SqliteDb& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Throws the fw::Error described above for a failed call.
[[noreturn]] void sqlite_fail(int rc, sqlite3* db, const std::string& what, const char* call,
                              const char* file, int line);

// The one check every call goes through (FW_SQLITE expands to it).
inline int sqlite_checked(int rc, const SqliteDb& db, const char* call, const char* file,
                          int line) {
  if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
    sqlite_fail(rc, db.get(), db.what(), call, file, line);
  return rc;
}

}  // namespace fw

#define FW_SQLITE(db, call) ::fw::sqlite_checked((call), (db), #call, __FILE__, __LINE__)
