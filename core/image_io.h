// 8-bit images: decoding PNG/JPEG/BMP files, resizing, writing PNG.
//
// Decoders: Debian's libpng for PNG, libjpeg-turbo for JPEG (the library and default settings PIL
// decodes with, so JPEG pixels equal PIL's), stb_image for BMP; PNG writing is stb_image_write.
//
// - Image8: height x width x channels bytes, interleaved (HWC), row-major; channels 1 (gray),
//   3 (RGB) or 4 (RGBA, only when asked for).
// - read_image(path, channels): decodes PNG, JPEG (baseline and progressive; gray, YCbCr, CMYK)
//   and BMP (uncompressed), and nothing else: the decoder is chosen by the file's signature, and
//   the header is checked before any pixel is decoded: more than kMaxImagePixels pixels is refused
//   with the memory it would need, and a PNG or BMP whose file is too small to hold the pixels its
//   header claims is refused too. A truncated JPEG, or one with more than 500 progressive scans,
//   is refused. `channels` 0 keeps the file's own count (gray+alpha comes back as gray, RGBA as
//   RGB: alpha is dropped); 1 converts colour to gray as PIL's convert("L") does (ITU-R 601-2
//   luma, (19595R + 38470G + 7471B + 2^15) >> 16); 3 converts to RGB (gray is replicated, CMYK
//   converted as PIL does); 4 adds an opaque alpha where there is none. Palettes expand (tRNS
//   becomes alpha); 16-bit PNGs keep each sample's high byte.
//   fw::Error naming the file when it cannot be read or decoded: "a/b.png: cannot decode image
//   (IHDR: CRC error)".
// - decode_image(bytes, channels, name): the same from bytes in memory (project blobs); errors name
//   `name`.
// - image_info(path): width, height and channel count from the header, without decoding.
// - resize_bilinear(img, width, height): PIL's BILINEAR resampling (what torchvision's Resize does
//   on PIL images), byte for byte: a triangle filter on pixel centres (align_corners=False) whose
//   support widens with the downscale factor, so shrinking averages over the covered pixels
//   instead of aliasing; PIL's fixed-point weights, a horizontal then a vertical pass (each only
//   when that axis changes) with 8-bit rounding and clipping between them. Same size: a copy.
// - write_png(path, img): 1, 3 or 4 channels; atomic replacement (core/atomic_file.h).
//   encode_png(img): the same bytes in memory (project blobs).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fw {

struct Image8 {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> data;  // height*width*channels, HWC

  Image8() = default;
  Image8(int w, int h, int c) : width(w), height(h), channels(c), data(size_t(w) * h * c, 0) {}
  uint8_t* pixel(int x, int y) { return data.data() + (size_t(y) * width + x) * channels; }
  const uint8_t* pixel(int x, int y) const {
    return data.data() + (size_t(y) * width + x) * channels;
  }
};

constexpr int64_t kMaxImagePixels = int64_t(1) << 28;  // 2^28 pixels (16384 x 16384)

struct ImageInfo {
  int width = 0, height = 0, channels = 0;
};

Image8 read_image(const std::string& path, int channels = 0);
Image8 decode_image(const std::vector<uint8_t>& bytes, int channels, const std::string& name);
// Returns false (and leaves `info` alone) when the header cannot be read or read_image would
// refuse the file (its format or size).
bool image_info(const std::string& path, ImageInfo& info);
Image8 resize_bilinear(const Image8& img, int width, int height);
// PIL's BICUBIC (Keys cubic, a = -0.5; timm's eval resize), byte for byte as above.
Image8 resize_bicubic(const Image8& img, int width, int height);
Image8 resize_image(const Image8& img, int width, int height, bool bicubic);
void write_png(const std::string& path, const Image8& img);
// The PNG bytes of `img` (empty if it cannot be encoded, e.g. an empty image).
std::vector<uint8_t> encode_png(const Image8& img);

}  // namespace fw
