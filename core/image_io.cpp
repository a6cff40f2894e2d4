#include "core/image_io.h"

// Debian's libstb-dev ships the implementation in libstb: headers only here.
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fw {
namespace {

// Contributions of input pixels to one output pixel along one axis.
struct Taps {
  int first = 0;
  std::vector<float> w;  // weights of inputs first, first+1, ...; sum 1
};

// PIL's resampling coefficients for the bilinear (triangle) filter of support 1.
// PIL's resampling filters: triangle (bilinear, support 1) and Keys cubic with a = -0.5
// (bicubic, support 2), widened by the downscale factor.
double filter_weight(double x, bool bicubic) {
  if (!bicubic) return x < 1.0 ? 1.0 - x : 0.0;
  const double a = -0.5;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

std::vector<Taps> filter_taps(int in, int out, bool bicubic) {
  const double scale = double(in) / out;
  const double filter_scale = std::max(scale, 1.0);
  const double support = (bicubic ? 2.0 : 1.0) * filter_scale;
  std::vector<Taps> taps(out);
  for (int i = 0; i < out; ++i) {
    const double center = (i + 0.5) * scale;
    const int lo = std::max(int(std::floor(center - support + 0.5)), 0);
    const int hi = std::min(int(std::floor(center + support + 0.5)), in);
    Taps& t = taps[i];
    t.first = lo;
    double sum = 0;
    for (int j = lo; j < hi; ++j) {
      const double x = std::abs((j - center + 0.5) / filter_scale);
      const double w = filter_weight(x, bicubic);
      t.w.push_back(float(w));
      sum += w;
    }
    if (sum > 0)
      for (float& w : t.w) w = float(w / sum);
  }
  return taps;
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

}  // namespace

Image8 read_image(const std::string& path, int channels) {
  FW_ASSERT(channels == 0 || channels == 1 || channels == 3 || channels == 4,
            "read_image: channels must be 0 (as stored), 1, 3 or 4");
  const std::vector<uint8_t> bytes = read_file_bytes(path);  // names the file on I/O errors
  if (bytes.size() > size_t(std::numeric_limits<int>::max()))
    throw Error(path + ": cannot decode image (file too large)");
  int w = 0, h = 0, n = 0;
  if (channels == 0) {
    if (!stbi_info_from_memory(bytes.data(), int(bytes.size()), &w, &h, &n))
      throw Error(path + ": cannot decode image (" + stbi_failure_reason() + ")");
    channels = n >= 3 ? 3 : 1;  // alpha is dropped
  }
  unsigned char* px = stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &n, channels);
  if (!px) throw Error(path + ": cannot decode image (" + stbi_failure_reason() + ")");
  Image8 img(w, h, channels);
  std::copy(px, px + img.data.size(), img.data.begin());
  stbi_image_free(px);
  return img;
}

bool image_info(const std::string& path, ImageInfo& info) {
  int w = 0, h = 0, n = 0;
  if (!stbi_info(path.c_str(), &w, &h, &n)) return false;
  info = {w, h, n};
  return true;
}

Image8 resize_bilinear(const Image8& img, int width, int height) {
  return resize_image(img, width, height, false);
}

Image8 resize_bicubic(const Image8& img, int width, int height) {
  return resize_image(img, width, height, true);
}

Image8 resize_image(const Image8& img, int width, int height, bool bicubic) {
  FW_ASSERT(width > 0 && height > 0, "resize: the target size must be positive");
  FW_ASSERT(img.width > 0 && img.height > 0, "resize: the image is empty");
  if (width == img.width && height == img.height) return img;
  const int c = img.channels;
  const std::vector<Taps> tx = filter_taps(img.width, width, bicubic);
  const std::vector<Taps> ty = filter_taps(img.height, height, bicubic);
  // Horizontal pass into floats (height x width x c), then vertical pass with rounding.
  std::vector<float> mid(size_t(img.height) * width * c);
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < width; ++x)
      for (int k = 0; k < c; ++k) {
        float s = 0;
        const Taps& t = tx[x];
        for (size_t j = 0; j < t.w.size(); ++j) s += t.w[j] * img.pixel(t.first + int(j), y)[k];
        mid[(size_t(y) * width + x) * c + k] = s;
      }
  Image8 out(width, height, c);
  for (int y = 0; y < height; ++y) {
    const Taps& t = ty[y];
    for (int x = 0; x < width; ++x)
      for (int k = 0; k < c; ++k) {
        float s = 0;
        for (size_t j = 0; j < t.w.size(); ++j)
          s += t.w[j] * mid[(size_t(t.first + int(j)) * width + x) * c + k];
        out.pixel(x, y)[k] = uint8_t(std::clamp(std::lround(s), 0L, 255L));
      }
  }
  return out;
}

std::vector<uint8_t> encode_png(const Image8& img) {
  FW_ASSERT(img.channels >= 1 && img.channels <= 4, "encode_png: channels must be 1..4");
  FW_ASSERT(img.data.size() == size_t(img.width) * img.height * img.channels,
            "encode_png: data size does not match width*height*channels");
  std::vector<uint8_t> png;
  if (img.width <= 0 || img.height <= 0 ||
      !stbi_write_png_to_func(append_bytes, &png, img.width, img.height, img.channels,
                              img.data.data(), img.width * img.channels))
    png.clear();
  return png;
}

void write_png(const std::string& path, const Image8& img) {
  const std::vector<uint8_t> png = encode_png(img);
  if (png.empty()) throw Error(path + ": cannot encode PNG");
  write_file_atomic(path, [&](int fd) { write_all(fd, png.data(), png.size(), path); });
}

}  // namespace fw
