#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/project_store.h"
#include "store_test_util.h"

namespace {

using fw::test::ScratchDir;
using Bytes = std::vector<uint8_t>;

fw::ProjectData sample_project() {
  fw::ProjectData p;
  p.graph_json = R"({"nodes":[{"id":1,"kind":"input"}]})";
  p.graph_format = 3;
  p.weights["stem.conv.weight"] = fw::Tensor({2, 1, 3}, {1, 2, 3, -4, 5.5f, 1e-20f});
  p.weights["head.fc.bias"] = fw::Tensor({2}, {0.25f, -0.0f});
  p.weights["scalar"] = fw::Tensor({}, 9.0f);
  p.weights["empty"] = fw::Tensor({0, 5});
  p.meta = {{"name", "demo"}, {"created", "2024-05-01T10:00:00Z"}, {"empty", ""}};
  p.blobs["sample.png"] = {"image/png", Bytes{0x89, 'P', 'N', 'G', 0, 1, 2}};
  p.blobs["empty.bin"] = {"application/octet-stream", {}};
  fw::TrainingRun run;
  run.id = 3;
  run.created = "2024-05-01T11:00:00Z";
  run.settings_json = R"({"epochs":2,"lr":0.001})";
  run.dataset = "fashion-mnist";
  run.status = "done";
  run.curve = {
      {100, 0.5, "train_loss", 1.25}, {100, 0.5, "lr", 0.001}, {200, 1.0, "val_top1", 0.8}};
  p.runs.push_back(run);
  fw::TrainingRun second;
  second.id = 7;
  second.status = "running";
  p.runs.push_back(second);
  auto result = [](int64_t id, const char* subnet, const char* metrics, const char* created) {
    fw::SearchResult r;
    r.id = id;
    r.search = "random-1";
    r.subnet_json = subnet;
    r.metrics_json = metrics;
    r.created = created;
    r.seq = id - 1;
    return r;
  };
  p.search_results.push_back(result(1, R"({"depths":[2,2]})", R"({"params":1e6})", "t0"));
  p.search_results.push_back(result(2, R"({"depths":[1,2]})", R"({"params":5e5})", "t1"));
  p.search_results.back().status = "failed";
  p.search_results.back().reason = "naswot is not finite";
  p.search_results.back().parent = 1;
  p.search_results.back().generation = 1;
  p.search_results.back().seconds = 0.25;
  p.searches.push_back({"random-1", R"({"budget":2})", R"({"choices":[]})", "{}", "t0"});
  p.views = {{"attention", R"({"layer":"stages.3"})"}, {"editor", "{}"}};
  return p;
}

// A project whose file is several MiB, so saves take many page writes.
fw::ProjectData big_project() {
  fw::ProjectData p = sample_project();
  for (int i = 0; i < 64; ++i)
    p.weights["blocks." + std::to_string(i) + ".weight"] = fw::Tensor({128, 128}, float(i));
  return p;
}

void expect_same(const fw::ProjectData& a, const fw::ProjectData& b) {
  EXPECT_EQ(a.graph_json, b.graph_json);
  EXPECT_EQ(a.graph_format, b.graph_format);
  EXPECT_EQ(a.meta, b.meta);
  EXPECT_EQ(a.blobs, b.blobs);
  EXPECT_EQ(a.runs, b.runs);
  EXPECT_EQ(a.search_results, b.search_results);
  EXPECT_EQ(a.searches, b.searches);
  EXPECT_EQ(a.views, b.views);
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (const auto& [name, t] : a.weights) {
    ASSERT_TRUE(b.weights.count(name)) << name;
    const fw::Tensor& u = b.weights.at(name);
    EXPECT_EQ(t.shape, u.shape) << name;
    ASSERT_EQ(t.data.size(), u.data.size()) << name;
    EXPECT_TRUE(t.data.empty() || std::memcmp(t.ptr(), u.ptr(), t.data.size() * 4) == 0) << name;
  }
}

// Runs SQL on a file directly, bypassing the store (to damage or hand-build files).
void sql(const std::string& path, const std::string& text) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

// ---- Round trips --------------------------------------------------------------------------------

TEST(ProjectStore, RoundTrip) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  const fw::ProjectData in = sample_project();
  fw::save_project(path, in);
  expect_same(in, fw::load_project(path));
  EXPECT_EQ(dir.names(), std::vector<std::string>{"p.formwork"});  // no temp, no journal
}

