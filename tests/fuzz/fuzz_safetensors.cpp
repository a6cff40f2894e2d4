// libFuzzer target: core/safetensors.h parse_safetensors on arbitrary bytes (with metadata), then
// re-encodes what it read and parses that again (it must read back).
#include <cstdint>

#include "core/safetensors.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fw::fuzz::expect_error_or_ok([&] {
    fw::SafetensorsMetadata meta;
    const fw::TensorMap tensors = fw::parse_safetensors(data, size, "fuzz.safetensors", &meta);
    // What was read is well-formed: encoding it must succeed unless a name or metadata value is
    // not valid UTF-8 (refused with fw::Error), and the encoding must parse.
    const std::vector<uint8_t> again = fw::encode_safetensors(tensors, meta);
    const fw::TensorMap back = fw::parse_safetensors(again.data(), again.size(), "again");
    if (back.size() != tensors.size()) std::abort();
  });
  return 0;
}
