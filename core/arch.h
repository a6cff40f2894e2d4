// Resolving an ARCH argument (CONTRACT.md: "Naming an architecture").
//
// - load_arch(spec, opts) accepts a built-in template name, an architecture file (*.json) or a
//   project file (*.formwork; its stored weights come along). Options: --num-classes K and
//   --input-size C,H,W. For templates they are build arguments; for files they edit the loaded
//   graph (input node size; the classifier's class count), and analysis then says whether the
//   graph still fits (RandFormer and ViT graphs are sized for one input).
// - Errors are fw::Error lines naming the file or template; a spec that is none of the three
//   says so ("'foo': not a template, *.json or *.formwork file; see `formwork templates`").
#pragma once
#include <optional>
#include <string>

#include "core/graph.h"
#include "core/project_store.h"

namespace fw {

struct ArchOptions {
  std::optional<int64_t> num_classes;
  std::optional<Shape> input;  // C, H, W
};

struct LoadedArch {
  std::string spec;      // as given
  std::string source;    // "template", "json" or "project"
  Graph graph;
  ProjectData project;   // source == "project": everything else the file holds (weights too)
};

LoadedArch load_arch(const std::string& spec, const ArchOptions& opts = {});

// "3,64,64" -> {3, 64, 64}; throws fw::UsageError with the reason.
Shape parse_input_size(const std::string& text);

// Sets the size of the graph's (single) input node.
void set_input_size(Graph& g, const Shape& chw);
// Sets the class count of the classifier feeding the graph's output: a composite with a
// `num_classes` attribute or a linear layer (out_features). Throws if none is found.
void set_num_classes(Graph& g, int64_t k);
// The classifier feeding the graph's single output: the nearest linear layer or block with a
// `num_classes` attribute (walking back through groups and parameterless ops); kNoNode if none.
NodeId find_classifier(const Graph& g);

bool ends_with(const std::string& s, const std::string& suffix);

}  // namespace fw
