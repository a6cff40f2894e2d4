// Helpers for the dataset tests: IDX and gzip file builders, synthetic items, the Fashion-MNIST
// location (tests that need the real files skip when dataset-fashion-mnist is not installed).
#pragma once
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/datasets.h"
#include "core/init.h"

namespace fw::test {

inline void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(uint8_t(v >> s));
}

inline std::vector<uint8_t> idx_images_bytes(uint32_t n, uint32_t rows, uint32_t cols,
                                             const std::vector<uint8_t>& pixels) {
  std::vector<uint8_t> out;
  put_be32(out, 0x00000803);
  put_be32(out, n);
  put_be32(out, rows);
  put_be32(out, cols);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

inline std::vector<uint8_t> idx_labels_bytes(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> out;
  put_be32(out, 0x00000801);
  put_be32(out, uint32_t(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// One gzip member holding `data`.
inline std::vector<uint8_t> gzip_bytes(const std::vector<uint8_t>& data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> out(deflateBound(&zs, uLong(data.size())) + 64);
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = uInt(data.size());
  zs.next_out = out.data();
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// `count` 28x28 items: a filled rectangle of random size, position and intensity on black.
inline IdxImages synthetic_items(int64_t count, uint64_t seed) {
  IdxImages im;
  im.count = count;
  im.rows = im.cols = 28;
  im.pixels.assign(size_t(count) * 28 * 28, 0);
  Rng rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    const int w = 4 + int(rng.next() % 20), h = 4 + int(rng.next() % 20);
    const int x = int(rng.next() % (28 - w + 1)), y = int(rng.next() % (28 - h + 1));
    for (int yy = y; yy < y + h; ++yy)
      for (int xx = x; xx < x + w; ++xx)
        im.pixels[i * 784 + yy * 28 + xx] = uint8_t(100 + rng.next() % 156);
  }
  return im;
}

inline std::vector<uint8_t> synthetic_labels(int64_t count) {
  std::vector<uint8_t> l(count);
  for (int64_t i = 0; i < count; ++i) l[i] = uint8_t(i % 10);
  return l;
}

inline bool fashion_mnist_installed() {
  struct stat st;
  return stat((default_fashion_mnist_dir() + "/train-images-idx3-ubyte.gz").c_str(), &st) == 0;
}

#define SKIP_WITHOUT_FASHION_MNIST()                                                            \
  do {                                                                                          \
    if (!::fw::test::fashion_mnist_installed())                                                 \
      GTEST_SKIP() << "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"; \
  } while (0)

}  // namespace fw::test
