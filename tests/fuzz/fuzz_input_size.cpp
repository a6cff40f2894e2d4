// libFuzzer target: the command line's C,H,W values (core/arch.h parse_input_size, behind
// --input-size of every command taking an ARCH); a parsed size is then set on a template's input
// and analysed, as `formwork info ARCH --input-size ...` does.
#include <cstdint>
#include <string>

#include "core/analysis.h"
#include "core/arch.h"
#include "core/templates.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fw::Graph base = fw::build_template("poolformer_s12");
  const std::string text(reinterpret_cast<const char*>(data), size);
  fw::fuzz::expect_error_or_ok([&] {
    const fw::Shape s = fw::parse_input_size(text);
    if (s.size() != 3 || s[0] < 1 || s[1] < 1 || s[2] < 1) std::abort();
    fw::Graph g = base;
    fw::set_input_size(g, s);
    fw::analyze(g);
  });
  return 0;
}
