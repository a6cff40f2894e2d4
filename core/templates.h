// Built-in architecture templates, built with timm's structure and parameter names.
//
// - template_names(): every template, in display order (CONTRACT.md lists the required ones).
// - build_template(name, opts): the graph at opts.input ([C,H,W]; H and W divisible by 32 for
//   the MetaFormers, by the patch size for ViT) with opts.num_classes outputs. Throws fw::Error
//   for an unknown name ("unknown template 'x'; see `formwork templates`") or a bad size.
// - RandFormer's mixing matrices and ViT's position embedding are sized for the input given here,
//   so those graphs run at that input size only.
#pragma once
#include <string>
#include <vector>

#include "core/graph.h"

namespace fw {

struct TemplateOptions {
  Shape input = {3, 224, 224};  // C, H, W
  int64_t num_classes = 1000;
};

struct TemplateInfo {
  std::string name;
  std::string family;       // "poolformer", "metaformer", "vit", "formwork"
  std::string description;  // one line
};

const std::vector<TemplateInfo>& template_list();
std::vector<std::string> template_names();
bool is_template(const std::string& name);
Graph build_template(const std::string& name, const TemplateOptions& opts = {});

}  // namespace fw
