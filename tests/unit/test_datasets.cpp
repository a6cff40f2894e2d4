// Datasets: Fashion-MNIST (real files, skipped when not installed), the placed generator
// (synthetic and real items), image folders written here as PNG/JPEG, image resizing.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/datasets.h"
#include "core/error.h"
#include "core/image_io.h"
#include "dataset_test_util.h"
#include "store_test_util.h"

namespace fw {
namespace {

using test::ScratchDir;

// ---- Fashion-MNIST ---------------------------------------------------------------------------

TEST(FashionMnist, LoadsWithRecommendedNormalisation) {
  SKIP_WITHOUT_FASHION_MNIST();
  const Dataset train = load_dataset("fashion-mnist", "train");
  EXPECT_EQ(train.size(), 60000);
  EXPECT_EQ(train.sample_shape(), (Shape{1, 28, 28}));
  EXPECT_EQ(train.num_classes(), 10);
  EXPECT_EQ(train.class_names[9], "Ankle boot");
  ASSERT_EQ(train.norm.mean.size(), 1u);
  EXPECT_NEAR(train.norm.mean[0], 0.2860, 5e-4);  // the published Fashion-MNIST statistics
  EXPECT_NEAR(train.norm.std[0], 0.3530, 5e-4);
  EXPECT_EQ(train.augment, (Augment{2, PadMode::Zero, true}));
  LoadOptions o;
  o.limit = 100;
  const Dataset test = load_dataset("fashion_mnist", "test", o);
  EXPECT_EQ(test.size(), 100);
  o.normalization = false;
  EXPECT_TRUE(load_dataset("fashion-mnist", "test", o).norm.empty());
  o.normalization = true;
  // The test split carries the train split's statistics (limit included).
  EXPECT_EQ(test.norm, compute_normalization(load_dataset("fashion-mnist", "train", o)));
}

TEST(FashionMnist, PadAndResizeTo32) {
  SKIP_WITHOUT_FASHION_MNIST();
  LoadOptions o;
  o.limit = 50;
  const Dataset base = load_dataset("fashion-mnist", "train", o);
  o.image_size = 32;
  const Dataset padded = load_dataset("fashion-mnist", "train", o);
  ASSERT_EQ(padded.sample_shape(), (Shape{1, 32, 32}));
  for (int64_t i = 0; i < padded.size(); ++i)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const bool inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        const uint8_t want = inside ? base.sample(i)[(y - 2) * 28 + x - 2] : 0;
        ASSERT_EQ(padded.sample(i)[y * 32 + x], want) << i << " " << y << " " << x;
      }
  EXPECT_LT(padded.norm.mean[0], base.norm.mean[0]);  // statistics of the padded images
  o.fit = Fit::Resize;
  o.normalization = false;
  const Dataset resized = load_dataset("fashion-mnist", "train", o);
  EXPECT_EQ(resized.sample_shape(), (Shape{1, 32, 32}));
  EXPECT_NE(resized.pixels, padded.pixels);
  o.image_size = 20;
  o.fit = Fit::Pad;
  EXPECT_THROW(load_dataset("fashion-mnist", "train", o), Error);  // the size is the network's
  o.fit = Fit::Resize;
  EXPECT_EQ(load_dataset("fashion-mnist", "train", o).height, 20);
}

TEST(FashionMnist, MissingFilesSayHowToInstall) {
  ScratchDir dir;
  LoadOptions o;
  o.fashion_mnist_dir = dir.file("nowhere");
  EXPECT_ERROR_HAS(load_dataset("fashion-mnist", "train", o),
                   "apt-get install dataset-fashion-mnist");
  EXPECT_ERROR_HAS(load_dataset("fashion-mnist-placed", "test", o),
                   "t10k-images-idx3-ubyte.gz is missing");
}

TEST(Datasets, UnknownNameOrSplitIsUsageError) {
  EXPECT_THROW(load_dataset("cifar-1000", "train"), UsageError);
  EXPECT_THROW(load_dataset("fashion-mnist", "validation"), UsageError);
}

// ---- fashion-mnist-placed ----------------------------------------------------------------------

LoadOptions placed_options(uint64_t seed, int clutter = 4) {
  LoadOptions o;
  o.seed = seed;
  o.clutter = clutter;
  return o;
}

TEST(Placed, DeterministicForSeedAndThreads) {
  const IdxImages items = test::synthetic_items(300, 1);
  const std::vector<uint8_t> labels = test::synthetic_labels(300);
  LoadOptions o = placed_options(7);
  o.threads = 1;
  const Dataset a = make_placed(items, labels, "train", o);
  o.threads = 4;
  const Dataset b = make_placed(items, labels, "train", o);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(a.boxes, b.boxes);
  EXPECT_EQ(a.labels, b.labels);
  const Dataset c = make_placed(items, labels, "train", placed_options(8));
  EXPECT_NE(a.pixels, c.pixels);
  EXPECT_NE(a.boxes, c.boxes);
  const Dataset d = make_placed(items, labels, "test", placed_options(7));
  EXPECT_NE(a.pixels, d.pixels);  // the split is part of the seed
  o.limit = 40;                   // a prefix of the full set, unchanged
  const Dataset e = make_placed(items, labels, "train", o);
  ASSERT_EQ(e.size(), 40);
  EXPECT_TRUE(std::equal(e.pixels.begin(), e.pixels.end(), a.pixels.begin()));
  EXPECT_TRUE(std::equal(e.boxes.begin(), e.boxes.end(), a.boxes.begin()));
}

// Checks the placement of every sample: the box is inside the canvas, has the item's content
// size, and the canvas holds the item there (max-composited over clutter); outside the box only
// faint clutter (<= 90). Without clutter, the box is exactly the non-zero pixels.
void check_placement(const Dataset& ds, const IdxImages& items, bool clutter) {
  ASSERT_EQ(int64_t(ds.boxes.size()), ds.size());
  const int S = ds.width;
  int64_t cluttered = 0;
  for (int64_t i = 0; i < ds.size(); ++i) {
    const Box& b = ds.boxes[i];
    ASSERT_TRUE(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= S && b.y1 <= S && b.x0 < b.x1 && b.y0 < b.y1)
        << "sample " << i;
    // The item's own tight box.
    int ix0 = 28, iy0 = 28, ix1 = 0, iy1 = 0;
    const uint8_t* item = items.image(i);
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x)
        if (item[y * 28 + x]) {
          ix0 = std::min(ix0, x), iy0 = std::min(iy0, y);
          ix1 = std::max(ix1, x + 1), iy1 = std::max(iy1, y + 1);
        }
    ASSERT_EQ(b.x1 - b.x0, ix1 - ix0) << "sample " << i;
    ASSERT_EQ(b.y1 - b.y0, iy1 - iy0) << "sample " << i;
    const uint8_t* px = ds.sample(i);
    bool outside_nonzero = false;
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) {
        const uint8_t v = px[y * S + x];
        const bool in = x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1;
        if (in) {
          const uint8_t it = item[(y - b.y0 + iy0) * 28 + (x - b.x0 + ix0)];
          if (clutter) {
            ASSERT_GE(v, it) << "sample " << i;
            if (it > 90) {
              ASSERT_EQ(v, it) << "clutter never exceeds 90";
            }
          } else {
            ASSERT_EQ(v, it) << "sample " << i;
          }
        } else {
          ASSERT_LE(v, 90) << "sample " << i << " at " << x << "," << y;
          if (!clutter) {
            ASSERT_EQ(v, 0) << "sample " << i;
          }
          outside_nonzero |= v > 0;
        }
      }
    cluttered += outside_nonzero;
  }
  if (clutter) {
    EXPECT_GT(cluttered, ds.size() * 8 / 10);  // nearly every image has some clutter
  }
}

