// What each libFuzzer target feeds its parser (tests/fuzz/README.md), shared by the fuzz_<name>
// executables (FORMWORK_FUZZ=ON) and the unit test FuzzInputs.*, which replays every seed in
// corpus/<name>/ and every input a fuzzer found in regressions/<name>/ in every build. A parser
// may refuse its input with fw::Error or fw::UsageError; anything else (a crash, a sanitizer
// report, an abort below, a hang, running out of memory) is a bug.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fw::fuzz {

struct Target {
  const char* name;  // corpus/<name>, regressions/<name>, fuzz_<name>
  void (*run)(const uint8_t* data, size_t size);
};

// All targets, in a fixed order.
const std::vector<Target>& targets();
// The target called `name`; aborts when there is none.
const Target& target(const char* name);

}  // namespace fw::fuzz
