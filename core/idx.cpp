#include "core/idx.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <limits>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/format.h"
#include "core/sysmem.h"

namespace fw {
namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

// Checks the magic and reads the dimension sizes; returns the header length in bytes.
size_t parse_header(const uint8_t* data, size_t size, uint32_t want_magic, const char* kind,
                    const std::string& what, std::vector<int64_t>& dims) {
  if (size < 4)
    throw Error(what + ": truncated: an IDX file starts with a 4-byte magic, the file has " +
                std::to_string(size) + " bytes");
  const uint32_t magic = be32(data);
  if (magic != want_magic)
    throw Error(what + ": wrong magic " + hex32(magic) + " (expected " + hex32(want_magic) + ": " +
                kind + ")");
  const size_t ndims = want_magic & 0xff;
  const size_t header = 4 + 4 * ndims;
  if (size < header)
    throw Error(what + ": truncated: the IDX header needs " + std::to_string(header) +
                " bytes, the file has " + std::to_string(size) + " bytes");
  dims.resize(ndims);
  for (size_t i = 0; i < ndims; ++i) dims[i] = be32(data + 4 + 4 * i);
  return header;
}

// Checks that exactly `need` data bytes follow the header.
void check_data_size(size_t header, size_t size, uint64_t need, const std::string& desc,
                     const std::string& what) {
  const uint64_t total = header + need;
  if (size < total)
    throw Error(what + ": truncated: " + desc + " need " + std::to_string(total) +
                " bytes, the file has " + std::to_string(size) + " bytes");
  if (size > total)
    throw Error(what + ": " + std::to_string(size - total) + " unexpected bytes after the data (" +
                desc + ")");
}

// Bytes per element of an IDX type code (0x08 ubyte ... 0x0E double); 1 for unknown codes (the
// readers refuse those by their magic).
size_t idx_element_size(uint8_t type) {
  switch (type) {
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default:
      return 1;
  }
}

}  // namespace

std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, const std::string& what,
                            size_t max_out, bool stop_at_max) {
  std::vector<uint8_t> out;
  // The gzip trailer holds the uncompressed size mod 2^32: a good first guess for one member
  // (bounded by deflate's best ratio so that a forged trailer cannot make a huge allocation).
  if (size >= 18) {
    const size_t isize = size_t(data[size - 4]) | size_t(data[size - 3]) << 8 |
                         size_t(data[size - 2]) << 16 | size_t(data[size - 1]) << 24;
    out.resize(std::min({isize, size * 1032, max_out}) + 1);
  }
  size_t produced = 0;
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
    throw Error(what + ": cannot start zlib (" + (zs.msg ? zs.msg : "out of memory") + ")");
  size_t fed = 0;  // input bytes handed to zlib so far
  for (;;) {       // one gzip member per iteration (`cat a.gz b.gz` makes several)
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      if (zs.avail_in == 0) {
        if (fed == size) {
          inflateEnd(&zs);
          throw Error(what + ": truncated gzip stream (it ends before the compressed data does)");
        }
        // avail_in is 32-bit: feed the input in slices.
        const size_t slice = std::min<size_t>(size - fed, std::numeric_limits<uInt>::max());
        zs.next_in = const_cast<Bytef*>(data + fed);
        zs.avail_in = static_cast<uInt>(slice);
        fed += slice;
      }
      if (produced > max_out) {
        inflateEnd(&zs);
        if (stop_at_max) {
          out.resize(max_out);
          return out;
        }
        throw Error(what + ": the gzip data inflates to more than the " + std::to_string(max_out) +
                    " bytes its IDX header describes");
      }
      if (out.size() - produced < (1 << 16))
        out.resize(std::min(std::max(out.size() * 2, size_t(1) << 20), max_out + (1 << 16) + 1));
      const size_t room = std::min<size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
      zs.next_out = out.data() + produced;
      zs.avail_out = static_cast<uInt>(room);
      rc = inflate(&zs, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        const std::string msg = zs.msg ? zs.msg : "zlib error " + std::to_string(rc);
        inflateEnd(&zs);
        throw Error(what + ": corrupt gzip stream (" + msg + ")");
      }
      produced += room - zs.avail_out;
    }
    // The member ended: stop at the end of the input or at trailing zero padding.
    size_t next = fed - zs.avail_in;
    while (next < size && data[next] == 0) ++next;
    if (next == size) break;
    next = fed - zs.avail_in;
    zs.next_in = const_cast<Bytef*>(data + next);
    zs.avail_in = 0;
    fed = next;
    inflateReset(&zs);
  }
  inflateEnd(&zs);
  out.resize(produced);
  return out;
}

