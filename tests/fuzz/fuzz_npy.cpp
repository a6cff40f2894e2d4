// libFuzzer target: core/npy.h parse_npy (float tensors) and parse_npy_labels (int64 labels) on
// arbitrary bytes.
#include <cstdint>

#include "core/npy.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fw::fuzz::expect_error_or_ok([&] {
    const fw::Tensor t = fw::parse_npy(data, size, "fuzz.npy");
    const std::vector<uint8_t> again = fw::encode_npy(t);
    fw::parse_npy(again.data(), again.size(), "again");
  });
  fw::fuzz::expect_error_or_ok([&] { fw::parse_npy_labels(data, size, "fuzz.npy"); });
  return 0;
}
