#include "core/image_io.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

// PNG: libpng (libpng-dev); JPEG: libjpeg-turbo (libjpeg62-turbo-dev, PIL's decoder); BMP and
// PNG writing: stb (libstb-dev, whose implementation lives in libstb: headers only here).
// jpeglib.h needs <cstdio> before it, and jerror.h (the message codes) after it.
#include <jpeglib.h>
// (kept apart so that include sorting leaves the order)
#include <jerror.h>
#include <png.h>
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

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

// Which of the formats Formwork decodes the bytes start with, or nullptr. Only these three are
// decoded, each by a decoder chosen by this signature (never by the content: stb_image would also
// take PNM, TGA, PSD, HDR, PIC and GIF, formats nobody needs here and where its decoders are
// weakest, e.g. CVE-2021-42716 on 16-bit PNM).
const char* image_format(const uint8_t* p, size_t n) {
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n >= 8 && std::equal(p, p + 8, kPng)) return "PNG";
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return "JPEG";
  if (n >= 2 && p[0] == 'B' && p[1] == 'M') return "BMP";
  return nullptr;
}

[[noreturn]] void refuse_size(const std::string& path, int64_t w, int64_t h, int c) {
  throw Error(path + ": the image header says " + std::to_string(w) + "x" + std::to_string(h) +
              " pixels, which would need " + format_si(double(w) * double(h) * c, " ") +
              "B to decode (at most " + std::to_string(kMaxImagePixels >> 20) +
              " megapixels are decoded)");
}

void check_size(const std::string& path, int64_t w, int64_t h, int c) {
  if (w <= 0 || h <= 0)
    throw Error(path + ": cannot decode image (the header says " + std::to_string(w) + "x" +
                std::to_string(h) + " pixels)");
  if (w > kMaxImagePixels || h > kMaxImagePixels || w * h > kMaxImagePixels)
    refuse_size(path, w, h, c);
}

uint32_t be32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint32_t le32(const uint8_t* p) {
  return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0];
}
uint16_t le16(const uint8_t* p) { return uint16_t(p[1] << 8 | p[0]); }

// ---- PNG: Debian's libpng ----------------------------------------------------------------------
// The header is the IHDR chunk, which must come first. Deflate expands at most 1032:1, so a file
// whose IDAT data is that much smaller than the filtered rows it claims is refused before any
// allocation (a few hundred bytes cannot claim a gigapixel).
void png_header(const uint8_t* p, size_t n, const std::string& path, ImageInfo& info) {
  if (n < 33 || be32(p + 8) != 13 || !std::equal(p + 12, p + 16, "IHDR"))
    throw Error(path + ": cannot decode image (a PNG must start with its IHDR chunk)");
  const int64_t w = be32(p + 16), h = be32(p + 20);
  const int depth = p[24], colour = p[25];
  const int stored = colour == 0 ? 1 : colour == 2 ? 3 : colour == 3 ? 1 : colour == 4 ? 2 : 4;
  // As decoded: palettes expand to RGB, or RGBA with a tRNS chunk (not known yet: say 3).
  const int channels = colour == 3 ? 3 : stored;
  check_size(path, w, h, channels);
  const double row_bytes = 1 + std::ceil(double(w) * stored * std::max(depth, 1) / 8.0);
  if (double(n) * 1032.0 < double(h) * row_bytes)
    throw Error(path + ": cannot decode image (the header says " + std::to_string(w) + "x" +
                std::to_string(h) + " pixels, but the file's " + std::to_string(n) +
                " bytes cannot hold them)");
  info = {int(w), int(h), channels};
}

struct PngSource {
  const uint8_t* p;
  size_t n, at;
  char error[200];
};

void png_fail(png_structp png, png_const_charp msg) {
  auto* src = static_cast<PngSource*>(png_get_error_ptr(png));
  std::snprintf(src->error, sizeof src->error, "%s", msg);
  png_longjmp(png, 1);
}

void png_warn(png_structp, png_const_charp) {}