std::vector<uint8_t> read_maybe_gzip(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  if (bytes.size() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) return bytes;
  // The header first (magic, then up to 255 sizes), then no more than header + data.
  const std::vector<uint8_t> head = gunzip(bytes.data(), bytes.size(), path, 4 + 4 * 255, true);
  size_t limit = SIZE_MAX;
  if (head.size() >= 4) {
    const size_t ndims = head[3];
    const size_t header = 4 + 4 * ndims;
    if (head.size() >= header) {
      long double need = 1;
      for (size_t i = 0; i < ndims; ++i) need *= be32(head.data() + 4 + 4 * i);
      need *= idx_element_size(head[2]);
      const long double total = header + need;
      if (exceeds_memory(total))
        throw Error(path + ": the IDX header describes " + format_bytes(total) +
                    " of data, more than this machine's memory (" + memory_limit_text() + ")");
      limit = static_cast<size_t>(total);
    }
  }
  return gunzip(bytes.data(), bytes.size(), path, limit);
}

IdxImages parse_idx_images(const uint8_t* data, size_t size, const std::string& what) {
  std::vector<int64_t> d;
  const size_t header = parse_header(data, size, kIdxImagesMagic, "idx3-ubyte images", what, d);
  IdxImages im;
  im.count = d[0];
  im.rows = d[1];
  im.cols = d[2];
  const uint64_t need = uint64_t(im.count) * uint64_t(im.rows) * uint64_t(im.cols);
  check_data_size(header, size, need,
                  std::to_string(im.count) + "x" + std::to_string(im.rows) + "x" +
                      std::to_string(im.cols) + " images",
                  what);
  im.pixels.assign(data + header, data + header + need);
  return im;
}

std::vector<uint8_t> parse_idx_labels(const uint8_t* data, size_t size, const std::string& what) {
  std::vector<int64_t> d;
  const size_t header = parse_header(data, size, kIdxLabelsMagic, "idx1-ubyte labels", what, d);
  check_data_size(header, size, uint64_t(d[0]), std::to_string(d[0]) + " labels", what);
  return std::vector<uint8_t>(data + header, data + header + d[0]);
}

IdxImages read_idx_images(const std::string& path) {
  const std::vector<uint8_t> b = read_maybe_gzip(path);
  return parse_idx_images(b.data(), b.size(), path);
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  const std::vector<uint8_t> b = read_maybe_gzip(path);
  return parse_idx_labels(b.data(), b.size(), path);
}

IdxPair read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      int num_classes) {
  IdxPair p;
  p.images = read_idx_images(images_path);
  p.labels = read_idx_labels(labels_path);
  if (int64_t(p.labels.size()) != p.images.count)
    throw Error(images_path + ": " + std::to_string(p.images.count) + " images but " + labels_path +
                " has " + std::to_string(p.labels.size()) + " labels");
  for (size_t i = 0; i < p.labels.size(); ++i)
    if (p.labels[i] >= num_classes)
      throw Error(labels_path + ": label " + std::to_string(p.labels[i]) + " at index " +
                  std::to_string(i) + " is out of range [0, " + std::to_string(num_classes) + ")");
  return p;
}

}  // namespace fw
