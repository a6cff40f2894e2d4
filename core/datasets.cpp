// load_dataset: dispatch by name, Fashion-MNIST, normalisation statistics, shared helpers.
// fashion-mnist-placed is in core/dataset_placed.cpp, image folders in core/dataset_folder.cpp.
#include "core/datasets.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "core/datasets_internal.h"
#include "core/error.h"
#include "core/image_io.h"

namespace fw {
namespace {

constexpr const char* kDebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool is_file(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

enum class Kind { FashionMnist, Placed, Folder };

Kind dataset_kind(const std::string& name) {
  std::string n = name;
  std::replace(n.begin(), n.end(), '_', '-');
  if (n == "fashion-mnist") return Kind::FashionMnist;
  if (n == "fashion-mnist-placed") return Kind::Placed;
  if (is_dir(name)) return Kind::Folder;
  throw UsageError("unknown dataset '" + name +
                   "' (expected fashion-mnist, fashion-mnist-placed, or a directory with one "
                   "sub-folder of PNG/JPEG images per class)");
}

// "<dir>/<stem>.gz", else "<dir>/<stem>"; a clear error naming the package when neither exists.
std::string find_fashion_mnist_file(const std::string& dir, const std::string& stem) {
  const std::string base = dir + "/" + stem;
  if (is_file(base + ".gz")) return base + ".gz";
  if (is_file(base)) return base;
  throw Error("Fashion-MNIST not found: " + base +
              ".gz is missing (install it with: apt-get install dataset-fashion-mnist, or set "
              "FORMWORK_FASHION_MNIST_DIR to a folder holding the IDX files)");
}

IdxPair read_fashion_mnist(const std::string& split, const LoadOptions& opt) {
  const std::string dir =
      opt.fashion_mnist_dir.empty() ? default_fashion_mnist_dir() : opt.fashion_mnist_dir;
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string images = find_fashion_mnist_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels = find_fashion_mnist_file(dir, prefix + "-labels-idx1-ubyte");
  return read_idx_pair(images, labels, int(fashion_mnist_classes().size()));
}

Dataset load_fashion_mnist(const std::string& split, const LoadOptions& opt) {
  IdxPair p = read_fashion_mnist(split, opt);
  const int64_t n = opt.limit > 0 ? std::min(opt.limit, p.images.count) : p.images.count;
  const int rows = int(p.images.rows), cols = int(p.images.cols);
  const int size = opt.image_size > 0 ? opt.image_size : std::max(rows, cols);
  if (opt.image_size > 0 && opt.fit == Fit::Pad && (size < rows || size < cols))
    throw Error("fashion-mnist: image size " + std::to_string(size) +
                " is smaller than the 28x28 images; padding cannot shrink them (use resize)");
  Dataset ds;
  ds.name = "fashion-mnist";
  ds.split = split;
  ds.channels = 1;
  ds.height = ds.width = size;
  ds.class_names = fashion_mnist_classes();
  ds.labels.assign(p.labels.begin(), p.labels.begin() + n);
  ds.augment = Augment{2, PadMode::Zero, true};
  if (size == rows && size == cols) {
    ds.pixels.assign(p.images.pixels.begin(), p.images.pixels.begin() + n * rows * cols);
    return ds;
  }
  ds.pixels.assign(size_t(n) * size * size, 0);
  if (opt.fit == Fit::Pad) ds.fit = Fit::Pad, ds.item_width = cols, ds.item_height = rows;
  const int top = (size - rows) / 2, left = (size - cols) / 2;
  dataset_parallel_for(n, opt.threads, [&](int64_t i) {
    uint8_t* dst = ds.pixels.data() + i * size * size;
    const uint8_t* src = p.images.image(i);
    if (opt.fit == Fit::Pad) {
      for (int y = 0; y < rows; ++y)
        std::memcpy(dst + (y + top) * size + left, src + y * cols, cols);
    } else {
      Image8 im(cols, rows, 1);
      std::memcpy(im.data.data(), src, im.data.size());
      const Image8 r = resize_bilinear(im, size, size);
      std::memcpy(dst, r.data.data(), r.data.size());
    }
  });
  return ds;
}

Dataset load_placed(const std::string& split, const LoadOptions& opt) {
  IdxPair p = read_fashion_mnist(split, opt);
  return make_placed(p.images, p.labels, split, opt);
}

Dataset load_split(Kind kind, const std::string& name, const std::string& split,
                   const LoadOptions& opt) {
  switch (kind) {
    case Kind::FashionMnist:
      return load_fashion_mnist(split, opt);
    case Kind::Placed:
      return load_placed(split, opt);
    case Kind::Folder:
      return load_image_folder(name, split, opt);
  }
  return {};
}

}  // namespace

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                 "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                 "Bag",         "Ankle boot"};
  return names;
}

std::string default_fashion_mnist_dir() {
  const char* env = std::getenv("FORMWORK_FASHION_MNIST_DIR");
  return env && *env ? env : kDebianFashionMnistDir;
}

Image8 sample_image(const Dataset& ds, int64_t i) {
  FW_ASSERT(i >= 0 && i < ds.size(), "sample_image: index out of range [0, ds.size())");
  Image8 img(ds.width, ds.height, ds.channels);
  const uint8_t* src = ds.sample(i);  // CHW
  for (int y = 0; y < ds.height; ++y)
    for (int x = 0; x < ds.width; ++x)
      for (int c = 0; c < ds.channels; ++c)
        img.pixel(x, y)[c] = src[(size_t(c) * ds.height + y) * ds.width + x];
  return img;
}

Dataset load_dataset(const std::string& name_or_dir, const std::string& split,
                     const LoadOptions& options) {
  if (split != "train" && split != "test")
    throw UsageError("unknown split '" + split + "' (expected train or test)");
  if (options.limit < 0) throw UsageError("dataset limit must be >= 0");
  if (options.image_size < 0) throw UsageError("image size must be >= 0");
  const Kind kind = dataset_kind(name_or_dir);
  Dataset ds = load_split(kind, name_or_dir, split, options);
  if (options.normalization) {
    if (split == "train") {
      ds.norm = compute_normalization(ds);
    } else {
      LoadOptions o = options;
      o.normalization = false;
      ds.norm = compute_normalization(load_split(kind, name_or_dir, "train", o));
    }
  }
  return ds;
}

Normalization compute_normalization(const Dataset& ds) {
  const int c = ds.channels;
  const int64_t plane = int64_t(ds.height) * ds.width;
  std::vector<uint64_t> sum(c, 0), sq(c, 0);
  std::mutex mu;
  const int64_t n = ds.size();
  // Integer sums: exact, so the result does not depend on the thread count.
  const int threads = dataset_threads(0);
  const int64_t chunks = std::min<int64_t>(n, threads * 4);
  dataset_parallel_for(chunks, threads, [&](int64_t k) {
    std::vector<uint64_t> s(c, 0), q(c, 0);
    for (int64_t i = n * k / chunks; i < n * (k + 1) / chunks; ++i)
      for (int ch = 0; ch < c; ++ch) {
        const uint8_t* p = ds.sample(i) + ch * plane;
        for (int64_t j = 0; j < plane; ++j) {
          s[ch] += p[j];
          q[ch] += uint64_t(p[j]) * p[j];
        }
      }
    std::lock_guard<std::mutex> lock(mu);
    for (int ch = 0; ch < c; ++ch) {
      sum[ch] += s[ch];
      sq[ch] += q[ch];
    }
  });
  Normalization norm;
  const double count = double(n) * double(plane);
  for (int ch = 0; ch < c; ++ch) {
    const double mean = count > 0 ? double(sum[ch]) / count / 255.0 : 0.0;
    const double ex2 = count > 0 ? double(sq[ch]) / count / (255.0 * 255.0) : 0.0;
    const double sd = std::sqrt(std::max(ex2 - mean * mean, 0.0));
    norm.mean.push_back(float(mean));
    // A constant channel would divide by zero: use 1 (the values are then only centred).
    norm.std.push_back(sd > 1e-6 ? float(sd) : 1.0f);
  }
  return norm;
}

uint64_t mix_seed(uint64_t seed, std::initializer_list<uint64_t> parts) {
  uint64_t h = splitmix64(seed);
  for (uint64_t p : parts) h = splitmix64(h ^ splitmix64(p));
  return h;
}

int dataset_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? int(std::min(hw, 64u)) : 1;
}

void dataset_parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& fn) {
  const int64_t workers = std::min<int64_t>(dataset_threads(threads), n);
  if (workers <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  // On failures, rethrow the one at the lowest index so the message does not depend on timing.
  std::exception_ptr error;
  int64_t error_at = n;
  std::mutex mu;
  auto run = [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (i < error_at) {
          error_at = i;
          error = std::current_exception();
        }
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int64_t w = 1; w < workers; ++w)
    pool.emplace_back(run, n * w / workers, n * (w + 1) / workers);
  run(0, n / workers);
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace fw
