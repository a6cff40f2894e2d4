// Helpers for the file-format and project-store tests: a scratch directory, error capture, and
// running a function in a forked child (crash and full-disk tests).
#pragma once
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"

namespace fw::test {

// A fresh directory under the test temp dir, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = ::testing::TempDir() + "fw_store_XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // File names in the directory (hidden ones included), sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(path_))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  std::string path_;
};

// The fw::Error message `fn` throws, or "<no error>".
inline std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const fw::Error& e) {
    return e.what();
  }
  return "<no error>";
}

#define EXPECT_ERROR_HAS(stmt, text)                                                  \
  do {                                                                                \
    const std::string fw_msg_ = ::fw::test::error_of([&] { stmt; });                  \
    EXPECT_NE(fw_msg_.find(text), std::string::npos)                                  \
        << "expected an fw::Error mentioning \"" << (text) << "\", got: " << fw_msg_; \
  } while (0)

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Runs `fn` in a forked child and returns its exit status (fn's return value), or 128 + signal.
// The child never returns into the test runner: it leaves with _exit.
inline int run_in_child(const std::function<int()>& fn) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    int code = 100;
    try {
      code = fn();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child: unexpected exception: %s\n", e.what());
      code = 101;
    }
    std::fflush(nullptr);
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// In a child: makes every file write beyond `bytes` fail with EFBIG, like a full disk.
inline void limit_file_size(rlim_t bytes) {
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit lim{bytes, bytes};
  setrlimit(RLIMIT_FSIZE, &lim);
}

// Child exit codes of the full-disk tests.
constexpr int kThrewWithErrno = 0;  // fw::Error carrying the errno text: the expected outcome
constexpr int kThrewOther = 1;
constexpr int kDidNotThrow = 2;

// Runs `save` in a child whose files cannot grow past `limit` bytes; reports how it failed.
inline int save_with_full_disk(rlim_t limit, const std::function<void()>& save,
                               const std::string& errno_text = "File too large") {
  return run_in_child([&] {
    limit_file_size(limit);
    try {
      save();
    } catch (const fw::Error& e) {
      if (std::string(e.what()).find(errno_text) != std::string::npos) return kThrewWithErrno;
      std::fprintf(stderr, "child: fw::Error without \"%s\": %s\n", errno_text.c_str(), e.what());
      return kThrewOther;
    }
    return kDidNotThrow;
  });
}

}  // namespace fw::test