TEST(ProjectStore, SaveReplacesPreviousContent) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, big_project());
  fw::ProjectData smaller = sample_project();
  smaller.weights.erase("scalar");
  smaller.meta["name"] = "renamed";
  fw::save_project(path, smaller);
  expect_same(smaller, fw::load_project(path));
}

TEST(ProjectStore, ZeroIdsTakeNextFreeId) {
  ScratchDir dir;
  fw::ProjectData in;
  in.graph_json = "{}";
  in.runs.resize(2);
  in.runs[0].id = 5;
  in.runs[1].curve = {{1, 0.1, "loss", 2.0}};
  in.search_results.resize(1);
  fw::save_project(dir.file("p.formwork"), in);
  const fw::ProjectData out = fw::load_project(dir.file("p.formwork"));
  ASSERT_EQ(out.runs.size(), 2u);
  EXPECT_EQ(out.runs[0].id, 5);
  EXPECT_EQ(out.runs[1].id, 6);
  EXPECT_EQ(out.runs[1].curve, in.runs[1].curve);
  EXPECT_EQ(out.search_results.at(0).id, 1);
}

TEST(ProjectStore, FileCarriesApplicationIdAndSchemaVersion) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  auto pragma = [&](const char* q) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, q, -1, &st, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    const int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  };
  EXPECT_EQ(pragma("PRAGMA application_id"), fw::kProjectApplicationId);
  EXPECT_EQ(pragma("PRAGMA user_version"), fw::kProjectSchemaVersion);
  EXPECT_EQ(pragma("SELECT count(*) FROM weights WHERE dtype = 'F32'"), 4);
  sqlite3_close(db);
}

// ---- Migration ----------------------------------------------------------------------------------

TEST(ProjectStore, MigratesVersion1InMemory) {
  ScratchDir dir;
  const std::string path = dir.file("old.formwork");
  // A version-1 project exactly as Formwork with schema 1 wrote it.
  sql(path, R"sql(
    PRAGMA application_id = 1179798871;  -- 0x46524d57
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE graph(id INTEGER PRIMARY KEY CHECK (id = 1), format_version INTEGER NOT NULL,
                       json TEXT NOT NULL);
    CREATE TABLE weights(name TEXT PRIMARY KEY, dtype TEXT NOT NULL,
                         shape TEXT NOT NULL /* JSON array */, data BLOB NOT NULL);
    INSERT INTO meta VALUES ('name', 'v1 project');
    INSERT INTO graph VALUES (1, 1, '{"nodes":[]}');
    INSERT INTO weights VALUES ('fc.weight', 'F32', '[2]', x'0000803f000000c0');  -- 1, -2
    PRAGMA user_version = 1;
  )sql");
  const Bytes before = fw::read_file_bytes(path);
  const fw::ProjectData p = fw::load_project(path);
  EXPECT_EQ(p.graph_json, R"({"nodes":[]})");
  EXPECT_EQ(p.meta.at("name"), "v1 project");
  EXPECT_EQ(p.weights.at("fc.weight").data, (std::vector<float>{1, -2}));
  EXPECT_TRUE(p.runs.empty());  // the version-2 tables exist, empty
  EXPECT_TRUE(p.blobs.empty());
  EXPECT_EQ(fw::read_file_bytes(path), before);  // loading never writes the user's file
  EXPECT_EQ(dir.names(), std::vector<std::string>{"old.formwork"});
  // Saving writes the newest schema.
  fw::save_project(path, p);
  EXPECT_EQ(fw::load_project(path).weights.at("fc.weight").data, (std::vector<float>{1, -2}));
}

TEST(ProjectStore, RefusesNewerSchema) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  fw::save_project(path, sample_project());
  sql(path, "PRAGMA user_version = 7");
  EXPECT_ERROR_HAS(fw::load_project(path),
                   "x.formwork: schema version 7 is newer than this Formwork supports (3); "
                   "update Formwork");
}

