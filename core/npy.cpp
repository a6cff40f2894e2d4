#include "core/npy.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string_view>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/float16.h"
#include "core/sysmem.h"

static_assert(std::endian::native == std::endian::little, "npy I/O assumes a little-endian host");

namespace fw {
namespace {

constexpr char kMagic[] = "\x93NUMPY";  // 6 bytes
constexpr size_t kMagicSize = 6;
constexpr size_t kAlign = 64;  // numpy.lib.format.ARRAY_ALIGN

// A parsed 'descr': byte order, kind ('f', 'i', 'u', 'b') and item size.
struct Dtype {
  std::string descr;
  bool big_endian = false;
  char kind = 0;
  size_t size = 0;
};

struct Header {
  Dtype dtype;
  Shape shape;
  size_t data_offset = 0;
};

// A recursive-descent reader of the header's Python dict literal.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& what) : s_(text), what_(what) {}

  void parse(Header& h) {
    bool have_descr = false, have_order = false, have_shape = false, fortran = false;
    expect('{');
    for (;;) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() == '[') fail("structured dtypes are not supported");
        h.dtype.descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple_of_sizes();
        have_shape = true;
      } else {
        fail("unexpected key '" + key + "' in the header");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("malformed header dict at '" + rest() + "'");
    }
    ++pos_;
    skip_ws();
    if (pos_ != s_.size()) fail("unexpected text after the header dict: '" + rest() + "'");
    if (!have_descr || !have_order || !have_shape)
      fail(std::string("header lacks '") +
           (!have_descr   ? "descr"
            : !have_order ? "fortran_order"
                          : "shape") +
           "'");
    if (fortran)
      fail("fortran_order arrays are not supported; save it with np.ascontiguousarray(a)");
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw Error(what_ + ": " + why); }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  std::string rest() const { return std::string(s_.substr(pos_, 20)); }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c)
      fail(std::string("malformed header dict: expected '") + c + "' at '" + rest() + "'");
    ++pos_;
  }
  std::string string_literal() {
    skip_ws();
    const char quote = peek();
    if (quote != '\'' && quote != '"')
      fail("malformed header dict: expected a string at '" + rest() + "'");
    const size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) fail("malformed header dict: unterminated string");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    for (const bool value : {true, false}) {
      const std::string_view word = value ? "True" : "False";
      if (s_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("malformed header dict: fortran_order is not True or False");
  }
  Shape tuple_of_sizes() {
    expect('(');
    Shape shape;
    for (;;) {
      skip_ws();
      if (peek() == ')') break;
      if (peek() == '-') fail("negative dimension in shape");
      if (peek() < '0' || peek() > '9') fail("malformed shape at '" + rest() + "'");
      int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, peek() - '0', &v))
          fail("shape dimension too large");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long
      shape.push_back(v);
      skip_ws();
      if (peek() == ',')
        ++pos_;
      else if (peek() != ')')
        fail("malformed shape at '" + rest() + "'");
    }
    ++pos_;
    return shape;
  }

  std::string_view s_;
  const std::string& what_;
  size_t pos_ = 0;
};

Dtype parse_descr(const std::string& descr, const std::string& what) {
  Dtype d;
  d.descr = descr;
  const auto unsupported = [&]() -> Error {
    return Error(what + ": dtype '" + descr + "' is not supported (float16/32/64, int8..int64, " +
                 "uint8..uint64, bool)");
  };
  if (descr.size() < 3) throw unsupported();
  const char order = descr[0];
  d.kind = descr[1];
  const std::string digits = descr.substr(2);
  if (digits != "1" && digits != "2" && digits != "4" && digits != "8") throw unsupported();
  d.size = static_cast<size_t>(digits[0] - '0');
  if (order == '>')
    d.big_endian = true;
  else if (order != '<' && order != '=' && !(order == '|' && d.size == 1))
    throw unsupported();
  const bool ok = (d.kind == 'f' && d.size >= 2) || d.kind == 'i' || d.kind == 'u' ||
                  (d.kind == 'b' && d.size == 1);
  if (!ok) throw unsupported();
  return d;
}

