// libFuzzer target: core/idx.h, IDX images and labels, plain and gzip'ed: the file readers
// (read_idx_images/read_idx_labels through read_maybe_gzip on a temp file: gzip detected by its
// magic, inflated no further than the header says) and the in-memory parsers and gunzip.
#include <cstdint>

#include "core/idx.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fw::fuzz::TempFile file(".idx");
  const std::string& path = file.write(data, size);
  fw::fuzz::expect_error_or_ok([&] { fw::read_idx_images(path); });
  fw::fuzz::expect_error_or_ok([&] { fw::read_idx_labels(path); });
  fw::fuzz::expect_error_or_ok([&] { fw::parse_idx_images(data, size, "fuzz.idx"); });
  fw::fuzz::expect_error_or_ok([&] { fw::parse_idx_labels(data, size, "fuzz.idx"); });
  // A bounded inflate, as a header peek does.
  fw::fuzz::expect_error_or_ok([&] { fw::gunzip(data, size, "fuzz.gz", 1 << 20, true); });
  return 0;
}