TEST(Placed, BoxHoldsTheItem) {
  const IdxImages items = test::synthetic_items(200, 2);
  const std::vector<uint8_t> labels = test::synthetic_labels(200);
  const Dataset plain = make_placed(items, labels, "train", placed_options(3, 0));
  EXPECT_EQ(plain.sample_shape(), (Shape{1, 64, 64}));
  check_placement(plain, items, false);
  const Dataset cl = make_placed(items, labels, "train", placed_options(3));
  check_placement(cl, items, true);
  EXPECT_EQ(cl.labels[13], 3);
  // Positions vary over the whole canvas.
  std::set<int> xs;
  for (const Box& b : cl.boxes) xs.insert(b.x0 / 8);
  EXPECT_GE(xs.size(), 5u);
  LoadOptions o = placed_options(3);
  o.image_size = 40;
  const Dataset small = make_placed(items, labels, "train", o);
  EXPECT_EQ(small.width, 40);
  check_placement(small, items, true);
  o.image_size = 20;
  EXPECT_THROW(make_placed(items, labels, "train", o), Error);
}

TEST(Placed, RealFashionMnist) {
  SKIP_WITHOUT_FASHION_MNIST();
  LoadOptions o;
  o.limit = 300;
  o.seed = 11;
  const Dataset ds = load_dataset("fashion-mnist-placed", "test", o);
  EXPECT_EQ(ds.size(), 300);
  EXPECT_EQ(ds.sample_shape(), (Shape{1, 64, 64}));
  EXPECT_EQ(ds.augment, (Augment{4, PadMode::Zero, true}));
  ASSERT_EQ(ds.norm.mean.size(), 1u);
  EXPECT_GT(ds.norm.mean[0], 0.03);
  EXPECT_LT(ds.norm.mean[0], 0.2);
  const std::string d = default_fashion_mnist_dir();
  const IdxImages items = read_idx_images(d + "/t10k-images-idx3-ubyte.gz");
  check_placement(ds, items, true);
  EXPECT_EQ(ds.pixels, load_dataset("fashion-mnist-placed", "test", o).pixels);
}

