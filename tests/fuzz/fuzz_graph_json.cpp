// libFuzzer target: the architecture JSON (core/graph_json.h graph_from_json), then analysis
// (core/analysis.h analyze, which must not throw) and, for a valid graph, flatten and the JSON
// round trip. A well-formed file can still describe an absurd graph: huge dims, deep nesting,
// cycles, dangling ports.
#include <cstdint>
#include <string>

#include "core/analysis.h"
#include "core/graph_json.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fw::fuzz::expect_error_or_ok([&] {
    const fw::Graph g = fw::graph_from_json(text, "fuzz.json");
    const fw::Analysis a = fw::analyze(g);
    if (a.ok()) fw::flatten(g, a);
    fw::graph_from_json(fw::graph_to_json(g), "again.json");
  });
  return 0;
}
