// One libFuzzer executable per target: fuzz_<name> is this file built with
// FORMWORK_FUZZ_TARGET="<name>" (tests/fuzz/CMakeLists.txt); the inputs go to fuzz_targets.cpp.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fw::fuzz::Target& t = fw::fuzz::target(FORMWORK_FUZZ_TARGET);
  t.run(data, size);
  return 0;
}
