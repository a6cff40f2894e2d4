// libFuzzer target: core/project_store.h load_project on the bytes written to a temp file: the
// SQLite file is opened, checked and every table read (graph, weights, meta, blobs, runs and
// curves, searches and results, views).
#include <cstdint>

#include "core/project_store.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fw::fuzz::TempFile file(".formwork");
  const std::string& path = file.write(data, size);
  fw::fuzz::expect_error_or_ok([&] { fw::load_project(path); });
  return 0;
}
