#include "core/project_meta.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/templates.h"

namespace fw {

using json = nlohmann::json;

namespace {

const std::string* find_meta(const ProjectData& p, const std::string& key) {
  const auto it = p.meta.find(key);
  return it == p.meta.end() ? nullptr : &it->second;
}

json parse_meta(const std::string& key, const std::string& text) {
  try {
    return json::parse(text);
  } catch (const json::exception&) {
    throw Error("meta '" + key + "': not valid JSON");
  }
}

void check_samples(const ProjectData& p, const std::string& text) {
  const std::string what = "meta 'samples'";
  const json j = parse_meta("samples", text);
  if (!j.is_array()) throw Error(what + ": must be a JSON list");
  for (size_t i = 0; i < j.size(); ++i) {
    const json& s = j[i];
    const std::string at = what + ": item " + std::to_string(i);
    if (!s.is_object() || !s.contains("blob") || !s.at("blob").is_string())
      throw Error(at + " has no blob name");
    if (!p.blobs.count(s.at("blob").get<std::string>()))
      throw Error(at + ": blob '" + s.at("blob").get<std::string>() + "' is not in the project");
    if (!s.contains("label") || !s.at("label").is_number_integer() || s.at("label").get<int64_t>() < 0)
      throw Error(at + ": 'label' must be a non-negative integer");
    if (s.contains("box")) {
      const json& b = s.at("box");
      bool ok = b.is_array() && b.size() == 4;
      for (size_t k = 0; ok && k < 4; ++k) ok = b[k].is_number_integer();
      if (!ok) throw Error(at + ": 'box' must be [x0, y0, x1, y1] (integers)");
    }
  }
}

}  // namespace

void check_project_meta(const ProjectData& p) {
  auto prefixed = [](const std::string& key, auto&& check) {
    try {
      check();
    } catch (const Error& e) {
      // The pipeline's own messages start with "input pipeline:"/"input normalisation:".
      const std::string msg = e.what();
      throw Error("meta '" + key + "': " + msg.substr(msg.find(": ") + 2));
    }
  };
  if (const std::string* v = find_meta(p, "input_pipeline"))
    prefixed("input_pipeline", [&] { input_pipeline_from_json(*v); });
  if (const std::string* v = find_meta(p, "input_norm"))
    prefixed("input_norm", [&] { normalization_from_json(*v); });
  if (const std::string* v = find_meta(p, "class_names")) {
    const json j = parse_meta("class_names", *v);
    bool ok = j.is_array();
    for (size_t i = 0; ok && i < j.size(); ++i) ok = j[i].is_string();
    if (!ok) throw Error("meta 'class_names': must be a JSON list of strings");
  }
  if (const std::string* v = find_meta(p, "samples")) check_samples(p, *v);
  if (const std::string* v = find_meta(p, "train_epochs_done")) {
    size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(*v, &used);
    } catch (const std::exception&) {
    }
    if (n < 0 || used != v->size() || v->empty())
      throw Error("meta 'train_epochs_done': must be a non-negative integer, got '" + *v + "'");
  }
}

std::optional<InputPipeline> project_input_pipeline(const ProjectData& p, const Shape& input) {
  FW_ASSERT(input.size() == 3, "project_input_pipeline: input is [C, H, W]");
  InputPipeline pl;
  if (const std::string* v = find_meta(p, "input_pipeline")) {
    pl = input_pipeline_from_json(*v);
  } else if (const std::string* n = find_meta(p, "input_norm")) {
    pl.norm = normalization_from_json(*n);
    if (const std::string* d = find_meta(p, "dataset")) pl.dataset = *d;
    pl.height = int(input[1]), pl.width = int(input[2]);
    pl.net_channels = int(input[0]);
    pl.channels = pl.norm.mean.size() == 3 ? 3 : 1;  // one mean: gray data
    if (pl.dataset == "fashion-mnist" && pl.height > 28 && pl.width > 28) {
      pl.fit = Fit::Pad;
      pl.item_height = pl.item_width = 28;
    }
  } else {
    return std::nullopt;
  }
  if (pl.height != input[1] || pl.width != input[2] || pl.net_channels != input[0])
    throw Error("the project's images are prepared for a " + std::to_string(pl.net_channels) + "x" +
                std::to_string(pl.height) + "x" + std::to_string(pl.width) +
                " input (its training data), but the network now takes " + shape_str(input));
  return pl;
}

InputPipeline image_input_pipeline(const ProjectData& p, const Graph& g, const Shape& input) {
  if (input.size() != 3 || (input[0] != 1 && input[0] != 3))
    throw Error("image inputs need a 1- or 3-channel network; this one takes " + shape_str(input));
  if (std::optional<InputPipeline> pl = project_input_pipeline(p, input)) return *pl;
  double crop_pct = 1.0;
  const std::string tmpl = g.meta.has("template") ? g.meta.s("template") : "";
  for (const TemplateInfo& t : template_list())
    if (t.name == tmpl) crop_pct = t.crop_pct;
  return timm_eval_pipeline(input, crop_pct);
}

Normalization stored_normalization(const ProjectData& p) {
  if (const std::string* v = find_meta(p, "input_pipeline")) return input_pipeline_from_json(*v).norm;
  if (const std::string* v = find_meta(p, "input_norm")) return normalization_from_json(*v);
  return {};
}

}  // namespace fw