// ---- Files that are not (valid) projects --------------------------------------------------------

TEST(ProjectStore, RefusesMissingFile) {
  ScratchDir dir;
  EXPECT_ERROR_HAS(fw::load_project(dir.file("x.formwork")),
                   "x.formwork: cannot open (No such file or directory)");
}

TEST(ProjectStore, RefusesNonSqliteFile) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  const std::string text =
      "{\"this is\": \"a JSON file, not a project\"}\n" + std::string(200, ' ');
  fw::test::write_bytes(path, Bytes(text.begin(), text.end()));
  EXPECT_ERROR_HAS(fw::load_project(path),
                   "x.formwork: not a Formwork project (not an SQLite database)");
  fw::test::write_bytes(path, {});
  EXPECT_ERROR_HAS(fw::load_project(path),
                   "x.formwork: not a Formwork project (not an SQLite database)");
}

TEST(ProjectStore, RefusesOtherSqliteDatabase) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  sql(path, "CREATE TABLE t(a); INSERT INTO t VALUES (1);");
  EXPECT_ERROR_HAS(fw::load_project(path),
                   "x.formwork: not a Formwork project (SQLite application_id 0x00000000, "
                   "expected 0x46524d57)");
}

TEST(ProjectStore, RefusesTruncatedFile) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  fw::save_project(path, big_project());
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  EXPECT_ERROR_HAS(fw::load_project(path), "x.formwork: file is truncated (" +
                                               std::to_string(size / 2) + " of " +
                                               std::to_string(size) + " bytes)");
}

TEST(ProjectStore, RefusesCorruptFile) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  fw::save_project(path, big_project());
  Bytes b = fw::read_file_bytes(path);
  for (size_t i = 4096; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 131 + 7);  // pages 2..
  fw::test::write_bytes(path, b);
  EXPECT_ERROR_HAS(fw::load_project(path), "x.formwork: file is corrupt");
}

TEST(ProjectStore, RefusesMissingTable) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  fw::save_project(path, sample_project());
  sql(path, "DROP TABLE weights");
  EXPECT_ERROR_HAS(fw::load_project(path), "x.formwork: table 'weights' is missing");
}

TEST(ProjectStore, RefusesBadWeightRows) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  fw::save_project(path, sample_project());
  sql(path, "UPDATE weights SET data = x'0000' WHERE name = 'head.fc.bias'");
  EXPECT_ERROR_HAS(fw::load_project(path),
                   "x.formwork: weight 'head.fc.bias': blob has 2 bytes, shape 2 F32 needs 8");
  fw::save_project(path, sample_project());
  sql(path, "UPDATE weights SET shape = '[2, -1]' WHERE name = 'head.fc.bias'");
  EXPECT_ERROR_HAS(fw::load_project(path),
                   "weight 'head.fc.bias': shape '[2, -1]' is not a JSON array of sizes");
  fw::save_project(path, sample_project());
  sql(path, "UPDATE weights SET dtype = 'F16' WHERE name = 'head.fc.bias'");
  EXPECT_ERROR_HAS(fw::load_project(path), "weight 'head.fc.bias': dtype 'F16' is not supported");
}

// A stored shape claiming a huge tensor is refused with what it would need, before its blob is
// read into a tensor.
TEST(ProjectStore, RefusesHugeStoredShapeWithTheSizeItWouldNeed) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  fw::save_project(path, sample_project());
  sql(path, "UPDATE weights SET shape = '[1099511627776, 1024]' WHERE name = 'head.fc.bias'");
  EXPECT_ERROR_HAS(fw::load_project(path),
                   "x.formwork: weight 'head.fc.bias' has shape [1099511627776, 1024] (1.13 P "
                   "elements), which would need 4.50 PB (");
}

TEST(ProjectStore, RefusesCurveOfUnknownRun) {
  ScratchDir dir;
  const std::string path = dir.file("x.formwork");
  fw::save_project(path, sample_project());
  sql(path, "INSERT INTO training_curves VALUES (99, 1, 0.1, 'loss', 1.0)");
  EXPECT_ERROR_HAS(fw::load_project(path), "a training curve refers to run 99");
}

