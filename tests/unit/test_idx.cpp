// IDX readers: plain and gzip files, precise errors on malformed input, the real Fashion-MNIST.
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/idx.h"
#include "dataset_test_util.h"
#include "store_test_util.h"

namespace fw {
namespace {

using test::gzip_bytes;
using test::idx_images_bytes;
using test::idx_labels_bytes;
using test::ScratchDir;
using test::write_bytes;

std::vector<uint8_t> ramp(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 7 + 3);
  return v;
}

TEST(Idx, ReadsPlainAndGzipImages) {
  ScratchDir dir;
  const std::vector<uint8_t> px = ramp(3 * 4 * 5);
  const std::vector<uint8_t> file = idx_images_bytes(3, 4, 5, px);
  write_bytes(dir.file("a.idx"), file);
  write_bytes(dir.file("a.idx.gz"), gzip_bytes(file));
  for (const char* name : {"a.idx", "a.idx.gz"}) {
    const IdxImages im = read_idx_images(dir.file(name));
    EXPECT_EQ(im.count, 3);
    EXPECT_EQ(im.rows, 4);
    EXPECT_EQ(im.cols, 5);
    EXPECT_EQ(im.pixels, px) << name;
    EXPECT_EQ(im.image(2)[0], px[40]);
  }
}

TEST(Idx, ReadsLabelsAndConcatenatedGzipMembers) {
  ScratchDir dir;
  const std::vector<uint8_t> file = idx_labels_bytes({0, 1, 2, 9, 4});
  // Split the file across two gzip members, as `cat a.gz b.gz` would make, plus zero padding.
  std::vector<uint8_t> gz = gzip_bytes({file.begin(), file.begin() + 6});
  const std::vector<uint8_t> second = gzip_bytes({file.begin() + 6, file.end()});
  gz.insert(gz.end(), second.begin(), second.end());
  gz.insert(gz.end(), 16, 0);
  write_bytes(dir.file("l.gz"), gz);
  EXPECT_EQ(read_idx_labels(dir.file("l.gz")), (std::vector<uint8_t>{0, 1, 2, 9, 4}));
}

TEST(Idx, WrongMagicNamesBothValues) {
  ScratchDir dir;
  write_bytes(dir.file("labels"), idx_labels_bytes({1, 2}));
  write_bytes(dir.file("images"), idx_images_bytes(1, 2, 2, ramp(4)));
  EXPECT_ERROR_HAS(read_idx_images(dir.file("labels")),
                   "labels: wrong magic 0x00000801 (expected 0x00000803: idx3-ubyte images)");
  EXPECT_ERROR_HAS(read_idx_labels(dir.file("images")),
                   "wrong magic 0x00000803 (expected 0x00000801: idx1-ubyte labels)");
  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 0, 0, 0, 0};
  write_bytes(dir.file("x.png"), png);
  EXPECT_ERROR_HAS(read_idx_images(dir.file("x.png")), "wrong magic 0x89504e47");
}

TEST(Idx, TruncatedFilesGiveByteCounts) {
  ScratchDir dir;
  std::vector<uint8_t> file = idx_images_bytes(10, 28, 28, ramp(10 * 784));
  file.resize(16 + 5 * 784);
  write_bytes(dir.file("t"), file);
  EXPECT_ERROR_HAS(read_idx_images(dir.file("t")),
                   "t: truncated: 10x28x28 images need 7856 bytes, the file has 3936 bytes");
  write_bytes(dir.file("t.gz"), gzip_bytes(file));  // complete gzip of a truncated file
  EXPECT_ERROR_HAS(read_idx_images(dir.file("t.gz")), "need 7856 bytes, the file has 3936");
  write_bytes(dir.file("h"), {0, 0, 8, 3, 0, 0});
  EXPECT_ERROR_HAS(read_idx_images(dir.file("h")),
                   "truncated: the IDX header needs 16 bytes, the file has 6 bytes");
  write_bytes(dir.file("m"), {0, 0});
  EXPECT_ERROR_HAS(read_idx_labels(dir.file("m")), "truncated");
  std::vector<uint8_t> labels = idx_labels_bytes({1, 2, 3});
  labels.pop_back();
  write_bytes(dir.file("l"), labels);
  EXPECT_ERROR_HAS(read_idx_labels(dir.file("l")), "3 labels need 11 bytes, the file has 10");
}

TEST(Idx, TrailingBytesAreRefused) {
  ScratchDir dir;
  std::vector<uint8_t> file = idx_labels_bytes({1, 2, 3});
  file.push_back(7);
  write_bytes(dir.file("l"), file);
  EXPECT_ERROR_HAS(read_idx_labels(dir.file("l")), "1 unexpected bytes after the data");
}

