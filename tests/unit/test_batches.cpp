// BatchLoader: epoch orders, normalisation, augmentation (crop/flip, boxes), determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/batches.h"
#include "core/error.h"
#include "core/init.h"

namespace fw {
namespace {

// n samples of c x h x w with distinct, position-dependent bytes (no two pixels of a sample
// are equal in a row, so a shift or flip is recognisable).
Dataset make_ds(int64_t n, int c, int h, int w) {
  Dataset ds;
  ds.name = "synthetic";
  ds.split = "train";
  ds.channels = c;
  ds.height = h;
  ds.width = w;
  ds.class_names = {"a", "b", "c"};
  ds.pixels.resize(size_t(n) * c * h * w);
  Rng rng(5);
  for (uint8_t& v : ds.pixels) v = uint8_t(1 + rng.next() % 255);
  for (int64_t i = 0; i < n; ++i) ds.labels.push_back(i % 3);
  ds.norm = Normalization{std::vector<float>(c, 0.5f), std::vector<float>(c, 0.25f)};
  ds.augment = Augment{2, PadMode::Zero, true};
  return ds;
}

float norm_value(const Dataset& ds, int c, uint8_t v) {
  return (float(v) / 255.0f - ds.norm.mean[c]) / ds.norm.std[c];
}

TEST(Batches, OrderCoversEachSampleOnce) {
  const Dataset ds = make_ds(103, 1, 4, 4);
  BatchOptions o;
  o.batch_size = 10;
  o.seed = 3;
  BatchLoader loader(ds, o);
  EXPECT_EQ(loader.num_batches(), 11);
  std::vector<int64_t> seen;
  while (loader.has_next()) {
    const Batch b = loader.next_batch();
    EXPECT_EQ(b.images.shape, (Shape{b.size(), 1, 4, 4}));
    EXPECT_EQ(b.size(), b.index == 10 ? 3 : 10);
    for (int64_t k = 0; k < b.size(); ++k) EXPECT_EQ(b.labels[k], ds.labels[b.indices[k]]);
    seen.insert(seen.end(), b.indices.begin(), b.indices.end());
  }
  EXPECT_EQ(loader.epoch_order(0), seen);
  std::sort(seen.begin(), seen.end());
  for (int64_t i = 0; i < 103; ++i) ASSERT_EQ(seen[i], i);
  EXPECT_NE(loader.epoch_order(0), loader.epoch_order(1));
  o.drop_last = true;
  EXPECT_EQ(BatchLoader(ds, o).num_batches(), 10);
  o.shuffle = false;
  std::vector<int64_t> identity(103);
  for (int64_t i = 0; i < 103; ++i) identity[i] = i;
  EXPECT_EQ(BatchLoader(ds, o).epoch_order(4), identity);
  o.seed = 4;
  o.shuffle = true;
  EXPECT_NE(BatchLoader(ds, o).epoch_order(0), loader.epoch_order(0));
}

TEST(Batches, NormalisesAndReplicatesGray) {
  const Dataset ds = make_ds(5, 1, 3, 2);
  BatchOptions o;
  o.batch_size = 5;
  o.shuffle = false;
  const Batch b = BatchLoader(ds, o).make_batch(0, 0);
  for (int64_t i = 0; i < 5 * 6; ++i)
    ASSERT_FLOAT_EQ(b.images.data[i], norm_value(ds, 0, ds.pixels[i]));
  o.channels = 3;
  o.norm = Normalization{{0.1f, 0.2f, 0.3f}, {1.0f, 2.0f, 4.0f}};
  const Batch rgb = BatchLoader(ds, o).make_batch(0, 0);
  ASSERT_EQ(rgb.images.shape, (Shape{5, 3, 3, 2}));
  for (int c = 0; c < 3; ++c)
    EXPECT_FLOAT_EQ(rgb.images.data[2 * 18 + c * 6 + 4],
                    (ds.pixels[2 * 6 + 4] / 255.0f - o.norm.mean[c]) / o.norm.std[c]);
  EXPECT_EQ(sample_tensor(ds, 3).data,
            std::vector<float>(b.images.data.begin() + 18, b.images.data.begin() + 24));
  EXPECT_EQ(sample_tensor(ds, 3).shape, (Shape{1, 3, 2}));
  o.norm = Normalization{{0.1f, 0.2f}, {1.0f, 2.0f}};
  EXPECT_THROW(BatchLoader(ds, o), UsageError);
  o.norm = {};
  o.channels = 2;
  EXPECT_THROW(BatchLoader(ds, o), UsageError);
  o.channels = 0;
  o.batch_size = 0;
  EXPECT_THROW(BatchLoader(ds, o), UsageError);
}

// The (dx, dy, flip) that turns sample `src` into `out` under `aug`, or {-1, -1, false}.
struct Found {
  int dx = -1, dy = -1;
  bool flip = false;
};
Found find_transform(const Dataset& ds, const float* out, int64_t idx, const Augment& aug) {
  const int H = ds.height, W = ds.width, p = aug.pad;
  auto reflect = [](int i, int n) {
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  for (int flip = 0; flip < 2; ++flip)
    for (int dy = 0; dy <= 2 * p; ++dy)
      for (int dx = 0; dx <= 2 * p; ++dx) {
        bool ok = true;
        for (int c = 0; c < ds.channels && ok; ++c)
          for (int y = 0; y < H && ok; ++y)
            for (int x = 0; x < W && ok; ++x) {
              int sy = y + dy - p, sx = (flip ? W - 1 - x : x) + dx - p;
              uint8_t v = 0;
              if (aug.pad_mode == PadMode::Reflect) {
                v = ds.sample(idx)[c * H * W + reflect(sy, H) * W + reflect(sx, W)];
              } else if (sy >= 0 && sy < H && sx >= 0 && sx < W) {
                v = ds.sample(idx)[c * H * W + sy * W + sx];
              }
              ok = out[c * H * W + y * W + x] == norm_value(ds, c, v);
            }
        if (ok) return Found{dx, dy, flip == 1};
      }
  return Found{};
}

void check_augmentation(const Augment& aug) {
  const Dataset ds = make_ds(200, 2, 6, 7);
  BatchOptions o;
  o.batch_size = 32;
  o.seed = 9;
  o.augment = true;
  o.augmentation = aug;
  BatchLoader loader(ds, o);
  std::set<int> dxs, dys;
  int flips = 0, n = 0;
  while (loader.has_next()) {
    const Batch b = loader.next_batch();
    for (int64_t k = 0; k < b.size(); ++k) {
      const Found f = find_transform(ds, b.images.ptr() + k * 2 * 42, b.indices[k], aug);
      ASSERT_GE(f.dx, 0) << "sample " << b.indices[k] << " is not a crop/flip of its source";
      dxs.insert(f.dx);
      dys.insert(f.dy);
      flips += f.flip;
      ++n;
    }
  }
  EXPECT_EQ(int(dxs.size()), 2 * aug.pad + 1);
  EXPECT_EQ(int(dys.size()), 2 * aug.pad + 1);
  EXPECT_GT(flips, n / 4);
  EXPECT_LT(flips, 3 * n / 4);
}

TEST(Batches, RandomCropZeroPadAndFlip) { check_augmentation(Augment{2, PadMode::Zero, true}); }
TEST(Batches, RandomCropReflectPadAndFlip) {
  check_augmentation(Augment{3, PadMode::Reflect, true});
}

TEST(Batches, AugmentationIsDeterministicPerSample) {
  const Dataset ds = make_ds(60, 1, 8, 8);
  BatchOptions o;
  o.seed = 21;
  o.augment = true;
  o.batch_size = 7;
  BatchLoader a(ds, o);
  o.batch_size = 60;
  BatchLoader whole(ds, o);
  o.batch_size = 7;
  o.prefetch = 3;
  BatchLoader pre(ds, o);
  for (int64_t epoch : {0, 1, 5}) {
    a.start_epoch(epoch);
    pre.start_epoch(epoch);
    const Batch all = whole.make_batch(epoch, 0);
    int64_t pos = 0;
    while (a.has_next()) {
      const Batch x = a.next_batch(), y = pre.next_batch();
      EXPECT_EQ(x.images.data, y.images.data);
      EXPECT_EQ(x.indices, y.indices);
      // Same samples, same augmentation whatever the batch size.
      const std::vector<float> part(all.images.data.begin() + pos * 64,
                                    all.images.data.begin() + (pos + x.size()) * 64);
      EXPECT_EQ(x.images.data, part);
      pos += x.size();
    }
    EXPECT_FALSE(pre.has_next());
  }
  // Another seed, or another epoch, augments differently.
  o.seed = 22;
  o.prefetch = 0;
  BatchLoader other(ds, o);
  EXPECT_NE(other.make_batch(0, 0).images.data, a.make_batch(0, 0).images.data);
  o.shuffle = false;
  BatchLoader fixed(ds, o);
  EXPECT_NE(fixed.make_batch(0, 0).images.data, fixed.make_batch(1, 0).images.data);
  // Without `augment` the dataset's recommendation is not applied.
  o.augment = false;
  BatchLoader plain(ds, o);
  EXPECT_EQ(plain.make_batch(0, 0).images.data, plain.make_batch(1, 0).images.data);
  EXPECT_FALSE(plain.augmentation().enabled());
}

TEST(Batches, BoxesFollowCropAndFlip) {
  // Black images with one bright rectangle, its box recorded.
  Dataset ds = make_ds(150, 1, 16, 16);
  std::fill(ds.pixels.begin(), ds.pixels.end(), 0);
  Rng rng(3);
  for (int64_t i = 0; i < ds.size(); ++i) {
    const int x0 = int(rng.next() % 12), y0 = int(rng.next() % 12);
    const int x1 = x0 + 1 + int(rng.next() % (16 - x0)), y1 = y0 + 1 + int(rng.next() % (16 - y0));
    ds.boxes.push_back(Box{x0, y0, x1, y1});
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) ds.pixels[i * 256 + y * 16 + x] = 255;
  }
  BatchOptions o;
  o.batch_size = 50;
  o.augment = true;
  o.augmentation = Augment{4, PadMode::Zero, true};
  BatchLoader loader(ds, o);
  const float bright = norm_value(ds, 0, 255);
  int64_t moved = 0;
  while (loader.has_next()) {
    const Batch b = loader.next_batch();
    ASSERT_EQ(b.boxes.size(), size_t(b.size()));
    for (int64_t k = 0; k < b.size(); ++k) {
      const Box& r = b.boxes[k];
      moved += !(r == ds.boxes[b.indices[k]]);
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x) {
          const bool in = x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1;
          ASSERT_EQ(b.images.data[k * 256 + y * 16 + x] == bright, in)
              << "sample " << b.indices[k] << " at " << x << "," << y;
        }
    }
  }
  EXPECT_GT(moved, 100);
  o.augmentation = Augment{16, PadMode::Reflect, false};
  EXPECT_THROW(BatchLoader(ds, o), UsageError);
}

}  // namespace
}  // namespace fw
