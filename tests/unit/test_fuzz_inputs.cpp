// Replays every fuzz target's seed corpus (tests/fuzz/corpus/<name>/) and every input a fuzzer
// found (tests/fuzz/regressions/<name>/: crashes, hangs and sanitizer reports, each fixed) through
// the same code the libFuzzer executables run (tests/fuzz/fuzz_targets.cpp), in every build: a
// regression crashes or aborts this test, and under scripts/sanitize.sh ASan/UBSan report it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_targets.h"

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint8_t> bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

const fs::path kFuzzDir = fs::path(FORMWORK_SOURCE_DIR) / "tests" / "fuzz";

TEST(FuzzInputs, EveryTargetHasASeedCorpus) {
  for (const fw::fuzz::Target& t : fw::fuzz::targets())
    EXPECT_FALSE(files_in(kFuzzDir / "corpus" / t.name).empty()) << t.name;
}

TEST(FuzzInputs, SeedsAndRegressionsRunCleanAndQuickly) {
  int regressions = 0;
  for (const fw::fuzz::Target& t : fw::fuzz::targets())
    for (const char* kind : {"corpus", "regressions"})
      for (const fs::path& f : files_in(kFuzzDir / kind / t.name)) {
        SCOPED_TRACE(f.string());
        const std::vector<uint8_t> data = bytes_of(f);
        const auto start = std::chrono::steady_clock::now();
        t.run(data.data(), data.size());
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // Each found input once took far longer (a hang) or crashed; none may take seconds now
        // (generous: sanitizer builds run several times slower).
        EXPECT_LT(s, 20.0) << t.name << " took " << s << " s";
        regressions += kind[0] == 'r';
      }
  RecordProperty("regression_inputs", regressions);
}

}  // namespace
