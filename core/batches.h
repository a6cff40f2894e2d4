// Mini-batches from a Dataset: deterministic shuffling, augmentation, normalisation.
//
// Use
//   BatchLoader train(ds, {.batch_size = 128, .seed = 7, .augment = true});
//   for (int64_t epoch = 0; epoch < epochs; ++epoch) {
//     train.start_epoch(epoch);
//     while (train.has_next()) {
//       Batch b = train.next_batch();   // b.images: [B, C, H, W] float32, b.labels: B
//       ...
//     }
//   }
//   BatchLoader eval(test, {.batch_size = 256, .shuffle = false});   // no augmentation
//
// Contract
//  - Epoch order: with shuffle, a Fisher-Yates permutation of [0, N) drawn from an fw::Rng seeded
//    by mix_seed(seed, {"shuffle", epoch}); without, 0..N-1. Batch b holds positions
//    [b*B, min((b+1)*B, N)) of that order; drop_last drops a final batch shorter than B.
//  - Augmentation (only when `augment`; the Augment used is `augmentation` if set, else the
//    dataset's recommendation): for each sample, an fw::Rng seeded by
//    mix_seed(seed, {"augment", epoch, dataset index}) draws, in this order, the crop offsets
//    dx then dy, each uniform in [0, 2*pad] (skipped when pad is 0), then the flip bit (skipped
//    when hflip is off). Output pixel (y, x) is the padded image at (y + dy, x + dx), i.e. the
//    source pixel (y + dy - pad, x + dx - pad), with Zero (value 0 before normalisation, as
//    torchvision's RandomCrop(padding=pad) does) or Reflect padding (torch's 'reflect': the edge
//    is not repeated); then a left-right mirror if the flip bit is set (RandomCrop, then
//    RandomHorizontalFlip). A sample's augmentation thus depends only on (seed, epoch, index),
//    not on the batch size, the position in the batch, or threads.
//  - Boxes (datasets that have them) follow the crop and the flip and are clipped to the image;
//    a box pushed fully out of the image becomes empty (x0 == x1 or y0 == y1).
//  - Normalisation: x = (v/255 - mean[c]) / std[c] with `norm` if given (a project's stored one),
//    else the dataset's; one value per output channel, or a single value used for all.
//  - Channels: `channels` 0 keeps the dataset's; 3 from a 1-channel dataset replicates the gray
//    plane (a 1-entry normalisation is replicated too). Other conversions are refused.
//  - prefetch > 0 assembles up to that many batches ahead on background threads; the batches are
//    the same as without prefetching (make_batch is a pure function of its arguments).
//  - make_batch(epoch, b): any batch of any epoch, without moving the cursor; safe to call from
//    several threads at once. The loader keeps a reference to the dataset: keep it alive.
//  - Errors: fw::UsageError for a batch size < 1, a normalisation whose size does not match the
//    channels, a reflect pad not smaller than the image, or an unsupported channel conversion.
#pragma once
#include <cstdint>
#include <deque>
#include <future>
#include <optional>
#include <vector>

#include "core/datasets.h"
#include "core/tensor.h"

namespace fw {

struct Batch {
  Tensor images;                 // [B, C, H, W], normalised
  std::vector<int64_t> labels;   // B
  std::vector<int64_t> indices;  // B dataset indices
  std::vector<Box> boxes;        // B, after augmentation; empty when the dataset has none
  int64_t epoch = 0, index = 0;  // batch `index` of epoch `epoch`

  int64_t size() const { return int64_t(labels.size()); }
};

struct BatchOptions {
  int64_t batch_size = 64;
  bool shuffle = true;                  // false: dataset order
  bool drop_last = false;               // drop a final batch shorter than batch_size
  uint64_t seed = 0;                    // shuffling and augmentation
  bool augment = false;                 // apply augmentation (training); false for evaluation
  std::optional<Augment> augmentation;  // unset = the dataset's recommendation
  Normalization norm;                   // empty = the dataset's
  int channels = 0;                     // 0 = the dataset's; 3 replicates a gray dataset
  int prefetch = 0;                     // batches assembled ahead on background threads
};

class BatchLoader {
 public:
  BatchLoader(const Dataset& ds, BatchOptions options);
  ~BatchLoader();
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  int64_t num_batches() const;
  // Sets the epoch (its order is computed now) and rewinds to its first batch.
  void start_epoch(int64_t epoch);
  int64_t epoch() const { return epoch_; }
  bool has_next() const { return cursor_ < num_batches(); }
  // The next batch of the current epoch; asserts has_next().
  Batch next_batch();
  Batch make_batch(int64_t epoch, int64_t b) const;
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  const Normalization& normalization() const { return norm_; }  // per output channel
  const Augment& augmentation() const { return aug_; }
  Shape sample_shape() const { return {channels_, ds_.height, ds_.width}; }

 private:
  Batch assemble(const std::vector<int64_t>& order, int64_t epoch, int64_t b) const;

  const Dataset& ds_;
  BatchOptions opt_;
  Normalization norm_;
  Augment aug_;
  int channels_ = 0;
  std::vector<std::vector<float>> lut_;  // per output channel: byte -> normalised value
  int64_t epoch_ = 0, cursor_ = 0, queued_ = 0;
  std::vector<int64_t> order_;
  std::deque<std::future<Batch>> ahead_;
};

// One sample as a normalised [C, H, W] tensor, without augmentation (for inference and views).
Tensor sample_tensor(const Dataset& ds, int64_t index, const Normalization& norm = {},
                     int channels = 0);

}  // namespace fw