// ---- image folders -----------------------------------------------------------------------------

// A w x h image of one colour plus a gradient, so that resizing has something to do.
Image8 make_image(int w, int h, int c, int base) {
  Image8 im(w, h, c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k)
        im.pixel(x, y)[k] = uint8_t((base + 3 * x + 5 * y + 40 * k) % 256);
  return im;
}

void mkdirs(const std::string& p) { std::filesystem::create_directories(p); }

TEST(ImageFolder, HoldoutLayout) {
  ScratchDir dir;
  const std::string root = dir.file("shapes");
  const std::vector<std::string> classes = {"circle", "Square", "tri"};  // byte order: S < c < t
  for (size_t c = 0; c < classes.size(); ++c) {
    mkdirs(root + "/" + classes[c]);
    for (int i = 0; i < 12; ++i)
      write_png(root + "/" + classes[c] + "/img" + std::to_string(i) + ".png",
                make_image(6 + i % 3, 8, c == 2 && i == 0 ? 3 : 1, int(c * 50 + i)));
  }
  test::write_bytes(root + "/circle/notes.txt", {'h', 'i'});  // ignored
  mkdirs(root + "/.hidden");                                  // ignored
  LoadOptions o;
  o.image_size = 16;
  const Dataset train = load_dataset(root, "train", o);
  const Dataset test = load_dataset(root, "test", o);
  EXPECT_EQ(train.class_names, (std::vector<std::string>{"Square", "circle", "tri"}));
  EXPECT_EQ(train.channels, 3);  // one colour image makes the set RGB
  EXPECT_EQ(train.sample_shape(), (Shape{3, 16, 16}));
  EXPECT_EQ(train.size() + test.size(), 36);
  EXPECT_GT(test.size(), 0);
  std::set<std::string> seen(train.files.begin(), train.files.end());
  for (const std::string& f : test.files) EXPECT_TRUE(seen.insert(f).second) << f;
  for (int64_t i = 0; i < train.size(); ++i)
    EXPECT_EQ(train.class_names[train.labels[i]],
              train.files[i].substr(0, train.files[i].find('/')));
  EXPECT_EQ(train.augment, (Augment{2, PadMode::Reflect, true}));
  ASSERT_EQ(train.norm.mean.size(), 3u);
  EXPECT_EQ(test.norm, train.norm);
  // Deterministic, and gray when asked.
  EXPECT_EQ(load_dataset(root, "train", o).pixels, train.pixels);
  o.channels = 1;
  EXPECT_EQ(load_dataset(root, "test", o).channels, 1);
  o.holdout = 0.5;
  const Dataset half = load_dataset(root, "test", o);
  EXPECT_GT(half.size(), test.size());
  o.holdout = 1.0;
  EXPECT_THROW(load_dataset(root, "test", o), UsageError);
}

