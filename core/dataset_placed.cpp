// fashion-mnist-placed: each item pasted at a random position on a larger canvas over mild
// clutter, with its box kept (the contract is in core/datasets.h, section 3).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/datasets.h"
#include "core/datasets_internal.h"
#include "core/error.h"
#include "core/init.h"

namespace fw {
namespace {

constexpr int kDefaultCanvas = 64;
constexpr uint64_t kPlacedStream = 0x706c61636564ULL;  // "placed"

// Uniform integer in [lo, hi] (hi >= lo). The modulo bias (< 2^-50 here) does not matter.
int uniform_int(Rng& rng, int lo, int hi) { return lo + int(rng.next() % uint64_t(hi - lo + 1)); }

// Tight box of the non-zero pixels of an item; the whole item when it has none.
Box content_box(const uint8_t* px, int rows, int cols) {
  Box b{cols, rows, 0, 0};
  for (int y = 0; y < rows; ++y)
    for (int x = 0; x < cols; ++x)
      if (px[y * cols + x]) {
        b.x0 = std::min(b.x0, x);
        b.y0 = std::min(b.y0, y);
        b.x1 = std::max(b.x1, x + 1);
        b.y1 = std::max(b.y1, y + 1);
      }
  if (b.x1 == 0) b = Box{0, 0, cols, rows};
  return b;
}

class Canvas {
 public:
  Canvas(uint8_t* px, int size) : px_(px), size_(size) { std::memset(px, 0, size_t(size) * size); }
  // Composites by max; points outside the canvas are dropped.
  void put(int x, int y, int v) {
    if (x < 0 || y < 0 || x >= size_ || y >= size_) return;
    uint8_t& p = px_[y * size_ + x];
    p = uint8_t(std::max<int>(p, v));
  }
  int size() const { return size_; }

 private:
  uint8_t* px_;
  int size_;
};

void draw_stroke(Canvas& c, Rng& rng) {
  const int x0 = uniform_int(rng, 0, c.size() - 1), y0 = uniform_int(rng, 0, c.size() - 1);
  int dx = uniform_int(rng, -12, 12), dy = uniform_int(rng, -12, 12);
  if (dx == 0 && dy == 0) dx = 1;
  const int v = uniform_int(rng, 40, 90);
  const int steps = std::max(std::abs(dx), std::abs(dy));
  // Integer DDA with rounding half away from zero: exact on every platform.
  auto along = [steps](int d, int k) {
    const int num = 2 * d * k;
    return num >= 0 ? (num + steps) / (2 * steps) : -((-num + steps) / (2 * steps));
  };
  for (int k = 0; k <= steps; ++k) c.put(x0 + along(dx, k), y0 + along(dy, k), v);
}

void draw_blob(Canvas& c, Rng& rng) {
  const int cx = uniform_int(rng, 0, c.size() - 1), cy = uniform_int(rng, 0, c.size() - 1);
  const int r = uniform_int(rng, 2, 4), v = uniform_int(rng, 40, 90);
  const int r2 = r * r;
  for (int dy = -r; dy <= r; ++dy)
    for (int dx = -r; dx <= r; ++dx) {
      const int d2 = dx * dx + dy * dy;
      if (d2 < r2) c.put(cx + dx, cy + dy, v * (r2 - d2) / r2);
    }
}

void draw_fragment(Canvas& c, Rng& rng, const IdxImages& items, int64_t self) {
  int64_t j = int64_t(rng.next() % uint64_t(items.count));
  if (j == self && items.count > 1) j = (j + 1) % items.count;
  const int rows = int(items.rows), cols = int(items.cols);
  const uint8_t* src = items.image(j);
  const Box b = content_box(src, rows, cols);
  const int s = uniform_int(rng, 8, 14);
  const int w = std::min(s, b.x1 - b.x0), h = std::min(s, b.y1 - b.y0);
  const int sx = uniform_int(rng, b.x0, b.x1 - w), sy = uniform_int(rng, b.y0, b.y1 - h);
  const int f = uniform_int(rng, 51, 90);  // 20%..35% of the item's intensity
  const int dx = uniform_int(rng, 0, c.size() - w), dy = uniform_int(rng, 0, c.size() - h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) c.put(dx + x, dy + y, src[(sy + y) * cols + sx + x] * f / 255);
}

// Sample i: clutter, then the item at a random position; returns the item's box.
Box render(uint8_t* out, int size, const IdxImages& items, int64_t i, uint64_t seed,
           uint64_t split_tag, int clutter) {
  Rng rng(mix_seed(seed, {kPlacedStream, split_tag, uint64_t(i)}));
  Canvas canvas(out, size);
  const int elements = clutter > 0 ? uniform_int(rng, (clutter + 1) / 2, clutter) : 0;
  for (int e = 0; e < elements; ++e) {
    switch (rng.next() % 3) {
      case 0:
        draw_stroke(canvas, rng);
        break;
      case 1:
        draw_blob(canvas, rng);
        break;
      default:
        draw_fragment(canvas, rng, items, i);
        break;
    }
  }
  const int rows = int(items.rows), cols = int(items.cols);
  const uint8_t* src = items.image(i);
  const Box b = content_box(src, rows, cols);
  const int w = b.x1 - b.x0, h = b.y1 - b.y0;
  const int x = uniform_int(rng, 0, size - w), y = uniform_int(rng, 0, size - h);
  for (int yy = 0; yy < h; ++yy)
    for (int xx = 0; xx < w; ++xx) canvas.put(x + xx, y + yy, src[(b.y0 + yy) * cols + b.x0 + xx]);
  return Box{x, y, x + w, y + h};
}

}  // namespace

Dataset make_placed(const IdxImages& items, const std::vector<uint8_t>& labels,
                    const std::string& split, const LoadOptions& opt) {
  const int size = opt.image_size > 0 ? opt.image_size : kDefaultCanvas;
  if (int64_t(labels.size()) != items.count)
    throw Error("fashion-mnist-placed: " + std::to_string(items.count) + " items but " +
                std::to_string(labels.size()) + " labels");
  if (items.count == 0) throw Error("fashion-mnist-placed: no items to place");
  if (items.rows > size || items.cols > size)
    throw Error("fashion-mnist-placed: image size " + std::to_string(size) +
                " is smaller than the " + std::to_string(items.rows) + "x" +
                std::to_string(items.cols) + " items");
  if (opt.clutter < 0) throw UsageError("fashion-mnist-placed: clutter must be >= 0");
  const int64_t n = opt.limit > 0 ? std::min(opt.limit, items.count) : items.count;
  Dataset ds;
  ds.name = "fashion-mnist-placed";
  ds.split = split;
  ds.channels = 1;
  ds.height = ds.width = size;
  ds.class_names = fashion_mnist_classes();
  int max_label = 0;
  for (uint8_t l : labels) max_label = std::max<int>(max_label, l);
  if (max_label >= ds.num_classes())  // synthetic items with more classes: number them
    for (int k = ds.num_classes(); k <= max_label; ++k) ds.class_names.push_back(std::to_string(k));
  ds.labels.assign(labels.begin(), labels.begin() + n);
  ds.augment = Augment{4, PadMode::Zero, true};
  ds.pixels.resize(size_t(n) * size * size);
  ds.boxes.resize(n);
  const uint64_t split_tag = hash_name(split);
  dataset_parallel_for(n, opt.threads, [&](int64_t i) {
    ds.boxes[i] = render(ds.pixels.data() + i * size * size, size, items, i, opt.seed, split_tag,
                         opt.clutter);
  });
  return ds;
}

}  // namespace fw