TEST(Idx, TruncatedOrCorruptGzip) {
  ScratchDir dir;
  const std::vector<uint8_t> gz = gzip_bytes(idx_images_bytes(20, 28, 28, ramp(20 * 784)));
  write_bytes(dir.file("cut.gz"), {gz.begin(), gz.begin() + gz.size() / 2});
  EXPECT_ERROR_HAS(read_idx_images(dir.file("cut.gz")), "cut.gz: truncated gzip stream");
  std::vector<uint8_t> bad = gz;
  for (size_t i = 20; i < 40; ++i) bad[i] ^= 0x5a;
  write_bytes(dir.file("bad.gz"), bad);
  EXPECT_ERROR_HAS(read_idx_images(dir.file("bad.gz")), "bad.gz: corrupt gzip stream");
  EXPECT_ERROR_HAS(read_idx_images(dir.file("missing.gz")),
                   "missing.gz: cannot open (No such file or directory)");
}

TEST(Idx, PairChecksCountAndLabelRange) {
  ScratchDir dir;
  write_bytes(dir.file("i"), idx_images_bytes(3, 2, 2, ramp(12)));
  write_bytes(dir.file("l2"), idx_labels_bytes({1, 2}));
  write_bytes(dir.file("l3"), idx_labels_bytes({1, 10, 2}));
  write_bytes(dir.file("ok"), idx_labels_bytes({1, 9, 2}));
  EXPECT_ERROR_HAS(read_idx_pair(dir.file("i"), dir.file("l2"), 10), "3 images but");
  EXPECT_ERROR_HAS(read_idx_pair(dir.file("i"), dir.file("l2"), 10), "has 2 labels");
  EXPECT_ERROR_HAS(read_idx_pair(dir.file("i"), dir.file("l3"), 10),
                   "label 10 at index 1 is out of range [0, 10)");
  const IdxPair p = read_idx_pair(dir.file("i"), dir.file("ok"), 10);
  EXPECT_EQ(p.images.count, 3);
  EXPECT_EQ(p.labels, (std::vector<uint8_t>{1, 9, 2}));
}

TEST(Idx, RealFashionMnist) {
  SKIP_WITHOUT_FASHION_MNIST();
  const std::string d = default_fashion_mnist_dir();
  const IdxPair train =
      read_idx_pair(d + "/train-images-idx3-ubyte.gz", d + "/train-labels-idx1-ubyte.gz", 10);
  const IdxPair test =
      read_idx_pair(d + "/t10k-images-idx3-ubyte.gz", d + "/t10k-labels-idx1-ubyte.gz", 10);
  EXPECT_EQ(train.images.count, 60000);
  EXPECT_EQ(test.images.count, 10000);
  EXPECT_EQ(train.images.rows, 28);
  EXPECT_EQ(train.images.cols, 28);
  std::vector<int> per_class(10, 0);
  for (uint8_t l : train.labels) ++per_class[l];
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[c], 6000) << "class " << c;
  EXPECT_EQ(train.labels[0], 9);  // the first training item is an ankle boot
  EXPECT_EQ(test.labels[0], 9);
}

// #16: a gzip IDX file was inflated whole before its size was checked, so a few kilobytes could
// inflate to gigabytes. Now the header is inflated first and the data no further than it says.
TEST(Idx, GzipIsInflatedNoFurtherThanTheHeaderSays) {
  ScratchDir dir;
  // 2 images of 4x4 claimed, 64 MiB of zeros behind them (compresses to ~64 KB).
  std::vector<uint8_t> file = idx_images_bytes(2, 4, 4, ramp(2 * 16));
  file.resize(file.size() + (size_t(64) << 20), 0);
  write_bytes(dir.file("bomb.gz"), gzip_bytes(file));
  EXPECT_ERROR_HAS(
      read_idx_images(dir.file("bomb.gz")),
      "bomb.gz: the gzip data inflates to more than the 48 bytes its IDX header describes");
  // A header claiming 2^32 x 2^16 x 2^16 bytes: refused before inflating the data.
  std::vector<uint8_t> huge = idx_images_bytes(1, 1, 1, ramp(1));
  huge[4] = huge[5] = huge[6] = huge[7] = 0xff;  // count 2^32 - 1
  huge[8] = 0xff;                                // rows ~2^32
  write_bytes(dir.file("huge.gz"), gzip_bytes(huge));
  EXPECT_ERROR_HAS(read_idx_images(dir.file("huge.gz")), "more than this machine's memory");
}

}  // namespace
}  // namespace fw