void png_read_bytes(png_structp png, png_bytep out, size_t len) {
  auto* src = static_cast<PngSource*>(png_get_io_ptr(png));
  if (len > src->n - src->at) png_error(png, "the file ends inside the image");
  std::memcpy(out, src->p + src->at, len);
  src->at += len;
}

// Decodes into `px` (rows of w*channels bytes, 8 bits per channel): palettes and gray below 8 bits
// expand, a tRNS chunk becomes alpha, 16-bit samples keep their high byte (as PIL and stb do).
// Returns "" or the decoder's error. Only plain data lives across setjmp: the vectors are the
// caller's.
std::string png_decode(const uint8_t* p, size_t n, std::vector<uint8_t>& px,
                       std::vector<png_bytep>& rows, int* w, int* h, int* c) {
  PngSource src{p, n, 0, {0}};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_fail, png_warn);
  if (!png) return "cannot start libpng";
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return "cannot start libpng";
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return src.error;
  }
  png_set_read_fn(png, &src, png_read_bytes);
  png_set_user_limits(png, uint32_t(kMaxImagePixels), uint32_t(kMaxImagePixels));
  png_set_chunk_malloc_max(png, size_t(64) << 20);  // ancillary chunks (text, ICC): 64 MiB
  png_read_info(png, info);
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  *w = int(png_get_image_width(png, info));
  *h = int(png_get_image_height(png, info));
  *c = png_get_channels(png, info);
  if (int64_t(*w) * *h > kMaxImagePixels || *c < 1 || *c > 4 ||
      png_get_rowbytes(png, info) != size_t(*w) * size_t(*c))
    png_error(png, "unsupported PNG layout");
  px.resize(size_t(*w) * size_t(*h) * size_t(*c));
  rows.resize(size_t(*h));
  for (int y = 0; y < *h; ++y) rows[size_t(y)] = px.data() + size_t(y) * size_t(*w) * size_t(*c);
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return "";
}

// ---- JPEG: Debian's libjpeg-turbo (the decoder PIL uses, with its default settings) -----------
struct JpegErrors {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings are ignored as PIL ignores them, except a file that ends before the image does
// (libjpeg-turbo would fill the rest with gray; PIL refuses a truncated file).
void jpeg_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_fail(cinfo);
}

// A progressive file may hold any number of scans, each costing a pass over the image: more than
// this many is refused (libjpeg-turbo's own advice against that denial of service).
constexpr int kMaxJpegScans = 500;

void jpeg_progress(j_common_ptr cinfo) {
  const auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  if (d->progressive_mode && d->input_scan_number > kMaxJpegScans) {
    auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
    std::snprintf(e->message, sizeof e->message, "more than %d progressive scans", kMaxJpegScans);
    std::longjmp(e->jump, 1);
  }
}

// Reads the header only (`px` null) or decodes: gray stays 1 channel, YCbCr/RGB come out as RGB,
// CMYK/YCCK (Adobe's inverted CMYK, as PIL reads it) as CMYK for the caller to convert.
std::string jpeg_decode(const uint8_t* p, size_t n, std::vector<uint8_t>* px, int* w, int* h,
                        int* c, bool* cmyk, bool* arithmetic = nullptr) {
  jpeg_decompress_struct cinfo;
  JpegErrors errors;
  jpeg_progress_mgr progress;
  cinfo.err = jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = jpeg_fail;
  errors.mgr.emit_message = jpeg_message;
  errors.message[0] = 0;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return errors.message;
  }
  jpeg_create_decompress(&cinfo);
  progress.progress_monitor = jpeg_progress;
  cinfo.progress = &progress;
  cinfo.mem->max_memory_to_use = long(kMaxImagePixels) * 8;
  jpeg_mem_src(&cinfo, p, static_cast<unsigned long>(n));
  jpeg_read_header(&cinfo, TRUE);
  *w = int(cinfo.image_width);
  *h = int(cinfo.image_height);
  *cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  if (arithmetic) *arithmetic = cinfo.arith_code;
  *c = cinfo.num_components == 1 ? 1 : *cmyk ? 4 : 3;
  if (cinfo.num_components != 1 && cinfo.num_components != 3 && !*cmyk) {
    std::snprintf(errors.message, sizeof errors.message, "%d colour components",
                  cinfo.num_components);
    std::longjmp(errors.jump, 1);
  }
  if (px && int64_t(*w) * *h <= kMaxImagePixels) {
    cinfo.out_color_space = *c == 1 ? JCS_GRAYSCALE : *cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != *c) {
      std::snprintf(errors.message, sizeof errors.message, "unexpected output components");
      std::longjmp(errors.jump, 1);
    }
    px->resize(size_t(*w) * size_t(*h) * size_t(*c));
    const bool invert = *cmyk && cinfo.saw_Adobe_marker;
    while (cinfo.output_scanline < cinfo.output_height) {
      JSAMPROW row = px->data() + size_t(cinfo.output_scanline) * size_t(*w) * size_t(*c);
      jpeg_read_scanlines(&cinfo, &row, 1);
      if (invert)
        for (size_t i = 0; i < size_t(*w) * 4; ++i) row[i] = uint8_t(255 - row[i]);
    }
    jpeg_finish_decompress(&cinfo);
  }
  jpeg_destroy_decompress(&cinfo);
  return "";
}

