// Image-folder datasets: one sub-folder per class (the contract is in core/datasets.h, section 3).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "core/datasets.h"
#include "core/datasets_internal.h"
#include "core/error.h"
#include "core/image_io.h"
#include "core/init.h"

namespace fw {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string rel;  // path relative to the dataset root: "train/cat/001.png" or "cat/001.png"
  int64_t label = 0;
};

bool hidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

bool is_image_name(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  for (char& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "bmp";
}

// Names in `dir` (non-hidden) that are directories (want_dirs) or image files, in byte order.
std::vector<std::string> list(const fs::path& dir, bool want_dirs) {
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(dir, ec), end;
  if (ec) throw Error(dir.string() + ": cannot list (" + ec.message() + ")");
  for (; it != end; it.increment(ec)) {
    if (ec) throw Error(dir.string() + ": cannot list (" + ec.message() + ")");
    const std::string name = it->path().filename().string();
    if (hidden(name)) continue;
    std::error_code ec2;
    const bool d = it->is_directory(ec2);  // follows symlinks
    if (want_dirs ? d : (!d && is_image_name(name))) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> class_folders(const fs::path& dir) {
  std::vector<std::string> classes = list(dir, true);
  if (classes.empty())
    throw Error(dir.string() +
                ": no class sub-folders (expected one sub-folder of PNG/JPEG images per class)");
  return classes;
}

// Appends the images of every class folder under `base` (relative to root as `prefix`).
void add_class_images(const fs::path& root, const std::string& prefix,
                      const std::vector<std::string>& folders,
                      const std::vector<std::string>& classes, std::vector<Entry>& out) {
  for (const std::string& cls : folders) {
    const auto it = std::find(classes.begin(), classes.end(), cls);
    if (it == classes.end())
      throw Error((root / prefix / cls).string() + ": class '" + cls +
                  "' has no folder in the train split");
    const std::vector<std::string> files = list(root / prefix / cls, false);
    if (files.empty())
      throw Error((root / prefix / cls).string() + ": no images (.png, .jpg, .jpeg, .bmp)");
    for (const std::string& f : files)
      out.push_back(Entry{prefix.empty() ? cls + "/" + f : prefix + "/" + cls + "/" + f,
                          int64_t(it - classes.begin())});
  }
}

struct Layout {
  std::vector<std::string> classes;
  std::vector<Entry> train, test;
  std::string test_dir;  // for messages: where the test split comes from
};

Layout scan(const fs::path& root, double holdout) {
  Layout L;
  std::error_code ec;
  const bool split_dirs =
      fs::is_directory(root / "train", ec) &&
      (fs::is_directory(root / "test", ec) || fs::is_directory(root / "val", ec));
  if (split_dirs) {
    const std::string test = fs::is_directory(root / "test", ec) ? "test" : "val";
    L.classes = class_folders(root / "train");
    add_class_images(root, "train", L.classes, L.classes, L.train);
    add_class_images(root, test, class_folders(root / test), L.classes, L.test);
    L.test_dir = (root / test).string();
    return L;
  }
  if (!(holdout >= 0.0 && holdout < 1.0))
    throw UsageError("image folder hold-out fraction must be in [0, 1), got " +
                     std::to_string(holdout));
  L.classes = class_folders(root);
  std::vector<Entry> all;
  add_class_images(root, "", L.classes, L.classes, all);
  for (Entry& e : all) {
    const double u = double(hash_name(e.rel)) * 0x1.0p-64;  // rel is "<class>/<file name>"
    (u < holdout ? L.test : L.train).push_back(std::move(e));
  }
  L.test_dir = root.string() + " (hold-out " + std::to_string(holdout) + ")";
  return L;
}

}  // namespace

Dataset load_image_folder(const std::string& dir, const std::string& split,
                          const LoadOptions& opt) {
  const fs::path root(dir);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw Error(dir + ": not a directory");
  if (opt.channels != 0 && opt.channels != 1 && opt.channels != 3)
    throw UsageError("image folder channels must be 0 (auto), 1 or 3, got " +
                     std::to_string(opt.channels));
  Layout L = scan(root, opt.holdout);
  if (L.train.empty())
    throw Error(dir + ": the train split is empty (every image fell into the hold-out)");
  std::vector<Entry>& entries = split == "train" ? L.train : L.test;
  if (entries.empty())
    throw Error((split == "train" ? dir : L.test_dir) + ": the " + split + " split has no images");
  if (opt.limit > 0 && int64_t(entries.size()) > opt.limit) entries.resize(opt.limit);

  // Size and channels come from the train split, so both splits agree.
  int height = opt.image_size, width = opt.image_size;
  if (opt.image_size == 0) {
    ImageInfo first;
    const std::string path = (root / L.train[0].rel).string();
    if (!image_info(path, first)) throw Error(path + ": cannot decode image (unreadable header)");
    height = first.height;
    width = first.width;
  }
  int channels = opt.channels;
  if (channels == 0) {
    std::vector<uint8_t> colour(L.train.size(), 0);
    dataset_parallel_for(int64_t(L.train.size()), opt.threads, [&](int64_t i) {
      ImageInfo info;
      const std::string path = (root / L.train[i].rel).string();
      if (!image_info(path, info)) throw Error(path + ": cannot decode image (unreadable header)");
      colour[i] = info.channels >= 3;
    });
    channels = std::count(colour.begin(), colour.end(), 1) > 0 ? 3 : 1;
  }

  Dataset ds;
  ds.name = dir;
  ds.split = split;
  ds.channels = channels;
  ds.height = height;
  ds.width = width;
  ds.class_names = L.classes;
  const int pad = (height + 4) / 8;
  ds.augment = Augment{pad, PadMode::Reflect, true};
  const int64_t n = int64_t(entries.size());
  const int64_t plane = int64_t(height) * width;
  ds.pixels.resize(size_t(n) * channels * plane);
  ds.labels.resize(n);
  ds.files.resize(n);
  dataset_parallel_for(n, opt.threads, [&](int64_t i) {
    const Entry& e = entries[i];
    ds.labels[i] = e.label;
    ds.files[i] = e.rel;
    const Image8 img =
        resize_bilinear(read_image((root / e.rel).string(), channels), width, height);
    uint8_t* dst = ds.pixels.data() + i * channels * plane;
    for (int c = 0; c < channels; ++c)  // HWC -> CHW
      for (int64_t p = 0; p < plane; ++p) dst[c * plane + p] = img.data[p * channels + c];
  });
  return ds;
}

}  // namespace fw