Header parse_header(const uint8_t* data, size_t size, const std::string& what) {
  if (size < kMagicSize + 2 || std::memcmp(data, kMagic, kMagicSize) != 0)
    throw Error(what + ": not a .npy file (bad magic)");
  const int major = data[6], minor = data[7];
  if (major < 1 || major > 3 || minor != 0)
    throw Error(what + ": unsupported .npy format version " + std::to_string(major) + "." +
                std::to_string(minor) + " (1.0, 2.0 and 3.0 are supported)");
  const size_t len_bytes = major == 1 ? 2 : 4;
  if (size < kMagicSize + 2 + len_bytes) throw Error(what + ": truncated .npy header");
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= size_t{data[8 + i]} << (8 * i);
  const size_t start = kMagicSize + 2 + len_bytes;
  if (header_len > size - start)
    throw Error(what + ": truncated .npy header (" + std::to_string(header_len) +
                " bytes announced, " + std::to_string(size - start) + " present)");
  Header h;
  HeaderParser(std::string_view(reinterpret_cast<const char*>(data) + start, header_len), what)
      .parse(h);
  h.dtype = parse_descr(h.dtype.descr, what);
  h.data_offset = start + header_len;

  // Decoded as float32 (or int64 labels): at least 4 bytes an element.
  require_shape_fits(what, h.shape, int(std::max<size_t>(4, h.dtype.size)));
  uint64_t bytes = h.dtype.size;
  for (int64_t d : h.shape)
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes))
      throw Error(what + ": shape " + shape_str(h.shape) + " is too large");
  const uint64_t have = size - h.data_offset;
  if (have < bytes)
    throw Error(what + ": truncated data (shape " + shape_str(h.shape) + " '" + h.dtype.descr +
                "' needs " + std::to_string(bytes) + " bytes, the file has " +
                std::to_string(have) + ")");
  if (have > bytes)
    throw Error(what + ": " + std::to_string(have - bytes) + " unexpected bytes after the data " +
                "(shape " + shape_str(h.shape) + " '" + h.dtype.descr + "')");
  return h;
}

// Raw element i, byte-swapped to host order, in the low bytes of a uint64.
uint64_t load_bits(const uint8_t* p, const Dtype& d, size_t i) {
  uint64_t v = 0;
  const uint8_t* src = p + i * d.size;
  for (size_t b = 0; b < d.size; ++b)
    v |= uint64_t{src[d.big_endian ? d.size - 1 - b : b]} << (8 * b);
  return v;
}

int64_t as_signed(uint64_t bits, size_t size) {
  const int shift = static_cast<int>(64 - 8 * size);
  return static_cast<int64_t>(bits << shift) >> shift;  // sign-extend
}

std::string index_str(size_t i) { return "element " + std::to_string(i); }

// The part of a header before the padding: "{'descr': '<f4', ... }".
std::string header_dict(const char* descr, const Shape& shape) {
  std::string s = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + "), }";
}

std::vector<uint8_t> header_bytes(const char* descr, const Shape& shape, const std::string& what) {
  for (int64_t d : shape)
    if (d < 0) throw Error(what + ": negative dimension in shape " + shape_str(shape));
  std::string dict = header_dict(descr, shape);
  // Pad with spaces and end with '\n' so magic + version + length + dict is a multiple of 64.
  size_t len_bytes = 2;
  size_t total = kMagicSize + 2 + len_bytes + dict.size() + 1;
  if ((total + kAlign - 1) / kAlign * kAlign - kMagicSize - 2 - len_bytes > 65535) len_bytes = 4;
  total = kMagicSize + 2 + len_bytes + dict.size() + 1;
  dict.append((kAlign - total % kAlign) % kAlign, ' ');
  dict += '\n';
  std::vector<uint8_t> out(kMagic, kMagic + kMagicSize);
  out.push_back(len_bytes == 2 ? 1 : 2);
  out.push_back(0);
  for (size_t i = 0; i < len_bytes; ++i)
    out.push_back(static_cast<uint8_t>(dict.size() >> (8 * i)));
  out.insert(out.end(), dict.begin(), dict.end());
  return out;
}

