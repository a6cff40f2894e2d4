#include "views/image.h"

#include <algorithm>
#include <cmath>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/image_io.h"

namespace fw {

std::array<uint8_t, 3> turbo(float x) {
  const double t = std::clamp(double(x), 0.0, 1.0);
  const double r = 0.13572138 + t * (4.61539260 + t * (-42.66032258 + t * (132.13108234 + t * (-152.94239396 + t * 59.28637943))));
  const double g = 0.09140261 + t * (2.19418839 + t * (4.84296658 + t * (-14.18503333 + t * (4.27729857 + t * 2.82956604))));
  const double b = 0.10667330 + t * (12.64194608 + t * (-60.58204836 + t * (110.36276771 + t * (-89.90310912 + t * 27.34824973))));
  auto u8 = [](double v) { return uint8_t(std::lround(std::clamp(v, 0.0, 1.0) * 255.0)); };
  return {u8(r), u8(g), u8(b)};
}

Image image_from_chw(const float* chw, int64_t c, int64_t h, int64_t w) {
  Image img(static_cast<int>(w), static_cast<int>(h));
  const int64_t plane = h * w;
  const int64_t nc = c == 3 ? 3 : 1;
  float lo = chw[0], hi = chw[0];
  for (int64_t i = 0; i < nc * plane; ++i) lo = std::min(lo, chw[i]), hi = std::max(hi, chw[i]);
  const float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int k = 0; k < 3; ++k) {
        const float v = chw[(nc == 3 ? k : 0) * plane + y * w + x];
        img.at(int(x), int(y))[k] = uint8_t(std::lround((v - lo) * scale));
      }
  return img;
}

namespace {
// Bilinear sample of map [mh, mw] at continuous pixel-centre coordinates (align_corners=False).
float sample(const float* map, int64_t mh, int64_t mw, double fy, double fx) {
  fy = std::clamp(fy, 0.0, double(mh - 1));
  fx = std::clamp(fx, 0.0, double(mw - 1));
  const int64_t y0 = int64_t(fy), x0 = int64_t(fx);
  const int64_t y1 = std::min(y0 + 1, mh - 1), x1 = std::min(x0 + 1, mw - 1);
  const double ty = fy - y0, tx = fx - x0;
  const double a = map[y0 * mw + x0] * (1 - tx) + map[y0 * mw + x1] * tx;
  const double b = map[y1 * mw + x0] * (1 - tx) + map[y1 * mw + x1] * tx;
  return float(a * (1 - ty) + b * ty);
}
}  // namespace

Image overlay(const Image& base, const float* map, int64_t mh, int64_t mw, float alpha) {
  Image out = base;
  float hi = 0;
  for (int64_t i = 0; i < mh * mw; ++i) hi = std::max(hi, map[i]);
  for (int y = 0; y < base.h; ++y)
    for (int x = 0; x < base.w; ++x) {
      const double fy = (y + 0.5) * double(mh) / base.h - 0.5;
      const double fx = (x + 0.5) * double(mw) / base.w - 0.5;
      const float v = hi > 0 ? sample(map, mh, mw, fy, fx) / hi : 0.0f;
      const auto c = turbo(v);
      uint8_t* p = out.at(x, y);
      for (int k = 0; k < 3; ++k) p[k] = uint8_t(std::lround((1 - alpha) * p[k] + alpha * c[k]));
    }
  return out;
}

Image heatmap_image(const float* map, int64_t mh, int64_t mw, int scale) {
  Image img(static_cast<int>(mw * scale), static_cast<int>(mh * scale));
  float lo = map[0], hi = map[0];
  for (int64_t i = 0; i < mh * mw; ++i) lo = std::min(lo, map[i]), hi = std::max(hi, map[i]);
  for (int y = 0; y < img.h; ++y)
    for (int x = 0; x < img.w; ++x) {
      const float v = map[(y / scale) * mw + x / scale];
      const auto c = turbo(hi > lo ? (v - lo) / (hi - lo) : 0.0f);
      std::copy(c.begin(), c.end(), img.at(x, y));
    }
  return img;
}

Image hconcat(const std::vector<Image>& images, int gap) {
  int w = 0, h = 0;
  for (const Image& im : images) w += im.w, h = std::max(h, im.h);
  w += gap * std::max(0, int(images.size()) - 1);
  Image out(w, h);
  std::fill(out.rgb.begin(), out.rgb.end(), uint8_t(40));
  int x0 = 0;
  for (const Image& im : images) {
    for (int y = 0; y < im.h; ++y)
      std::copy(im.rgb.begin() + size_t(y) * im.w * 3, im.rgb.begin() + size_t(y + 1) * im.w * 3,
                out.at(x0, y));
    x0 += im.w + gap;
  }
  return out;
}

std::vector<uint8_t> encode_png(const Image& img, const std::string& path) {
  if (img.w <= 0 || img.h <= 0) throw Error(path + ": cannot write an empty image");
  Image8 out(img.w, img.h, 3);
  out.data = img.rgb;
  std::vector<uint8_t> png = fw::encode_png(out);
  if (png.empty()) throw Error(path + ": cannot encode PNG");
  return png;
}

void write_png(const std::string& path, const Image& img) {
  const std::vector<uint8_t> png = encode_png(img, path);
  write_file_atomic(path, [&](int fd) { write_all(fd, png.data(), png.size(), path); });
}

}  // namespace fw
