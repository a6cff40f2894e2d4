// Reading IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
//
// Format (big-endian): a 4-byte magic 0x00 0x00 TYPE NDIMS, NDIMS 4-byte dimension sizes, then the
// data in C order. Formwork reads the unsigned-byte type (TYPE 0x08) only:
//  - images: magic 0x00000803 (idx3-ubyte), dims [N, rows, cols], N*rows*cols pixel bytes;
//  - labels: magic 0x00000801 (idx1-ubyte), dims [N], N label bytes.
//
// Reading
//  - read_idx_images(path) / read_idx_labels(path): the whole file. Gzip is detected by its magic
//    (1f 8b), not by the file name, and inflated in memory (zlib); concatenated gzip members are
//    read as one stream.
//  - parse_idx_images / parse_idx_labels: the same on bytes already in memory (decompressed);
//    `what` names the source in messages.
//  - read_idx_pair(images, labels, num_classes): both files of a split, checked against each other.
//
// Errors (fw::Error, one line naming the file)
//  - missing file: "x.gz: cannot open (No such file or directory)";
//  - corrupt or truncated gzip: "x.gz: corrupt gzip stream (...)" / "truncated gzip stream";
//  - wrong magic, with the value found and the one expected:
//    "x: wrong magic 0x00000801 (expected 0x00000803: idx3-ubyte images)";
//  - truncated header or data, with the byte counts: "x: truncated: 60000x28x28 images need
//    47040016 bytes, the file has 1000 bytes";
//  - trailing bytes after the data ("x: 12 unexpected bytes after the data");
//  - read_idx_pair: count mismatch ("60000 images but 59999 labels") and a label out of range
//    ("label 12 at index 7 is out of range [0, 10)").
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fw {

inline constexpr uint32_t kIdxImagesMagic = 0x00000803;  // idx3-ubyte
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;  // idx1-ubyte

// N grayscale images of rows x cols, uint8, image-major then row-major.
struct IdxImages {
  int64_t count = 0, rows = 0, cols = 0;
  std::vector<uint8_t> pixels;  // count*rows*cols

  const uint8_t* image(int64_t i) const { return pixels.data() + i * rows * cols; }
};

IdxImages read_idx_images(const std::string& path);
std::vector<uint8_t> read_idx_labels(const std::string& path);
IdxImages parse_idx_images(const uint8_t* data, size_t size, const std::string& what);
std::vector<uint8_t> parse_idx_labels(const uint8_t* data, size_t size, const std::string& what);

// Images and labels of one split; labels must lie in [0, num_classes) and match the image count.
struct IdxPair {
  IdxImages images;
  std::vector<uint8_t> labels;
};
IdxPair read_idx_pair(const std::string& images_path, const std::string& labels_path,
                      int num_classes);

// The whole file; inflated when it starts with the gzip magic. Used by the readers above. A gzip
// file is inflated no further than its IDX header says the data goes (the header is inflated
// first), so a small file cannot inflate to gigabytes before its size is checked.
std::vector<uint8_t> read_maybe_gzip(const std::string& path);
// Inflates gzip data (one or more members); `what` names the source in messages. At most
// `max_out` bytes: with `stop_at_max` the first max_out bytes are returned (a header peek),
// otherwise more is an error naming the limit.
std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, const std::string& what,
                            size_t max_out = SIZE_MAX, bool stop_at_max = false);

}  // namespace fw
