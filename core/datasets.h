// Image-classification datasets: Fashion-MNIST, fashion-mnist-placed and image folders.
//
// Index
//  1. Dataset        samples as uint8 CHW, labels, class names, optional boxes, recommendations
//  2. load_dataset   by name or directory, split "train" or "test"
//  3. The datasets   what each name means, exactly
//  4. Helpers        normalisation statistics, seeds, the placed generator on given items
//
// Batching, shuffling, augmentation and normalisation for training are in core/batches.h.
//
// 1. Dataset
//  - Pixels are stored as uint8 (a 60000 x 64 x 64 split is 246 MB as bytes, 983 MB as floats)
//    and turned into normalised float32 only when a batch is assembled: x = (v/255 - mean) / std.
//  - `norm` is the normalisation the dataset recommends: the per-channel mean and (population)
//    standard deviation of v/255 over the train split exactly as loaded (same options, `limit`
//    included), whichever split is loaded (LoadOptions::normalization = false skips this). The
//    training command stores it with the project and every later command uses the stored one.
//  - `augment` is the recommended training augmentation (see core/batches.h), per dataset below.
//  - `boxes` (fashion-mnist-placed only) are half-open pixel boxes x0 <= x < x1, y0 <= y < y1.
//
// 2. load_dataset(name_or_dir, split, options)
//  - name_or_dir: "fashion-mnist", "fashion-mnist-placed" (underscores accepted), or a directory.
//  - split: "train" or "test"; anything else is a fw::UsageError.
//  - Unknown names that are not directories: fw::UsageError listing what is accepted.
//  - Deterministic: the same arguments give the same bytes, whatever `threads` is.
//
// 3. The datasets
//  fashion-mnist
//    - The IDX files of Debian's dataset-fashion-mnist in LoadOptions::fashion_mnist_dir
//      (default $FORMWORK_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist):
//      {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (the names without .gz are accepted too).
//      A missing file is a fw::Error that says "apt-get install dataset-fashion-mnist".
//    - 60000 train / 10000 test, 1 x 28 x 28, 10 classes (fashion_mnist_classes()).
//    - image_size 0 or 28: as is. Larger: `fit` Pad centres the 28x28 image on a black square
//      (32 -> 2 pixels each side; odd margins put the extra pixel right/bottom); Resize scales it
//      bilinearly (core/image_io.h). Smaller than 28: Resize only.
//    - norm at 28x28: mean 0.2860, std 0.3530. augment: pad 2 (zero, i.e. background), hflip.
//  fashion-mnist-placed
//    - Sample i of a split is Fashion-MNIST item i of that split, label kept, pasted on a black
//      canvas of image_size x image_size (default 64; at least the item's extent) at a random
//      position where its visible content (the tight box of its non-zero pixels) lies fully inside
//      the canvas. That tight box, moved to the pasted position, is boxes[i] (an item with no
//      non-zero pixel counts as its whole extent).
//    - Mild clutter is drawn first, under the item (composited with max): between
//      ceil(clutter/2) and `clutter` elements (default clutter 4), each one of
//        stroke:   a 1-pixel line from a random point to an offset in [-12, 12]^2, intensity
//                  40..90 (of 255);
//        blob:     a disc of radius 2..4 whose intensity falls off as 1 - d^2/r^2, peak 40..90;
//        fragment: an 8..14 pixel square cut from another random item of the same split,
//                  scaled to 20..35% of its intensity.
//      Clutter can overlap the item; the box is the item's alone. clutter 0 draws none.
//    - Everything about sample i comes from its own generator seeded by (seed, split, i), so the
//      set does not depend on `threads`, and `limit` keeps the first samples unchanged.
//    - 1 x 64 x 64. augment: pad 4 (zero), hflip (boxes follow the crop and the flip).
//  a directory (image folder)
//    - Layout A: DIR/train/<class>/*.png and DIR/test/<class>/*.png (the test folder may be named
//      "val"); the classes are train's sub-folders, and test's must be among them.
//      Layout B: DIR/<class>/*.png; a deterministic hold-out makes the test split: a file is in
//      test when (FNV-1a hash of "<class>/<file name>") / 2^64 < `holdout` (default 0.1), so a
//      file keeps its split when files are added or removed.
//    - Classes are the sub-folder names in byte order (as torchvision's ImageFolder sorts them);
//      label k is the k-th. Files are taken in byte order of their names; extensions .png, .jpg,
//      .jpeg, .bmp (any case) are images, other files and hidden entries are ignored.
//    - Every image is decoded (core/image_io.h) and resized bilinearly, stretching, to
//      image_size x image_size; image_size 0 takes the first train image's own height and width.
//      channels: 1 (gray) or 3 (RGB); 0 picks 3 when any train image has colour, else 1.
//    - Errors (fw::Error naming the path): no class sub-folders, a class sub-folder without
//      images, an image that cannot be decoded, an empty split, a test class unknown to train.
//    - augment: pad round(H/8) reflect, hflip (the CIFAR recipe: 4 pixels at 32).
//
// 4. Helpers
//  - compute_normalization(ds): per-channel mean/std of v/255 over all of ds (exact integer sums,
//    so independent of threads); a constant channel gets std 1 instead of 0.
//  - mix_seed(seed, {parts...}): a 64-bit seed for a sub-stream (splitmix64 chain); used for the
//    per-sample generators here and in core/batches.h.
//  - make_placed(items, labels, split, options): the placed generator on given 28x28 items (how
//    load_dataset builds it; tests use it with synthetic items).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/idx.h"
#include "core/image_io.h"
#include "core/tensor.h"

