// Built-in architecture templates, built with timm's structure and parameter names.
//
// - template_names(): every template, in display order (CONTRACT.md lists the required ones).
// - build_template(name, opts): the graph at opts.input ([C,H,W]; H and W divisible by the
//   network's total stride: 32 for timm's MetaFormers, 16 for ViT/16 and caformer_mini64, 8 for
//   formwork_fm32) with opts.num_classes outputs; unset options take the template's defaults
//   (3x224x224 and 1000 classes for timm's; 1x32x32 / 1x64x64 and 10 for Formwork's own). Throws fw::Error
//   for an unknown name ("unknown template 'x'; see `formwork templates`") or a bad size.
// - RandFormer's mixing matrices and ViT's position embedding are sized for the input given here,
//   so those graphs run at that input size only.
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"

namespace fw {

struct TemplateOptions {
  Shape input;              // C, H, W; empty: the template's default (3x224x224 for timm's)
  int64_t num_classes = 0;  // 0: the template's default (1000 for timm's)
};

struct TemplateInfo {
  std::string name;
  std::string family;       // "poolformer", "metaformer", "vit", "formwork"
  std::string description;  // one line
  double crop_pct = 1.0;    // timm's eval preprocessing: resize to size/crop_pct, centre crop
};

const std::vector<TemplateInfo>& template_list();
std::vector<std::string> template_names();
bool is_template(const std::string& name);
Graph build_template(const std::string& name, const TemplateOptions& opts = {});

}  // namespace fw
