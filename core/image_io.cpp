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
#include "core/format.h"

namespace fw {
namespace {

// PIL's resampling (Pillow's libImaging/Resample.c, 8 bits per channel), reproduced exactly:
// double-precision filter weights per output pixel, normalised to sum 1, then turned into
// fixed-point integers with 22 fractional bits; each pass sums pixel * weight in 32-bit integers
// from half a unit, shifts and clips to 0..255. Two passes, horizontal first, each only when
// its axis changes size, with 8-bit results between them.
constexpr int kPrecisionBits = 32 - 8 - 2;

// Contributions of input pixels to one output pixel along one axis.
struct Taps {
  int first = 0;
  std::vector<int32_t> k;  // fixed-point weights of inputs first, first+1, ...
};

// Triangle (bilinear, support 1) and Keys cubic with a = -0.5 (bicubic, support 2).
double filter_weight(double x, bool bicubic) {
  if (x < 0.0) x = -x;
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
  const double ss = 1.0 / filter_scale;
  std::vector<Taps> taps(out);
  std::vector<double> w;
  for (int i = 0; i < out; ++i) {
    const double center = (i + 0.5) * scale;
    const int lo = std::max(int(center - support + 0.5), 0);  // C's truncation, as PIL
    const int hi = std::min(int(center + support + 0.5), in);
    w.clear();
    double sum = 0;
    for (int j = lo; j < hi; ++j) {
      w.push_back(filter_weight((j - center + 0.5) * ss, bicubic));
      sum += w.back();
    }
    Taps& t = taps[i];
    t.first = lo;
    for (double v : w) {
      if (sum != 0.0) v /= sum;
      const double f = v * double(1 << kPrecisionBits);
      t.k.push_back(int32_t(v < 0 ? -0.5 + f : 0.5 + f));
    }
  }
  return taps;
}

uint8_t clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return uint8_t(v >> kPrecisionBits);
}

// One pass along x (horizontal) or y; `in` and the result are HWC.
Image8 resample_pass(const Image8& in, int out_size, bool horizontal, bool bicubic) {
  const int w = horizontal ? out_size : in.width, h = horizontal ? in.height : out_size;
  const std::vector<Taps> taps = filter_taps(horizontal ? in.width : in.height, out_size, bicubic);
  Image8 out(w, h, in.channels);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const Taps& t = taps[horizontal ? x : y];
      for (int c = 0; c < in.channels; ++c) {
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (size_t j = 0; j < t.k.size(); ++j) {
          const int at = t.first + int(j);
          acc += int32_t(horizontal ? in.pixel(at, y)[c] : in.pixel(x, at)[c]) * t.k[j];
        }
        out.pixel(x, y)[c] = clip8(acc);
      }
    }
  return out;
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

}  // namespace

Image8 read_image(const std::string& path, int channels) {
  return decode_image(read_file_bytes(path), channels, path);  // names the file on I/O errors
}

namespace {

// Which of the formats Formwork decodes the bytes start with, or nullptr. stb_image picks its
// decoder from the content and also reads PNM, TGA, PSD, HDR, PIC and GIF, formats nobody needs
// here and where its decoders are weakest (CVE-2021-42716: 16-bit PNM); only these three reach it.
const char* image_format(const uint8_t* p, size_t n) {
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n >= 8 && std::equal(p, p + 8, kPng)) return "PNG";
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return "JPEG";
  if (n >= 2 && p[0] == 'B' && p[1] == 'M') return "BMP";
  return nullptr;
}