namespace fw {

// Half-open pixel box: x0 <= x < x1, y0 <= y < y1.
struct Box {
  int32_t x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool operator==(const Box&) const = default;
};

// x = (v/255 - mean[c]) / std[c]; one value per channel.
struct Normalization {
  std::vector<float> mean, std;
  bool empty() const { return mean.empty(); }
  bool operator==(const Normalization&) const = default;
};

enum class PadMode { Zero, Reflect };

// How a dataset's items were brought to height x width: centred on black (Pad) or stretched
// (Resize: also when they were already that size). core/input_pipeline.h applies the same to an
// image file, and also has Crop (timm's eval transform), which no dataset uses.
enum class Fit { Pad, Resize, Crop };

// Training augmentation, applied per sample when a batch is assembled (core/batches.h).
struct Augment {
  int pad = 0;                       // random crop: pad each side by `pad`, crop H x W back
  PadMode pad_mode = PadMode::Zero;  // Zero (value 0 before normalisation) or Reflect
  bool hflip = false;                // mirror left-right with probability 1/2
  bool enabled() const { return pad > 0 || hflip; }
  bool operator==(const Augment&) const = default;
};

struct Dataset {
  std::string name;   // "fashion-mnist", "fashion-mnist-placed", or the directory
  std::string split;  // "train" or "test"
  int channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;  // size() samples of channels*height*width bytes, each CHW
  std::vector<int64_t> labels;  // in [0, num_classes())
  std::vector<std::string> class_names;
  std::vector<Box> boxes;          // empty, or one per sample
  std::vector<std::string> files;  // image folders: each sample's path relative to the root
  Normalization norm;              // recommended (train split statistics)
  Augment augment;                 // recommended for training
  Fit fit = Fit::Resize;           // how the items were fitted to height x width
  int item_width = 0, item_height = 0;  // Pad: the items' own size (Fashion-MNIST: 28 x 28)

  int64_t size() const { return int64_t(labels.size()); }
  int num_classes() const { return int(class_names.size()); }
  Shape sample_shape() const { return {channels, height, width}; }
  int64_t sample_bytes() const { return int64_t(channels) * height * width; }
  const uint8_t* sample(int64_t i) const { return pixels.data() + i * sample_bytes(); }
};

struct LoadOptions {
  int image_size = 0;         // output H = W; 0 = the dataset's own (28, 64, first image)
  Fit fit = Fit::Pad;         // fashion-mnist above 28: pad with black or resize
  int channels = 0;           // image folders: 0 auto, 1 gray, 3 RGB
  uint64_t seed = 0;          // fashion-mnist-placed generator seed
  int clutter = 4;            // fashion-mnist-placed: most clutter elements per image (0 = none)
  int64_t limit = 0;          // keep only the first `limit` samples of the split (0 = all;
                              // image folders are in class order: a limit cuts whole classes)
  double holdout = 0.1;       // image folders without train/test sub-folders: test fraction
  int threads = 0;            // decoding / generation threads (0 = hardware concurrency)
  bool normalization = true;  // compute `norm` (false: leave it empty, e.g. when the caller
                              // brings a project's stored one; saves loading the train split)
  std::string fashion_mnist_dir;  // "" = $FORMWORK_FASHION_MNIST_DIR or the Debian path
};

Dataset load_dataset(const std::string& name_or_dir, const std::string& split,
                     const LoadOptions& options = {});

// The ten Fashion-MNIST class names, label order.
const std::vector<std::string>& fashion_mnist_classes();
// Where Fashion-MNIST is looked for when LoadOptions::fashion_mnist_dir is empty.
std::string default_fashion_mnist_dir();

Normalization compute_normalization(const Dataset& ds);
// Sample i as an 8-bit image (HWC, the dataset's channels): what `data export` writes.
Image8 sample_image(const Dataset& ds, int64_t i);
uint64_t mix_seed(uint64_t seed, std::initializer_list<uint64_t> parts);

// fashion-mnist-placed from given items (any count, 28x28 or other sizes no larger than the
// canvas) and their labels; uses options.image_size, seed, clutter, limit and threads. The result
// has no norm set (load_dataset sets it from the train split).
Dataset make_placed(const IdxImages& items, const std::vector<uint8_t>& labels,
                    const std::string& split, const LoadOptions& options);

}  // namespace fw
