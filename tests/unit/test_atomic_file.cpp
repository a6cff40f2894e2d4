#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "store_test_util.h"

namespace {

using fw::test::ScratchDir;
using Bytes = std::vector<uint8_t>;

void write_text(const std::string& path, const std::string& text) {
  fw::write_file_atomic(path, [&](int fd) { fw::write_all(fd, text.data(), text.size(), path); });
}

std::string read_text(const std::string& path) {
  const Bytes b = fw::read_file_bytes(path);
  return std::string(b.begin(), b.end());
}

TEST(AtomicFile, CreatesAndReplaces) {
  ScratchDir dir;
  const std::string path = dir.file("a.txt");
  write_text(path, "one");
  EXPECT_EQ(read_text(path), "one");
  write_text(path, "two, longer");
  EXPECT_EQ(read_text(path), "two, longer");
  EXPECT_EQ(dir.names(), std::vector<std::string>{"a.txt"});
}

TEST(AtomicFile, KeepsPermissionsOfExistingFile) {
  ScratchDir dir;
  const std::string path = dir.file("a.txt");
  write_text(path, "one");
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  write_text(path, "two");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(AtomicFile, FailingBodyLeavesTargetAndNoTemp) {
  ScratchDir dir;
  const std::string path = dir.file("a.txt");
  write_text(path, "old");
  EXPECT_ERROR_HAS(fw::write_file_atomic(path,
                                         [&](int fd) {
                                           fw::write_all(fd, "partial", 7, path);
                                           throw fw::Error("a.txt: encoder failed");
                                         }),
                   "a.txt: encoder failed");
  EXPECT_EQ(read_text(path), "old");
  EXPECT_EQ(dir.names(), std::vector<std::string>{"a.txt"});
}

TEST(AtomicFile, WritesThroughTempPath) {
  ScratchDir dir;
  const std::string path = dir.file("db.bin");
  std::string seen;
  fw::write_file_atomic_at(path, [&](const std::string& tmp) {
    seen = tmp;
    fw::test::write_bytes(tmp, {1, 2, 3});
  });
  EXPECT_EQ(std::filesystem::path(seen).parent_path(), std::filesystem::path(path).parent_path());
  EXPECT_EQ(fw::read_file_bytes(path), (Bytes{1, 2, 3}));
  EXPECT_FALSE(std::filesystem::exists(seen));
}

TEST(AtomicFile, FollowsSymlink) {
  ScratchDir dir;
  write_text(dir.file("real.txt"), "old");
  std::filesystem::create_symlink("real.txt", dir.file("link.txt"));
  write_text(dir.file("link.txt"), "new");
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file("link.txt")));
  EXPECT_EQ(read_text(dir.file("real.txt")), "new");
}

TEST(AtomicFile, RemovesStaleTempsButNotLiveOnes) {
  ScratchDir dir;
  const std::string stale = dir.file(".a.txt.fwtmp-99999-0");
  const std::string live = dir.file(".a.txt.fwtmp-99999-1");
  fw::test::write_bytes(stale, {1});
  fw::test::write_bytes(live, {2});
  const int fd = open(live.c_str(), O_RDONLY);  // a writer still at work holds its lock
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);
  write_text(dir.file("a.txt"), "x");
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_TRUE(std::filesystem::exists(live));
  close(fd);
}

TEST(AtomicFile, ReportsErrnoText) {
  ScratchDir dir;
  EXPECT_ERROR_HAS(fw::read_file_bytes(dir.file("none")),
                   "none: cannot open (No such file or directory)");
  EXPECT_ERROR_HAS(write_text(dir.file("no/such/dir/a.txt"), "x"), "cannot create a temp file in");
  EXPECT_ERROR_HAS(write_text(dir.file("no/such/dir/a.txt"), "x"), "(No such file or directory)");
  const int outcome = fw::test::save_with_full_disk(1024, [&] {
    const std::string big(4096, 'x');
    write_text(dir.file("a.txt"), big);
  });
  EXPECT_EQ(outcome, fw::test::kThrewWithErrno);
  EXPECT_ERROR_HAS(write_text(dir.file(""), "x"), "not a file name");
  std::filesystem::create_directory(dir.file("sub"));
  EXPECT_ERROR_HAS(write_text(dir.file("sub"), "x"), "sub: is a directory");
}

}  // namespace

// #16: a FIFO given as an input blocked forever and /dev/zero grew without bound; inputs are
// regular files only, refused at once with what the path is.
TEST(AtomicFile, ReadsRegularFilesOnly) {
  ScratchDir dir;
  const std::string fifo = dir.file("pipe.json");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  auto refusal = [](const std::string& path) {
    try {
      fw::read_file_bytes(path);
    } catch (const fw::Error& e) {
      return std::string(e.what());
    }
    return std::string("read");
  };
  EXPECT_NE(refusal(fifo).find("pipe.json: cannot read a FIFO"), std::string::npos)
      << refusal(fifo);
  EXPECT_NE(refusal("/dev/zero").find("/dev/zero: cannot read a character device"),
            std::string::npos);
  const std::string file = dir.file("a.txt");
  write_text(file, "abc");
  EXPECT_EQ(read_text(file), "abc");
  EXPECT_EQ(fw::read_file_bytes(file, 2), (Bytes{'a', 'b'}));  // a header peek
}
