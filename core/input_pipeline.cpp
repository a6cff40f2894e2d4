#include "core/input_pipeline.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/batches.h"
#include "core/error.h"

namespace fw {

using json = nlohmann::json;

namespace {

// A [height, width] pair of sizes in 1..65536.
void read_size(const json& j, const char* key, int& height, int& width, const std::string& what) {
  if (!j.contains(key)) throw Error(what + ": '" + key + "' is missing");
  const json& v = j.at(key);
  if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer() || !v[1].is_number_integer())
    throw Error(what + ": '" + key + "' must be [height, width] (two integers)");
  const int64_t h = v[0].get<int64_t>(), w = v[1].get<int64_t>();
  if (h < 1 || w < 1 || h > 65536 || w > 65536)
    throw Error(what + ": '" + key + "' " + v.dump() + " is outside 1..65536");
  height = int(h), width = int(w);
}

int read_channels(const json& j, const char* key, const std::string& what) {
  if (!j.contains(key)) throw Error(what + ": '" + key + "' is missing");
  const json& v = j.at(key);
  if (!v.is_number_integer() || (v.get<int64_t>() != 1 && v.get<int64_t>() != 3))
    throw Error(what + ": '" + key + "' must be 1 or 3, got " + v.dump());
  return int(v.get<int64_t>());
}

std::vector<float> read_floats(const json& j, const char* key, const std::string& what) {
  if (!j.contains(key)) throw Error(what + ": '" + key + "' is missing");
  const json& v = j.at(key);
  if (!v.is_array()) throw Error(what + ": '" + key + "' must be a list of numbers");
  std::vector<float> out;
  for (const json& x : v) {
    if (!x.is_number()) throw Error(what + ": '" + key + "' must be a list of numbers");
    out.push_back(x.get<float>());
  }
  return out;
}

Normalization read_normalization(const json& j, const std::string& what) {
  if (!j.is_object()) throw Error(what + ": must be a JSON object");
  Normalization n{read_floats(j, "mean", what), read_floats(j, "std", what)};
  check_normalization(n, what);
  return n;
}

json parse(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    throw Error(what + ": not valid JSON");
  }
}

}  // namespace

void check_normalization(const Normalization& n, const std::string& what) {
  if (n.mean.empty()) throw Error(what + ": mean is empty");
  if (n.mean.size() > 4) throw Error(what + ": more than 4 channels");
  if (n.mean.size() != n.std.size())
    throw Error(what + ": " + std::to_string(n.mean.size()) + " means but " +
                std::to_string(n.std.size()) + " standard deviations");
  for (size_t c = 0; c < n.mean.size(); ++c) {
    if (!std::isfinite(n.mean[c]))
      throw Error(what + ": mean of channel " + std::to_string(c) + " is not finite");
    if (!(std::isfinite(n.std[c]) && n.std[c] > 0))
      throw Error(what + ": std of channel " + std::to_string(c) + " is not a positive number");
  }
}

InputPipeline input_pipeline_of(const Dataset& ds, const Normalization& norm, int net_channels) {
  InputPipeline p;
  p.dataset = ds.name;
  p.fit = ds.fit;
  if (p.fit == Fit::Pad) p.item_width = ds.item_width, p.item_height = ds.item_height;
  p.width = ds.width;
  p.height = ds.height;
  p.channels = ds.channels;
  p.net_channels = net_channels;
  p.norm = norm;
  return p;
}