// ---- BMP: stb_image, after its header and data size are checked here ---------------------------
// An uncompressed (or bitfields) BMP stores every row: the file must hold them all, or stb would
// decode the missing rows as zeros, megapixels from a few bytes. stb refuses RLE-compressed BMPs.
void bmp_header(const uint8_t* p, size_t n, const std::string& path, ImageInfo& info) {
  if (n < 26) throw Error(path + ": cannot decode image (the BMP header is cut short)");
  const uint32_t offset = le32(p + 10), dib = le32(p + 14);
  int64_t w = 0, h = 0;
  int bpp = 0;
  uint32_t compression = 0;
  if (dib == 12) {
    w = le16(p + 18), h = le16(p + 20), bpp = le16(p + 24);
  } else if (dib >= 40 && n >= 34) {
    w = int32_t(le32(p + 18)), h = int32_t(le32(p + 22)), bpp = le16(p + 28);
    compression = le32(p + 30);
    if (h < 0) h = -h;
  } else {
    throw Error(path + ": cannot decode image (unknown BMP header)");
  }
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    throw Error(path + ": cannot decode image (BMP with " + std::to_string(bpp) +
                " bits per pixel)");
  if (compression != 0 && compression != 3 && compression != 6)
    throw Error(path + ": cannot decode image (compressed BMPs are not decoded)");
  const int channels = bpp == 32 ? 4 : 3;
  check_size(path, w, h, channels);
  const double stride = std::ceil(double(w) * bpp / 32.0) * 4;
  if (double(offset) + stride * double(h) > double(n))
    throw Error(path + ": cannot decode image (the header says " + std::to_string(w) + "x" +
                std::to_string(h) + " pixels, but the file's " + std::to_string(n) +
                " bytes cannot hold them)");
  info = {int(w), int(h), channels};
}

// Checks the signature and the header's size before any pixel is decoded: a few hundred bytes can
// claim gigapixels. Returns the header's size and channel count (as decoded).
ImageInfo check_image_header(const uint8_t* p, size_t n, const std::string& path) {
  const char* format = image_format(p, n);
  if (!format)
    throw Error(
        path +
        ": cannot decode image (not a PNG, JPEG or BMP file: Formwork decodes those three only)");
  if (n > size_t(std::numeric_limits<int>::max()))
    throw Error(path + ": cannot decode image (file too large)");
  ImageInfo info;
  if (format[0] == 'P') {
    png_header(p, n, path, info);
  } else if (format[0] == 'B') {
    bmp_header(p, n, path, info);
  } else {
    bool cmyk = false, arithmetic = false;
    const std::string err =
        jpeg_decode(p, n, nullptr, &info.width, &info.height, &info.channels, &cmyk, &arithmetic);
    if (!err.empty()) throw Error(path + ": cannot decode image (" + err + ")");
    if (cmyk) info.channels = 3;
    check_size(path, info.width, info.height, info.channels);
    // Huffman coding spends at least one bit on every 8x8 block's DC value of the full-resolution
    // component, so a whole image needs width*height/512 bytes; fewer decode to mostly nothing, a
    // few hundred bytes to megapixels (arithmetic coding, which can go lower, is exempt).
    if (!arithmetic && double(n) * 512.0 < double(info.width) * double(info.height))
      throw Error(path + ": cannot decode image (the header says " + std::to_string(info.width) +
                  "x" + std::to_string(info.height) + " pixels, but the file's " +
                  std::to_string(n) + " bytes cannot hold them)");
  }
  return info;
}