TEST(ProjectStore, SaveRefusesInconsistentWeight) {
  ScratchDir dir;
  fw::ProjectData p = sample_project();
  p.weights["head.fc.bias"].data.push_back(1);
  EXPECT_ERROR_HAS(
      fw::save_project(dir.file("x.formwork"), p),
      "x.formwork: weight 'head.fc.bias': shape 2 needs 2 values but the tensor has 3");
  EXPECT_TRUE(dir.names().empty());
}

// ---- Atomic save --------------------------------------------------------------------------------

TEST(ProjectStore, CrashMidSaveKeepsOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  const fw::ProjectData old = sample_project();
  fw::save_project(path, old);
  const Bytes before = fw::read_file_bytes(path);
  const int code = fw::test::run_in_child([&] {
    fw::testing::set_project_save_row_hook([](int64_t rows) {
      if (rows == 40) _exit(42);  // killed in the middle of writing the weights
    });
    fw::save_project(path, big_project());
    return 0;
  });
  ASSERT_EQ(code, 42);
  EXPECT_EQ(fw::read_file_bytes(path), before);
  expect_same(old, fw::load_project(path));
  // The dead writer's temp file and its lock file (no longer locked) may remain beside the
  // project; nothing else does.
  const std::vector<std::string> names = dir.names();
  ASSERT_LE(names.size(), 3u);
  for (const std::string& n : names)
    EXPECT_TRUE(n == "p.formwork" || n == ".p.formwork.fwlock" ||
                n.rfind(".p.formwork.fwtmp-", 0) == 0)
        << n;
  EXPECT_EQ(fw::project_lock_holder(path), "");
  // The next save removes both.
  fw::save_project(path, big_project());
  EXPECT_EQ(dir.names(), std::vector<std::string>{"p.formwork"});
  expect_same(big_project(), fw::load_project(path));
}

TEST(ProjectStore, FullDiskKeepsOldFile) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  const fw::ProjectData old = sample_project();
  fw::save_project(path, old);
  const Bytes before = fw::read_file_bytes(path);
  const int outcome =
      fw::test::save_with_full_disk(256 * 1024, [&] { fw::save_project(path, big_project()); });
  EXPECT_EQ(outcome, fw::test::kThrewWithErrno);  // fw::Error with "File too large"
  EXPECT_EQ(fw::read_file_bytes(path), before);
  expect_same(old, fw::load_project(path));
  EXPECT_EQ(dir.names(), std::vector<std::string>{"p.formwork"});  // temp file removed
}

}  // namespace

// ---- Appender (running searches)
// -----------------------------------------------------------------

namespace {
fw::SearchResult appended(int64_t id, const std::string& search) {
  fw::SearchResult r;
  r.id = id;
  r.search = search;
  r.subnet_json = R"({"stages.1.depth":2})";
  r.metrics_json = R"({"params":1000})";
  r.created = "t";
  r.seq = id;
  return r;
}
}  // namespace

TEST(ProjectStore, AppenderAddsRowsWithoutRewritingTheProject) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  {
    fw::ProjectAppender app(path);
    EXPECT_EQ(app.next_free_id(), 3);
    app.add_search({"s", R"({"budget":3})", "{}", "{}", "t"});
    EXPECT_ERROR_HAS(app.add_search({"s", "{}", "{}", "{}", "t"}),
                     "a search named 's' exists already");
    app.append_result(appended(3, "s"));
    EXPECT_EQ(app.next_free_id(), 4);
    EXPECT_ERROR_HAS(app.append_result(appended(3, "s")), "UNIQUE");
    app.update_search({"s", R"({"budget":5})", "{}", "{}", "t"});
  }
  const fw::ProjectData p = fw::load_project(path);
  ASSERT_EQ(p.search_results.size(), 3u);
  EXPECT_EQ(p.search_results.back(), appended(3, "s"));
  ASSERT_EQ(p.searches.size(), 2u);
  EXPECT_EQ(p.searches[1].name, "s");
  EXPECT_EQ(p.searches[1].settings_json, R"({"budget":5})");
  EXPECT_EQ(p.weights.size(), sample_project().weights.size());  // the rest untouched
  EXPECT_EQ(p.graph_json, sample_project().graph_json);
}

