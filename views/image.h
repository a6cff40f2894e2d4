// RGB images for the views: from tensors, colour-mapped heat maps, overlays, PNG files.
//
// - Image: 8-bit RGB, row-major, w*h*3 bytes.
// - image_from_chw(): a [C,H,W] float image (C = 1 or 3; other C: the first channel) scaled by
//   its own min and max to 0..255, for display.
// - turbo(x): Google's Turbo colour map (polynomial fit), x in [0, 1].
// - overlay(): upsamples a heat map [mh, mw] bilinearly to the image size, scales it by its own
//   max to [0, 1] and blends its colours over the image with weight `alpha`.
// - heatmap_image(): a map scaled by its own min/max, colour-mapped, each cell `scale` pixels.
// - write_png(): atomic (core/atomic_file.h); fw::Error naming the file on failure.
//   encode_png(): the PNG bytes (fw::Error naming `path` when it cannot be encoded).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace fw {

struct Image {
  int w = 0, h = 0;
  std::vector<uint8_t> rgb;
  Image() = default;
  Image(int width, int height) : w(width), h(height), rgb(size_t(width) * height * 3, 0) {}
  uint8_t* at(int x, int y) { return &rgb[(size_t(y) * w + x) * 3]; }
};

std::array<uint8_t, 3> turbo(float x);
Image image_from_chw(const float* chw, int64_t c, int64_t h, int64_t w);
Image overlay(const Image& base, const float* map, int64_t mh, int64_t mw, float alpha = 0.5f);
Image heatmap_image(const float* map, int64_t mh, int64_t mw, int scale);
// Side by side with `gap` pixels of dark grey between them (heights may differ).
Image hconcat(const std::vector<Image>& images, int gap = 4);
void write_png(const std::string& path, const Image& img);
std::vector<uint8_t> encode_png(const Image& img, const std::string& path);

}  // namespace fw