// PIL's CMYK -> RGB (Convert.c cmyk2rgb): each of C, M, Y scaled by 255 - K.
uint8_t cmyk_channel(int v, int k) {
  const int nk = 255 - k;
  const int t = v * nk + 128;
  return uint8_t(std::clamp(nk - (((t >> 8) + t) >> 8), 0, 255));
}

}  // namespace

Image8 decode_image(const std::vector<uint8_t>& bytes, int channels, const std::string& path) {
  FW_ASSERT(channels == 0 || channels == 1 || channels == 3 || channels == 4,
            "decode_image: channels must be 0 (as stored), 1, 3 or 4");
  const uint8_t* p = bytes.data();
  const size_t size = bytes.size();
  check_image_header(p, size, path);
  const char format = image_format(p, size)[0];
  // Decoded as stored (1 to 4 channels, 8 bits), then converted as PIL's Image.convert does.
  std::vector<uint8_t> px;
  int w = 0, h = 0, n = 0;
  std::string err;
  if (format == 'P') {
    std::vector<png_bytep> rows;
    err = png_decode(p, size, px, rows, &w, &h, &n);
  } else if (format == 'J') {
    bool cmyk = false;
    err = jpeg_decode(p, size, &px, &w, &h, &n, &cmyk);
    if (err.empty() && cmyk) {
      const size_t pixels = size_t(w) * size_t(h);
      for (size_t i = 0; i < pixels; ++i) {
        const uint8_t* in = px.data() + i * 4;
        uint8_t* out = px.data() + i * 3;  // in place: out never overtakes in
        const int k = in[3];
        const uint8_t r = cmyk_channel(in[0], k), g = cmyk_channel(in[1], k),
                      b = cmyk_channel(in[2], k);
        out[0] = r, out[1] = g, out[2] = b;
      }
      px.resize(pixels * 3);
      n = 3;
    }
  } else {
    unsigned char* raw = stbi_load_from_memory(p, int(size), &w, &h, &n, 0);
    if (!raw) throw Error(path + ": cannot decode image (" + stbi_failure_reason() + ")");
    px.assign(raw, raw + size_t(w) * size_t(h) * size_t(n));
    stbi_image_free(raw);
  }
  if (!err.empty()) throw Error(path + ": cannot decode image (" + err + ")");
  const bool colour = n >= 3;
  if (channels == 0) channels = colour ? 3 : 1;  // alpha is dropped
  Image8 img(w, h, channels);
  const size_t pixels = size_t(w) * h;
  for (size_t i = 0; i < pixels; ++i) {
    const unsigned char* in = px.data() + i * n;
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
  return img;
}

bool image_info(const std::string& path, ImageInfo& info) {
  // The header is near the start: read 256 KiB (past a JPEG's EXIF and ICC segments), the whole
  // file only when that was not enough (a PNG's or BMP's size check also needs the file's size).
  constexpr size_t kPeek = size_t(256) << 10;
  try {
    std::vector<uint8_t> bytes = read_file_bytes(path, kPeek);
    try {
      info = check_image_header(bytes.data(), bytes.size(), path);
    } catch (const Error&) {
      if (bytes.size() < kPeek) throw;
      bytes = read_file_bytes(path);
      info = check_image_header(bytes.data(), bytes.size(), path);
    }
  } catch (const Error&) {
    return false;
  }
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
