// Shared by the libFuzzer targets (tests/fuzz/README.md). A parser may refuse its input with
// fw::Error or fw::UsageError (that is its contract); anything else that escapes, a crash, a
// sanitizer report, a hang or running out of memory is a bug the fuzzer reports.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace fw::fuzz {

// Runs `f`, swallowing the errors a parser may throw on bad input.
template <class F>
void expect_error_or_ok(F&& f) {
  try {
    f();
  } catch (const fw::Error&) {
  } catch (const fw::UsageError&) {
  }
}

// A temp file holding the input, for the readers that take a path; removed on destruction. One
// per process (libFuzzer runs inputs one after another), reused across inputs.
class TempFile {
 public:
  explicit TempFile(const char* suffix) {
    const char* dir = std::getenv("TMPDIR");
    path_ = std::string(dir && *dir ? dir : "/tmp") + "/formwork-fuzz-" + std::to_string(getpid()) +
            suffix;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& write(const uint8_t* data, size_t size) {
    FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f) std::abort();
    if (size && std::fwrite(data, 1, size, f) != size) std::abort();
    std::fclose(f);
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace fw::fuzz