TEST(ImageFolder, TrainTestLayoutAndNativeSize) {
  ScratchDir dir;
  const std::string root = dir.file("ds");
  for (const char* split : {"train", "test"})
    for (const char* cls : {"a", "b"}) {
      mkdirs(root + "/" + split + "/" + cls);
      for (int i = 0; i < 3; ++i)
        write_png(root + "/" + split + "/" + cls + "/" + std::to_string(i) + ".png",
                  make_image(10, 7, 1, i * 20 + (cls[0] == 'b' ? 100 : 0)));
    }
  // A JPEG of another size: resized to the first image's 10 x 7.
  Image8 big = make_image(20, 14, 3, 9);
  ASSERT_TRUE(stbi_write_jpg((root + "/test/b/z.JPG").c_str(), 20, 14, 3, big.data.data(), 95));
  const Dataset test = load_dataset(root, "test");
  EXPECT_EQ(test.size(), 7);
  EXPECT_EQ(test.sample_shape(), (Shape{1, 7, 10}));  // gray: train has no colour
  EXPECT_EQ(test.files.back(), "test/b/z.JPG");
  EXPECT_EQ(test.labels.back(), 1);
  // The first train image, stored unchanged (same size, gray).
  const Dataset train = load_dataset(root, "train");
  const Image8 first = make_image(10, 7, 1, 0);
  EXPECT_TRUE(std::equal(first.data.begin(), first.data.end(), train.sample(0)));
  // A test class unknown to train is refused.
  mkdirs(root + "/test/c");
  write_png(root + "/test/c/0.png", make_image(10, 7, 1, 0));
  EXPECT_ERROR_HAS(load_dataset(root, "test"), "class 'c' has no folder in the train split");
}

TEST(ImageFolder, ClearErrors) {
  ScratchDir dir;
  const std::string root = dir.file("d");
  mkdirs(root);
  EXPECT_ERROR_HAS(load_dataset(root, "train"), "no class sub-folders");
  mkdirs(root + "/cat");
  EXPECT_ERROR_HAS(load_dataset(root, "train"), "cat: no images");
  write_png(root + "/cat/ok.png", make_image(4, 4, 1, 0));
  test::write_bytes(root + "/cat/broken.png", {'n', 'o', 'p', 'e', 0, 1, 2, 3});
  EXPECT_ERROR_HAS(load_dataset(root, "train"), "cat/broken.png: cannot decode image");
  EXPECT_THROW(load_dataset(dir.file("absent"), "train"), UsageError);
}

// ---- resizing ----------------------------------------------------------------------------------