// Checks the signature and the header's size before any pixel is decoded: a few hundred bytes can
// claim gigapixels.
void check_image_header(const uint8_t* p, size_t n, const std::string& path, int* w, int* h,
                        int* c) {
  if (!image_format(p, n))
    throw Error(
        path +
        ": cannot decode image (not a PNG, JPEG or BMP file: Formwork decodes those three only)");
  if (n > size_t(std::numeric_limits<int>::max()))
    throw Error(path + ": cannot decode image (file too large)");
  // A PNG's size is in its IHDR chunk (read here: stb refuses more than 2^30 bytes with no more
  // than "too large"); the other formats' headers go through stb_image's info.
  const bool png = image_format(p, n)[1] == 'N';
  if (png && n >= 26 && std::equal(p + 12, p + 16, "IHDR")) {
    auto be32 = [&](size_t i) {
      return int64_t(p[i]) << 24 | int64_t(p[i + 1]) << 16 | int64_t(p[i + 2]) << 8 | p[i + 3];
    };
    const int64_t pw = be32(16), ph = be32(20);
    const int colour = p[25];
    const int pc = colour == 0 ? 1 : colour == 4 ? 2 : colour == 6 ? 4 : 3;
    if (pw * ph > kMaxImagePixels || pw > std::numeric_limits<int>::max() ||
        ph > std::numeric_limits<int>::max()) {
      *w = int(std::min<int64_t>(pw, std::numeric_limits<int>::max()));
      *h = int(std::min<int64_t>(ph, std::numeric_limits<int>::max()));
      *c = pc;
      throw Error(path + ": the image header says " + std::to_string(pw) + "x" +
                  std::to_string(ph) + " pixels, which would need " +
                  format_si(double(pw) * double(ph) * pc, " ") + "B to decode (at most " +
                  std::to_string(kMaxImagePixels >> 20) + " megapixels are decoded)");
    }
  }
  if (!stbi_info_from_memory(p, int(n), w, h, c))
    throw Error(path + ": cannot decode image (" + stbi_failure_reason() + ")");
  const double bytes = double(*w) * double(*h) * *c;
  if (*w <= 0 || *h <= 0 || double(*w) * double(*h) > double(kMaxImagePixels))
    throw Error(path + ": the image header says " + std::to_string(*w) + "x" + std::to_string(*h) +
                " pixels, which would need " + format_si(bytes, " ") + "B to decode (at most " +
                std::to_string(kMaxImagePixels >> 20) + " megapixels are decoded)");
}

}  // namespace

Image8 decode_image(const std::vector<uint8_t>& bytes, int channels, const std::string& path) {
  FW_ASSERT(channels == 0 || channels == 1 || channels == 3 || channels == 4,
            "decode_image: channels must be 0 (as stored), 1, 3 or 4");
  int w = 0, h = 0, n = 0;
  check_image_header(bytes.data(), bytes.size(), path, &w, &h, &n);
  // Decoded as stored (1 to 4 channels), then converted as PIL's Image.convert does.
  unsigned char* px = stbi_load_from_memory(bytes.data(), int(bytes.size()), &w, &h, &n, 0);
  if (!px) throw Error(path + ": cannot decode image (" + stbi_failure_reason() + ")");
  const bool colour = n >= 3;
  if (channels == 0) channels = colour ? 3 : 1;  // alpha is dropped
  Image8 img(w, h, channels);
  const size_t pixels = size_t(w) * h;
  for (size_t i = 0; i < pixels; ++i) {
    const unsigned char* in = px + i * n;
    uint8_t* out = img.data.data() + i * channels;
    if (!colour) {
      for (int c = 0; c < channels; ++c) out[c] = c < 3 ? in[0] : (n == 2 ? in[1] : 255);
    } else if (channels == 1) {
      // PIL's "L": ITU-R 601-2 luma in 16-bit fixed point, rounded.
      out[0] = uint8_t((in[0] * 19595u + in[1] * 38470u + in[2] * 7471u + 0x8000u) >> 16);
    } else {
      for (int c = 0; c < channels; ++c) out[c] = c < 3 ? in[c] : (n == 4 ? in[3] : 255);
    }
  }
  stbi_image_free(px);
  return img;
}

bool image_info(const std::string& path, ImageInfo& info) {
  int w = 0, h = 0, n = 0;
  // The header is near the start: read 256 KiB (past a JPEG's EXIF and ICC segments), the whole
  // file only when that was not enough.
  constexpr size_t kPeek = size_t(256) << 10;
  try {
    std::vector<uint8_t> bytes = read_file_bytes(path, kPeek);
    try {
      check_image_header(bytes.data(), bytes.size(), path, &w, &h, &n);
    } catch (const Error&) {
      if (bytes.size() < kPeek) throw;
      bytes = read_file_bytes(path);
      check_image_header(bytes.data(), bytes.size(), path, &w, &h, &n);
    }
  } catch (const Error&) {
    return false;
  }
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
  if (height == img.height) return resample_pass(img, width, true, bicubic);
  if (width == img.width) return resample_pass(img, height, false, bicubic);
  return resample_pass(resample_pass(img, width, true, bicubic), height, false, bicubic);
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