InputPipeline timm_eval_pipeline(const Shape& input, double crop_pct) {
  FW_ASSERT(input.size() == 3 && (input[0] == 1 || input[0] == 3),
            "timm_eval_pipeline: input is [C, H, W] with C = 1 or 3");
  InputPipeline p;
  p.dataset = "timm eval transform";
  p.fit = Fit::Crop;
  p.crop_pct = crop_pct;
  p.channels = p.net_channels = int(input[0]);
  p.height = int(input[1]), p.width = int(input[2]);
  if (p.channels == 3)
    p.norm = {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
  else
    p.norm = {{0.449f}, {0.226f}};
  return p;
}

std::string input_pipeline_to_json(const InputPipeline& p) {
  const char* fit = p.fit == Fit::Pad ? "pad" : p.fit == Fit::Crop ? "crop" : "resize";
  json j = {{"dataset", p.dataset}, {"fit", fit}};
  if (p.fit == Fit::Pad) j["item_size"] = {p.item_height, p.item_width};
  if (p.fit == Fit::Crop) j["crop_pct"] = p.crop_pct;
  j["size"] = {p.height, p.width};
  j["channels"] = p.channels;
  j["net_channels"] = p.net_channels;
  j["mean"] = p.norm.mean;
  j["std"] = p.norm.std;
  return j.dump();
}

InputPipeline input_pipeline_from_json(const std::string& text) {
  const std::string what = "input pipeline";
  const json j = parse(text, what);
  if (!j.is_object()) throw Error(what + ": must be a JSON object");
  InputPipeline p;
  if (j.contains("dataset")) {
    if (!j.at("dataset").is_string()) throw Error(what + ": 'dataset' must be a string");
    p.dataset = j.at("dataset").get<std::string>();
  }
  if (!j.contains("fit") || !j.at("fit").is_string())
    throw Error(what + ": 'fit' must be \"pad\", \"resize\" or \"crop\"");
  const std::string fit = j.at("fit").get<std::string>();
  if (fit == "pad") {
    p.fit = Fit::Pad;
    read_size(j, "item_size", p.item_height, p.item_width, what);
  } else if (fit == "resize") {
    p.fit = Fit::Resize;
  } else if (fit == "crop") {
    p.fit = Fit::Crop;
    if (!j.contains("crop_pct") || !j.at("crop_pct").is_number())
      throw Error(what + ": 'crop_pct' (a number) is missing");
    p.crop_pct = j.at("crop_pct").get<double>();
    if (!(p.crop_pct > 0 && p.crop_pct <= 4))
      throw Error(what + ": 'crop_pct' must be in (0, 4], got " + j.at("crop_pct").dump());
  } else {
    throw Error(what + ": 'fit' must be \"pad\", \"resize\" or \"crop\", got \"" + fit + "\"");
  }
  read_size(j, "size", p.height, p.width, what);
  if (p.fit == Fit::Pad && (p.item_width > p.width || p.item_height > p.height))
    throw Error(what + ": items of " + std::to_string(p.item_height) + "x" +
                std::to_string(p.item_width) + " cannot be padded to " + std::to_string(p.height) +
                "x" + std::to_string(p.width));
  p.channels = read_channels(j, "channels", what);
  p.net_channels = read_channels(j, "net_channels", what);
  if (p.net_channels != p.channels && !(p.channels == 1 && p.net_channels == 3))
    throw Error(what + ": " + std::to_string(p.channels) + "-channel data cannot feed a " +
                std::to_string(p.net_channels) + "-channel network");
  p.norm = read_normalization(j, what);
  if (p.norm.mean.size() != 1 && int(p.norm.mean.size()) != p.channels)
    throw Error(what + ": " + std::to_string(p.norm.mean.size()) + " means for " +
                std::to_string(p.channels) + "-channel data");
  return p;
}

std::string normalization_to_json(const Normalization& n) {
  return json{{"mean", n.mean}, {"std", n.std}}.dump();
}

Normalization normalization_from_json(const std::string& text) {
  const std::string what = "input normalisation";
  return read_normalization(parse(text, what), what);
}

namespace {

// Copies w x h pixels from `from` at (fx, fy) into `to` at (tx, ty).
void copy_rect(const Image8& from, int fx, int fy, Image8& to, int tx, int ty, int w, int h) {
  const size_t row = size_t(w) * from.channels;
  for (int y = 0; y < h; ++y) std::copy_n(from.pixel(fx, fy + y), row, to.pixel(tx, ty + y));
}

// Python's int(round(x / 2)) for an integer x >= 0: halves go to the even neighbour.
int half_to_even(int d) {
  const int k = d / 2;
  return (d % 2 != 0 && k % 2 != 0) ? k + 1 : k;
}

Image8 resize_and_centre_crop(const Image8& img, const InputPipeline& p) {
  const int sh = int(std::floor(double(p.height) / p.crop_pct));
  const int sw = int(std::floor(double(p.width) / p.crop_pct));
  int nw = 0, nh = 0;
  if (sh == sw) {
    // torchvision's Resize(int): the shorter side to sh, the longer truncated.
    if (img.width <= img.height)
      nw = sh, nh = int(int64_t(sh) * img.height / img.width);
    else
      nh = sh, nw = int(int64_t(sh) * img.width / img.height);
  } else {
    // timm's ResizeKeepRatio: the smallest scale that covers sh x sw.
    const double r = std::max(double(sh) / img.height, double(sw) / img.width);
    nh = int(std::lround(img.height * r)), nw = int(std::lround(img.width * r));
  }
  nw = std::max(nw, p.width), nh = std::max(nh, p.height);
  const Image8 big = resize_bicubic(img, nw, nh);
  Image8 out(p.width, p.height, img.channels);
  copy_rect(big, half_to_even(nw - p.width), half_to_even(nh - p.height), out, 0, 0, p.width,
            p.height);
  return out;
}

}  // namespace

Image8 fit_image(const Image8& img, const InputPipeline& p) {
  if (p.fit == Fit::Crop) return resize_and_centre_crop(img, p);
  if (p.fit == Fit::Resize || (img.width == p.width && img.height == p.height))
    return resize_bilinear(img, p.width, p.height);
  const Image8 item = resize_bilinear(img, p.item_width, p.item_height);
  Image8 out(p.width, p.height, item.channels);
  copy_rect(item, 0, 0, out, (p.width - p.item_width) / 2, (p.height - p.item_height) / 2,
            item.width, item.height);
  return out;
}

Tensor pipeline_tensor(const Image8& img, const InputPipeline& p) {
  FW_ASSERT(img.channels == p.channels, "pipeline_tensor: decode the image at the pipeline's channels");
  const Image8 fitted = fit_image(img, p);
  // A one-item dataset, so that the batch loader's own normalisation makes the tensor.
  Dataset one;
  one.channels = p.channels;
  one.height = p.height;
  one.width = p.width;
  one.labels = {0};
  one.class_names = {""};
  one.pixels.resize(size_t(p.channels) * p.height * p.width);
  for (int c = 0; c < p.channels; ++c)
    for (int y = 0; y < p.height; ++y)
      for (int x = 0; x < p.width; ++x)
        one.pixels[(size_t(c) * p.height + y) * p.width + x] = fitted.pixel(x, y)[c];
  Tensor t = sample_tensor(one, 0, p.norm, p.net_channels == p.channels ? 0 : p.net_channels);
  t.shape.insert(t.shape.begin(), 1);
  return t;
}

Tensor pipeline_tensor(const std::string& image_path, const InputPipeline& p) {
  return pipeline_tensor(read_image(image_path, p.channels), p);
}

}  // namespace fw
