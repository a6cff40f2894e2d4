// libFuzzer target: core/image_io.h decoding: image_info on a temp file (the header), then
// decode_image with each channel count (0, 1, 3, 4), and a small resize of what decoded.
#include <cstdint>
#include <vector>

#include "core/image_io.h"
#include "tests/fuzz/fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fw::fuzz::TempFile file(".img");
  const std::string& path = file.write(data, size);
  fw::ImageInfo info;
  fw::image_info(path, info);
  const std::vector<uint8_t> bytes(data, data + size);
  for (int channels : {0, 1, 3, 4}) {
    fw::fuzz::expect_error_or_ok([&] {
      const fw::Image8 img = fw::decode_image(bytes, channels, "fuzz.img");
      if (img.data.size() != size_t(img.width) * img.height * img.channels) std::abort();
      if (channels == 0) fw::resize_image(img, 7, 5, img.width % 2 == 0);
    });
  }
  return 0;
}
