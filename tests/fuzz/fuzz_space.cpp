// libFuzzer target: the search-space file (nas/space.h SearchSpace::from_json), then checked
// against a small template (check_space), and for a valid space the base pick, the first subnet
// (apply_subnet) and the choices JSON round trip.
#include <cstdint>
#include <string>

#include "core/templates.h"
#include "nas/space.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fw::Graph base = fw::build_template("poolformer_s12");
  const std::string text(reinterpret_cast<const char*>(data), size);
  fw::fuzz::expect_error_or_ok([&] {
    const fw::SearchSpace raw = fw::SearchSpace::from_json(text, "fuzz-space.json");
    fw::SearchSpace::from_json(raw.to_json(), "again");
    const fw::SearchSpace s = fw::check_space(base, raw);
    fw::base_pick(base, s);
    const fw::Pick first(s.choices.size(), 0);
    fw::pick_from_choices_json(s, fw::subnet_choices_json(s, first));
    fw::subnet_key(s, first);
    fw::apply_subnet(base, s, first);
  });
  return 0;
}
