#include "core/arch.h"

#include <sys/stat.h>

#include "core/error.h"
#include "core/graph_json.h"
#include "core/templates.h"

namespace fw {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Shape parse_input_size(const std::string& text) {
  Shape s;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(part, &used);
    } catch (...) {
      used = 0;
    }
    if (part.empty() || used != part.size() || v < 1)
      throw UsageError("--input-size '" + text + "': expected C,H,W with positive integers, e.g. 3,64,64");
    s.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (s.size() != 3)
    throw UsageError("--input-size '" + text + "': expected three numbers C,H,W, e.g. 3,64,64");
  return s;
}

void set_input_size(Graph& g, const Shape& chw) {
  const std::vector<NodeId> inputs = g.top_level_of_kind("input");
  if (inputs.size() != 1)
    throw Error("--input-size needs a graph with exactly one input node (this one has " +
                std::to_string(inputs.size()) + ")");
  g.set_attr(inputs[0], "channels", chw[0]);
  g.set_attr(inputs[0], "height", chw[1]);
  g.set_attr(inputs[0], "width", chw[2]);
}

NodeId find_classifier(const Graph& g) {
  const std::vector<NodeId> outputs = g.top_level_of_kind("output");
  if (outputs.size() != 1) return kNoNode;
  PortRef r = g.node(outputs[0]).inputs.at(0);
  // Walk back through groups and parameterless ops to the op or block that makes the logits.
  for (int guard = 0; r.connected() && !r.group_input && guard < 64; ++guard) {
    const Node& n = g.node(r.node);
    const OpDef& def = op_def(n.kind);
    if (def.attr("num_classes") || n.kind == "linear") return n.id;
    if (def.cls == OpClass::Leaf) {
      if (n.inputs.empty()) break;
      r = n.inputs[0];
      continue;
    }
    r = n.outputs.at(r.port);
  }
  return kNoNode;
}

void set_num_classes(Graph& g, int64_t k) {
  if (g.top_level_of_kind("output").size() != 1)
    throw Error("--num-classes needs a graph with exactly one output node");
  const NodeId c = find_classifier(g);
  if (c == kNoNode)
    throw Error("--num-classes: found no classifier (a linear layer or head) feeding the output");
  g.set_attr(c, op_def(g.node(c).kind).attr("num_classes") ? "num_classes" : "out_features", k);
}

LoadedArch load_arch(const std::string& spec, const ArchOptions& opts) {
  LoadedArch out;
  out.spec = spec;
  if (is_template(spec)) {
    TemplateOptions t;
    if (opts.input) t.input = *opts.input;
    if (opts.num_classes) t.num_classes = *opts.num_classes;
    out.source = "template";
    out.graph = build_template(spec, t);
    return out;
  }
  struct stat st;
  const bool exists = ::stat(spec.c_str(), &st) == 0;
  if (ends_with(spec, ".json")) {
    out.source = "json";
    out.graph = read_graph_file(spec);
  } else if (ends_with(spec, ".formwork")) {
    out.source = "project";
    out.project = load_project(spec);
    out.graph = graph_from_json(out.project.graph_json, spec);
  } else if (exists) {
    throw Error(spec + ": not an architecture (expected a *.json or *.formwork file)");
  } else {
    throw Error("'" + spec + "': not a template, *.json or *.formwork file; see `formwork templates`");
  }
  try {
    if (opts.input) set_input_size(out.graph, *opts.input);
    if (opts.num_classes) set_num_classes(out.graph, *opts.num_classes);
  } catch (const Error& e) {
    throw Error(spec + ": " + e.what());
  }
  return out;
}

}  // namespace fw