template <typename T>
std::vector<uint8_t> encode(const char* descr, const Shape& shape, const std::vector<T>& values,
                            const std::string& what) {
  std::vector<uint8_t> out = header_bytes(descr, shape, what);
  if (numel(shape) != static_cast<int64_t>(values.size()))
    throw Error(what + ": shape " + shape_str(shape) + " needs " + std::to_string(numel(shape)) +
                " values but the array has " + std::to_string(values.size()));
  const auto* p = reinterpret_cast<const uint8_t*>(values.data());
  out.insert(out.end(), p, p + values.size() * sizeof(T));
  return out;
}

template <typename T>
void write_atomic(const std::string& path, const char* descr, const Shape& shape,
                  const std::vector<T>& values) {
  const std::vector<uint8_t> header = header_bytes(descr, shape, path);
  if (numel(shape) != static_cast<int64_t>(values.size()))
    throw Error(path + ": shape " + shape_str(shape) + " needs " + std::to_string(numel(shape)) +
                " values but the array has " + std::to_string(values.size()));
  write_file_atomic(path, [&](int fd) {
    write_all(fd, header.data(), header.size(), path);
    write_all(fd, values.data(), values.size() * sizeof(T), path);
  });
}

}  // namespace

Tensor parse_npy(const uint8_t* data, size_t size, const std::string& what) {
  const Header h = parse_header(data, size, what);
  const Dtype& d = h.dtype;
  const uint8_t* src = data + h.data_offset;
  Tensor t(h.shape);
  const size_t n = t.data.size();
  float* dst = t.ptr();
  if (d.kind == 'f' && d.size == 4 && !d.big_endian) {
    if (n) std::memcpy(dst, src, n * 4);
    return t;
  }
  constexpr int64_t kExact = int64_t{1} << 24;  // float32 holds every integer up to 2^24
  for (size_t i = 0; i < n; ++i) {
    const uint64_t bits = load_bits(src, d, i);
    if (d.kind == 'f') {
      dst[i] = d.size == 2   ? f16_to_f32(static_cast<uint16_t>(bits))
               : d.size == 4 ? std::bit_cast<float>(static_cast<uint32_t>(bits))
                             : static_cast<float>(std::bit_cast<double>(bits));
    } else if (d.kind == 'u' || d.kind == 'b') {
      if (bits > static_cast<uint64_t>(kExact))
        throw Error(what + ": " + index_str(i) + " = " + std::to_string(bits) +
                    " is not exactly representable as float32");
      dst[i] = static_cast<float>(bits);
    } else {
      const int64_t v = as_signed(bits, d.size);
      if (v > kExact || v < -kExact)
        throw Error(what + ": " + index_str(i) + " = " + std::to_string(v) +
                    " is not exactly representable as float32");
      dst[i] = static_cast<float>(v);
    }
  }
  return t;
}

LabelArray parse_npy_labels(const uint8_t* data, size_t size, const std::string& what) {
  const Header h = parse_header(data, size, what);
  const Dtype& d = h.dtype;
  if (d.kind != 'i' && d.kind != 'u')
    throw Error(what + ": labels must be integers (int64 '<i8'), got dtype '" + d.descr + "'");
  LabelArray out;
  out.shape = h.shape;
  const size_t n = static_cast<size_t>(numel(h.shape));
  out.data.resize(n);
  const uint8_t* src = data + h.data_offset;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t bits = load_bits(src, d, i);
    if (d.kind == 'u' && bits > static_cast<uint64_t>(INT64_MAX))
      throw Error(what + ": " + index_str(i) + " = " + std::to_string(bits) +
                  " does not fit in int64");
    out.data[i] = d.kind == 'u' ? static_cast<int64_t>(bits) : as_signed(bits, d.size);
  }
  return out;
}

Tensor read_npy(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse_npy(bytes.data(), bytes.size(), path);
}

LabelArray read_npy_labels(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse_npy_labels(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t> encode_npy(const Tensor& tensor) {
  return encode("<f4", tensor.shape, tensor.data, "npy");
}

std::vector<uint8_t> encode_npy_labels(const LabelArray& labels) {
  return encode("<i8", labels.shape, labels.data, "npy");
}

void write_npy(const std::string& path, const Tensor& tensor) {
  write_atomic(path, "<f4", tensor.shape, tensor.data);
}

void write_npy_labels(const std::string& path, const LabelArray& labels) {
  write_atomic(path, "<i8", labels.shape, labels.data);
}

}  // namespace fw
