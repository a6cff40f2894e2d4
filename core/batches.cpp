#include "core/batches.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/init.h"

namespace fw {
namespace {

constexpr uint64_t kShuffleStream = 0x73687566666c65ULL;  // "shuffle"
constexpr uint64_t kAugmentStream = 0x6175676d656e74ULL;  // "augment"

// torch's 'reflect' padding index: -1 -> 1, n -> n - 2 (the edge is not repeated).
int reflect_index(int i, int n) {
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

int clamp_int(int v, int lo, int hi) { return std::min(std::max(v, lo), hi); }

}  // namespace

BatchLoader::BatchLoader(const Dataset& ds, BatchOptions options)
    : ds_(ds), opt_(std::move(options)) {
  if (opt_.batch_size < 1)
    throw UsageError("batch size must be at least 1, got " + std::to_string(opt_.batch_size));
  channels_ = opt_.channels > 0 ? opt_.channels : ds.channels;
  if (channels_ != ds.channels && !(ds.channels == 1 && channels_ == 3))
    throw UsageError("cannot feed " + std::to_string(ds.channels) + "-channel images as " +
                     std::to_string(channels_) + " channels (only gray to RGB is supported)");
  norm_ = opt_.norm.empty() ? ds.norm : opt_.norm;
  if (norm_.empty()) norm_ = Normalization{{0.0f}, {1.0f}};  // plain v/255
  if (norm_.mean.size() != norm_.std.size())
    throw UsageError("normalisation has " + std::to_string(norm_.mean.size()) + " means but " +
                     std::to_string(norm_.std.size()) + " standard deviations");
  if (norm_.mean.size() == 1 && channels_ > 1) {
    norm_.mean.assign(channels_, norm_.mean[0]);
    norm_.std.assign(channels_, norm_.std[0]);
  }
  if (int(norm_.mean.size()) != channels_)
    throw UsageError("normalisation has " + std::to_string(norm_.mean.size()) +
                     " channels, the images have " + std::to_string(channels_));
  for (int c = 0; c < channels_; ++c) {
    if (!(norm_.std[c] > 0))
      throw UsageError("normalisation std of channel " + std::to_string(c) + " is not positive");
    std::vector<float> lut(256);
    for (int v = 0; v < 256; ++v) lut[v] = (float(v) / 255.0f - norm_.mean[c]) / norm_.std[c];
    lut_.push_back(std::move(lut));
  }
  if (opt_.augment) aug_ = opt_.augmentation ? *opt_.augmentation : ds.augment;
  if (aug_.pad < 0) throw UsageError("augmentation pad must be >= 0");
  if (aug_.pad_mode == PadMode::Reflect && (aug_.pad >= ds.height || aug_.pad >= ds.width))
    throw UsageError("reflect padding of " + std::to_string(aug_.pad) +
                     " needs images larger than that, got " + std::to_string(ds.height) + "x" +
                     std::to_string(ds.width));
  start_epoch(0);
}

BatchLoader::~BatchLoader() {
  for (auto& f : ahead_) f.wait();
}

int64_t BatchLoader::num_batches() const {
  const int64_t n = ds_.size(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

void BatchLoader::start_epoch(int64_t epoch) {
  for (auto& f : ahead_) f.wait();  // they read order_
  ahead_.clear();
  epoch_ = epoch;
  order_ = epoch_order(epoch);
  cursor_ = queued_ = 0;
}

std::vector<int64_t> BatchLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(ds_.size());
  std::iota(order.begin(), order.end(), int64_t(0));
  if (!opt_.shuffle) return order;
  Rng rng(mix_seed(opt_.seed, {kShuffleStream, uint64_t(epoch)}));
  for (int64_t i = int64_t(order.size()) - 1; i > 0; --i)
    std::swap(order[i], order[int64_t(rng.next() % uint64_t(i + 1))]);
  return order;
}

Batch BatchLoader::next_batch() {
  FW_ASSERT(has_next(),
            "next_batch past the end of the epoch: check has_next(), then call "
            "start_epoch(next epoch)");
  if (opt_.prefetch <= 0) return assemble(order_, epoch_, cursor_++);
  while (queued_ < num_batches() && int64_t(ahead_.size()) <= opt_.prefetch) {
    const int64_t b = queued_++, e = epoch_;
    ahead_.push_back(
        std::async(std::launch::async, [this, e, b] { return assemble(order_, e, b); }));
  }
  Batch out = ahead_.front().get();
  ahead_.pop_front();
  ++cursor_;
  return out;
}

Batch BatchLoader::make_batch(int64_t epoch, int64_t b) const {
  FW_ASSERT(b >= 0 && b < num_batches(), "make_batch: batch index out of range [0, num_batches())");
  if (epoch == epoch_) return assemble(order_, epoch, b);
  return assemble(epoch_order(epoch), epoch, b);
}

Batch BatchLoader::assemble(const std::vector<int64_t>& order, int64_t epoch, int64_t b) const {
  const int64_t lo = b * opt_.batch_size;
  const int64_t n = std::min(opt_.batch_size, ds_.size() - lo);
  const int H = ds_.height, W = ds_.width, C = channels_, pad = aug_.pad;
  const int64_t plane = int64_t(H) * W;
  Batch out;
  out.epoch = epoch;
  out.index = b;
  out.images = Tensor({n, C, H, W});
  out.labels.resize(n);
  out.indices.resize(n);
  if (!ds_.boxes.empty()) out.boxes.resize(n);
  for (int64_t k = 0; k < n; ++k) {
    const int64_t idx = order[lo + k];
    out.indices[k] = idx;
    out.labels[k] = ds_.labels[idx];
    // x: (C, H, W), the sample's slot in the batch.
    float* dst = out.images.ptr() + k * C * plane;
    const uint8_t* src = ds_.sample(idx);
    int dx = pad, dy = pad;  // no shift
    bool flip = false;
    if (aug_.enabled()) {
      Rng rng(mix_seed(opt_.seed, {kAugmentStream, uint64_t(epoch), uint64_t(idx)}));
      if (pad > 0) {
        dx = int(rng.next() % uint64_t(2 * pad + 1));
        dy = int(rng.next() % uint64_t(2 * pad + 1));
      }
      if (aug_.hflip) flip = (rng.next() >> 63) != 0;
    }
    for (int c = 0; c < C; ++c) {
      const uint8_t* sp = src + (ds_.channels == 1 ? 0 : c) * plane;
      const float* lut = lut_[c].data();
      float* dp = dst + c * plane;
      if (dx == pad && dy == pad && !flip) {  // plain copy
        for (int64_t p = 0; p < plane; ++p) dp[p] = lut[sp[p]];
        continue;
      }
      for (int y = 0; y < H; ++y) {
        int sy = y + dy - pad;
        const bool row_out = sy < 0 || sy >= H;
        if (row_out && aug_.pad_mode == PadMode::Reflect) sy = reflect_index(sy, H);
        for (int x = 0; x < W; ++x) {
          int sx = (flip ? W - 1 - x : x) + dx - pad;
          const bool col_out = sx < 0 || sx >= W;
          if (aug_.pad_mode == PadMode::Zero && (row_out || col_out)) {
            dp[y * W + x] = lut[0];
            continue;
          }
          if (col_out) sx = reflect_index(sx, W);
          dp[y * W + x] = lut[sp[sy * W + sx]];
        }
      }
    }
    if (!ds_.boxes.empty()) {
      const Box& s = ds_.boxes[idx];
      Box r{clamp_int(s.x0 + pad - dx, 0, W), clamp_int(s.y0 + pad - dy, 0, H),
            clamp_int(s.x1 + pad - dx, 0, W), clamp_int(s.y1 + pad - dy, 0, H)};
      if (flip) r = Box{W - r.x1, r.y0, W - r.x0, r.y1};
      out.boxes[k] = r;
    }
  }
  return out;
}

Tensor sample_tensor(const Dataset& ds, int64_t index, const Normalization& norm, int channels) {
  FW_ASSERT(index >= 0 && index < ds.size(), "sample_tensor: index out of range [0, ds.size())");
  BatchOptions o;
  o.batch_size = 1;
  o.shuffle = false;
  o.norm = norm;
  o.channels = channels;
  const BatchLoader loader(ds, o);
  Batch b = loader.make_batch(0, index);
  b.images.shape.erase(b.images.shape.begin());
  return std::move(b.images);
}

}  // namespace fw