TEST(ProjectStore, SecondAppenderOnTheSameProjectIsRefused) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  fw::ProjectAppender first(path);
  // The lock's message names the holder: "p.formwork: formwork_unit_tests (pid N, search, since
  // 2026-12-07T09:10:11Z) is writing this project; try again when it has finished".
  const std::string msg = fw::test::error_of([&] { fw::ProjectAppender second(path); });
  EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
  EXPECT_NE(msg.find("(pid " + std::to_string(getpid()) + ", search, since 20"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find(") is writing this project; try again when it has finished"),
            std::string::npos)
      << msg;
  // Another process too (flock is per open file, so a child holds its own).
  const int code = fw::test::run_in_child([&] {
    try {
      fw::ProjectAppender other(path);
    } catch (const fw::Error& e) {
      return std::string(e.what()).find("search, since") != std::string::npos ? 7 : 1;
    }
    return 0;
  });
  EXPECT_EQ(code, 7);
}

TEST(ProjectStore, AppendedRowsSurviveAKill) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  const int code = fw::test::run_in_child([&] {
    fw::ProjectAppender app(path);
    app.append_result(appended(10, "k"));
    app.append_result(appended(11, "k"));
    _exit(9);  // no destructor, no close
    return 0;
  });
  ASSERT_EQ(code, 9);
  const fw::ProjectData p = fw::load_project(path);
  ASSERT_EQ(p.search_results.size(), 4u);
  EXPECT_EQ(p.search_results[3], appended(11, "k"));
  fw::ProjectAppender again(path);  // the dead process's lock went with it
}

TEST(ProjectStore, AppenderBringsAnOlderSchemaUpToDate) {
  ScratchDir dir;
  const std::string path = dir.file("old.formwork");
  sql(path, R"sql(
    PRAGMA application_id = 1179798871;
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE graph(id INTEGER PRIMARY KEY CHECK (id = 1), format_version INTEGER NOT NULL,
                       json TEXT NOT NULL);
    CREATE TABLE weights(name TEXT PRIMARY KEY, dtype TEXT NOT NULL, shape TEXT NOT NULL,
                         data BLOB NOT NULL);
    CREATE TABLE training_runs(id INTEGER PRIMARY KEY, created TEXT, settings_json TEXT,
                               dataset TEXT, status TEXT);
    CREATE TABLE training_curves(run_id INTEGER REFERENCES training_runs(id), step INTEGER,
                                 epoch REAL, key TEXT, value REAL);
    CREATE TABLE search_results(id INTEGER PRIMARY KEY, search TEXT, subnet_json TEXT,
                                metrics_json TEXT, created TEXT);
    CREATE TABLE views(name TEXT PRIMARY KEY, settings_json TEXT);
    CREATE TABLE blobs(name TEXT PRIMARY KEY, mime TEXT, data BLOB);
    INSERT INTO graph VALUES (1, 1, '{"nodes":[]}');
    INSERT INTO search_results VALUES (4, 'old', '{}', '{"params":1}', 't');
    PRAGMA user_version = 2;
  )sql");
  const fw::ProjectData before = fw::load_project(path);  // migrated in memory
  ASSERT_EQ(before.search_results.size(), 1u);
  EXPECT_EQ(before.search_results[0].status, "ok");
  {
    fw::ProjectAppender app(path);
    EXPECT_EQ(app.next_free_id(), 5);
    app.append_result(appended(5, "new"));
  }
  const fw::ProjectData after = fw::load_project(path);
  ASSERT_EQ(after.search_results.size(), 2u);
  EXPECT_EQ(after.search_results[0], before.search_results[0]);
}