TEST(ImageIo, ResizeBilinear) {
  Image8 flat(9, 5, 3);
  for (size_t i = 0; i < flat.data.size(); ++i) flat.data[i] = uint8_t(60 + i % 3);
  for (auto [w, h] : {std::pair{4, 3}, std::pair{20, 11}, std::pair{9, 5}}) {
    const Image8 r = resize_bilinear(flat, w, h);
    ASSERT_EQ(r.width, w);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        for (int k = 0; k < 3; ++k) ASSERT_EQ(r.pixel(x, y)[k], 60 + k);
  }
  // Upscaling a 2-pixel row by 2: pixel centres at 0.25 and 0.75 of the source cells.
  Image8 two(2, 1, 1);
  two.data = {0, 200};
  const Image8 up = resize_bilinear(two, 4, 1);
  EXPECT_EQ(up.data, (std::vector<uint8_t>{0, 50, 150, 200}));
  // Downscaling averages: a 1-pixel checkerboard shrunk 4x is nearly uniform gray.
  Image8 checker(16, 16, 1);
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) checker.pixel(x, y)[0] = (x + y) % 2 ? 255 : 0;
  const Image8 down = resize_bilinear(checker, 4, 4);
  for (uint8_t v : down.data) EXPECT_NEAR(v, 127.5, 12);
}

TEST(ImageIo, PngRoundTripAndJpegDecode) {
  ScratchDir dir;
  const Image8 im = make_image(13, 7, 3, 5);
  write_png(dir.file("a.png"), im);
  const Image8 back = read_image(dir.file("a.png"));
  EXPECT_EQ(back.width, 13);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.data, im.data);
  const Image8 gray = read_image(dir.file("a.png"), 1);
  EXPECT_EQ(gray.channels, 1);
  ImageInfo info;
  ASSERT_TRUE(image_info(dir.file("a.png"), info));
  EXPECT_EQ(info.height, 7);
  EXPECT_FALSE(image_info(dir.file("none.png"), info));
  EXPECT_ERROR_HAS(read_image(dir.file("none.png")), "none.png: cannot open");
}

}  // namespace
}  // namespace fw

namespace fw {
namespace {

void write_bytes(const std::string& path, const std::vector<uint8_t>& b) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
}

std::string decode_error(const std::string& path) {
  try {
    read_image(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "decoded";
}

}  // namespace

// #16: stb_image picks its decoder from the content, so a 16-bit PNM named .png reached its PNM
// decoder (CVE-2021-42716, a heap over-read); and a few bytes of header could claim gigapixels.
// Only PNG, JPEG and BMP signatures reach stb, and the header's size is checked before decoding.
TEST(ImageIo, DecodesOnlyPngJpegBmpAndChecksTheSizeFirst) {
  ScratchDir dir;
  // A 16-bit binary PGM, 2x2, named .png.
  const std::string pnm = dir.file("trap.png");
  const std::string pgm = std::string("P5\n2 2\n65535\n") + std::string(8, '\x7f');
  write_bytes(pnm, std::vector<uint8_t>(pgm.begin(), pgm.end()));
  EXPECT_NE(decode_error(pnm).find("trap.png: cannot decode image (not a PNG, JPEG or BMP file"),
            std::string::npos)
      << decode_error(pnm);
  ImageInfo info;
  EXPECT_FALSE(image_info(pnm, info));
  // A PNG header claiming 30000x30000 RGB pixels, and nothing else.
  std::vector<uint8_t> png = {0x89, 'P',  'N', 'G', '\r', '\n', 0x1a, '\n', 0,    0, 0,
                              13,   'I',  'H', 'D', 'R',  0,    0,    0x75, 0x30, 0, 0,
                              0x75, 0x30, 8,   2,   0,    0,    0,    0,    0,    0, 0};
  const std::string huge = dir.file("huge.png");
  write_bytes(huge, png);
  const std::string e = decode_error(huge);
  EXPECT_NE(e.find("30000x30000 pixels, which would need 2.70 GB"), std::string::npos) << e;
  EXPECT_FALSE(image_info(huge, info));
  // A real PNG still decodes.
  Image8 img(3, 2, 3);
  img.data[0] = 200;
  const std::string ok = dir.file("ok.png");
  write_png(ok, img);
  const Image8 back = read_image(ok);
  EXPECT_EQ(back.width, 3);
  EXPECT_EQ(back.data[0], 200);
  ASSERT_TRUE(image_info(ok, info));
  EXPECT_EQ(info.width, 3);
}

}  // namespace fw