TEST(ProjectStore, SavingIsRefusedWhileASearchWrites) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  const Bytes before = fw::read_file_bytes(path);
  {
    fw::ProjectAppender app(path);
    const std::string msg = fw::test::error_of([&] { fw::save_project(path, big_project()); });
    EXPECT_EQ(msg.rfind(path + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find(", search, since 20"), std::string::npos) << msg;
    EXPECT_NE(msg.find("is writing this project; try again when it has finished"),
              std::string::npos)
        << msg;
    EXPECT_EQ(fw::read_file_bytes(path), before);
  }
  fw::save_project(path, big_project());  // the search ended
}

TEST(ProjectStore, AppenderGroupsShareOneTransaction) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  const int code = fw::test::run_in_child([&] {
    fw::ProjectAppender app(path);
    app.begin_group();
    app.append_result(appended(20, "g"));
    app.append_result(appended(21, "g"));
    app.end_group();
    app.begin_group();
    app.append_result(appended(22, "g"));
    _exit(5);  // killed inside the second group
    return 0;
  });
  ASSERT_EQ(code, 5);
  const fw::ProjectData p = fw::load_project(path);
  ASSERT_EQ(p.search_results.size(), 4u);  // the sample's two and the first group's two
  EXPECT_EQ(p.search_results[2], appended(20, "g"));
  EXPECT_EQ(p.search_results[3], appended(21, "g"));
}

// ---- The write lock (core/project_lock.h) ----------------------------------------------------

TEST(ProjectLock, NamesItsHolderAndLeavesNothingBehind) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  EXPECT_EQ(fw::project_lock_holder(path), "");
  {
    const fw::ProjectLock lock(path, "testing");
    const std::string h = fw::project_lock_holder(path);
    EXPECT_NE(h.find(" (pid " + std::to_string(getpid()) + ", testing, since 20"),
              std::string::npos)
        << h;
    // A second lock in the same process excludes as another process's would; wait 0: at once.
    const std::string msg = fw::test::error_of([&] { fw::ProjectLock again(path, "again", 0); });
    EXPECT_EQ(msg, path + ": " + h + " is writing this project; try again when it has finished");
    // The holder itself saves under it.
    fw::save_project(path, big_project(), &lock);
    EXPECT_EQ(dir.names(), (std::vector<std::string>{".p.formwork.fwlock", "p.formwork"}));
  }
  EXPECT_EQ(dir.names(), std::vector<std::string>{"p.formwork"});
  EXPECT_EQ(fw::project_lock_holder(path), "");
}

TEST(ProjectLock, AStaleLockFileDoesNotBlock) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  // What a killed holder leaves: the file with its name, no lock on it.
  fw::test::write_bytes(dir.file(".p.formwork.fwlock"), {'x', '\n'});
  EXPECT_EQ(fw::project_lock_holder(path), "");
  fw::save_project(path, big_project());
  EXPECT_EQ(dir.names(), std::vector<std::string>{"p.formwork"});
}

TEST(ProjectLock, ASymlinkedProjectIsLockedAtItsTarget) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  std::filesystem::create_directories(dir.file("links"));
  const std::string link = dir.file("links/l.formwork");
  std::filesystem::create_symlink(path, link);
  const fw::ProjectLock lock(link, "testing");
  EXPECT_TRUE(lock.covers(path));
  EXPECT_NE(fw::project_lock_holder(path), "");
  EXPECT_ERROR_HAS(fw::ProjectLock(path, "other", 0), "is writing this project");
}

TEST(ProjectLock, AnotherProcessWaitsForTheHolder) {
  ScratchDir dir;
  const std::string path = dir.file("p.formwork");
  fw::save_project(path, sample_project());
  auto lock = std::make_unique<fw::ProjectLock>(path, "testing");
  // A child that waits up to 5 s: the parent releases after 0.3 s, so the child's save lands.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      const fw::ProjectLock mine(path, "child", 5000);
      fw::save_project(path, big_project(), &mine);
    } catch (...) {
      _exit(1);
    }
    _exit(0);
  }
  usleep(300 * 1000);
  EXPECT_EQ(fw::load_project(path).weights.size(), sample_project().weights.size());
  lock.reset();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  expect_same(big_project(), fw::load_project(path));
}
