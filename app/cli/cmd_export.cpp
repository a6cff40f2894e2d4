// formwork export ARCH OUT...: the outputs of CONTRACT.md "Export": the ONNX model (--onnx) and the
// PyTorch file (--torch, core/export/model_export.h), the architecture file (--json) and diagrams
// (--svg, --pdf, --png with --diagram graph|circuit and --level MODULE). The picture is the one the
// GUI draws for that view and level (views/graph_diagram.h, views/circuit.h); the files are written
// all or none.
#include <cstdio>

#include "app/cli/cli.h"
#include "core/analysis.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/export/model_export.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/init.h"
#include "core/safetensors.h"
#include "core/weights.h"
#include "nas/mpi.h"
#include "nas/search.h"
#include "views/circuit.h"
#include "views/graph_diagram.h"
#include "views/picture_export.h"

namespace fw::cli {

namespace {

constexpr size_t kLevelsListed = 8;

bool is_container(const Node& n) {
  const OpDef* def = find_op(n.kind);
  return def ? def->cls != OpClass::Leaf : !n.children.empty();
}

// "stages.0, stages.1, ..." : the groups and blocks under the deepest existing module that
// `path` starts with (the top level when none), as suggestions for a --level that is not there.
std::string levels_near(const Graph& g, const std::string& path) {
  NodeId base = kNoNode;
  for (size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1))
    if (const NodeId id = g.find_path(path.substr(0, dot)); id != kNoNode) base = id;
  std::vector<std::string> names;
  size_t more = 0;
  for (NodeId id : g.children(base)) {
    if (!is_container(g.node(id)) || g.path(id).empty()) continue;
    if (names.size() < kLevelsListed)
      names.push_back(g.path(id));
    else
      ++more;
  }
  std::string s = format_list(names);
  if (more) s += ", ... (" + std::to_string(more) + " more)";
  return s;
}

// The level to draw: "" is the top level. The graph diagram draws a level's children, so it
// needs a group or block; the circuit diagram draws an op alone too.
NodeId find_level(const Graph& g, const std::string& spec, const std::string& path, bool graph) {
  if (path.empty()) return kNoNode;
  const NodeId id = g.find_path(path);
  if (id == kNoNode) {
    const std::string near = levels_near(g, path);
    throw Error("--level '" + path + "': no module of that name in " + spec +
                (near.empty() ? std::string() : " (levels there: " + near + ")"));
  }
  if (graph && !is_container(g.node(id))) {
    const NodeId parent = g.node(id).parent;
    throw Error("--level '" + path + "' is an op (" + g.node(id).kind +
                "), not a group or block: the graph diagram draws a level's children; give its "
                "level '" +
                (parent == kNoNode ? std::string() : g.path(parent)) +
                "', or --diagram circuit for the op alone");
  }
  return id;
}

// The weights an ONNX file carries: --weights W, fresh ones from --init-seed S, or the project's
// own when they fit the graph exactly (a search result's subnet usually has other shapes).
TensorMap export_weights(const LoadedArch& la, const std::string& file, const Analysis& an,
                         const std::string& weights, const std::optional<uint64_t>& init_seed) {
  if (!weights.empty()) {
    TensorMap w = read_safetensors(weights);
    require_weights_match(an, w, weights, la.spec);
    return w;
  }
  if (init_seed) return init_weights(an, *init_seed);
  if (!la.project.weights.empty()) {
    const WeightsMatch m = match_weights(an, la.project.weights);
    if (m.exact()) return la.project.weights;
    throw Error("the weights stored in " + file + " do not match " + la.spec + " (" + m.summary() +
                "); pass --weights W.safetensors or --init-seed S");
  }
  throw Error(la.spec +
              ": no weights to put in the ONNX file; pass --weights W.safetensors, or "
              "--init-seed S for freshly initialised ones (`formwork weights init` makes a file)");
}

// The model's name in the files: the template's, or the file's stem ("sample", "sample_result_7").
std::string export_name(const std::string& spec, int64_t result) {
  std::string name = spec;
  if (const size_t slash = name.find_last_of('/'); slash != std::string::npos)
    name.erase(0, slash + 1);
  if (const size_t dot = name.rfind('.'); dot != std::string::npos && dot > 0) name.resize(dot);
  if (result > 0) name += "_result_" + std::to_string(result);
  return name;
}

}  // namespace

void register_export(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export",
      "The network as ONNX (--onnx), a PyTorch file (--torch), an architecture file (--json) or "
      "diagrams (--svg, --pdf, --png)");
  cmd->footer(
      "--torch writes one Python file (torch only): an nn.Module class per kind of block and the "
      "model's class, whose state_dict names are Formwork's parameter names, with a safetensors "
      "reader; `python3 F.py W.safetensors X.npy Y.npy` writes the logits `formwork infer` gives "
      "(it needs no weights: W comes from `weights export` or `weights init`). "
      "--diagram graph is the editor's picture of the level (its nodes, ports, links and shapes; "
      "problems marked); --diagram circuit is the level's neural circuit diagram. SVG keeps text "
      "as text and is sized in px; PDF is one vector page, 1 unit = 1 pt; PNG is --width pixels "
      "wide (default: 1 pixel per unit), the height in proportion. Several outputs may be given; "
      "they are written all or none. --result ID exports a search result's subnet of the project "
      "(its search's base graph with the result's choices) instead of the project's graph.");
  struct Args {
    ArchArgs arch;
    std::string svg, pdf, png, json, onnx, torch, weights, diagram = "graph", level;
    std::optional<uint64_t> init_seed;
    int width = 0;
    int64_t result = 0;
  };
  auto a = std::make_shared<Args>();
  add_arch_options(cmd, a->arch);
  cmd->add_option("--svg", a->svg, "write the diagram as SVG (*.svg)");
  cmd->add_option("--pdf", a->pdf, "write the diagram as a one-page vector PDF (*.pdf)");
  cmd->add_option("--png", a->png, "write the diagram as a PNG (*.png)");
  cmd->add_option("--json", a->json,
                  "write the architecture file (*.json; every ARCH command reads it)");
  cmd->add_option("--onnx", a->onnx,
                  "write the network as ONNX (*.onnx: opset 17, weights inside, input `input` "
                  "[batch,C,H,W], output `logits`)");
  cmd->add_option("--weights", a->weights,
                  "--onnx: the weights (*.safetensors; default: the project's, when they fit)");
  cmd->add_option("--init-seed", a->init_seed,
                  "--onnx: freshly initialised weights from this seed (as `weights init --seed`)")
      ->check(non_negative());
  cmd->add_option("--torch", a->torch,
                  "write the network as one PyTorch file (*.py: nn.Modules with Formwork's "
                  "parameter names, a safetensors reader, a __main__ that runs it)");
  cmd->add_option("--result", a->result,
                  "a project's search result: export that subnet (ids: `formwork results`)")
      ->check(CLI::PositiveNumber);
  auto* width =
      cmd->add_option("--width", a->width, "--png: the width in pixels (default: 1 per unit)")
          ->check(CLI::Range(1, 32768));
  cmd->add_option("--diagram", a->diagram, "graph (default) or circuit")
      ->check(CLI::IsMember({"graph", "circuit"}));
  cmd->add_option(
      "--level", a->level,
      "module path of the level to draw, e.g. stages.0.blocks.0 (default: the top level)");
  cmd->callback([a, width] {
    using views::PictureFormat;
    std::vector<std::pair<PictureFormat, std::string>> outputs;
    if (!a->svg.empty()) outputs.push_back({PictureFormat::Svg, a->svg});
    if (!a->pdf.empty()) outputs.push_back({PictureFormat::Pdf, a->pdf});
    if (!a->png.empty()) outputs.push_back({PictureFormat::Png, a->png});
    if (outputs.empty() && a->json.empty() && a->onnx.empty() && a->torch.empty())
      throw UsageError(
          "export: nothing to write: give --onnx F, --torch F, --json F, --svg F, "
          "--pdf F or --png F");
    if ((!a->weights.empty() || a->init_seed) && a->onnx.empty())
      throw UsageError("--weights and --init-seed are the ONNX file's weights: they need --onnx F");
    if (!a->weights.empty() && a->init_seed)
      throw UsageError("--weights and --init-seed both give the weights: choose one");
    if (!a->onnx.empty() && !onnx_export_available())
      throw Error("this build has no ONNX export: cannot write " + a->onnx +
                  " (install libonnx-dev libprotobuf-dev and rebuild)");
    if (width->count() > 0 && a->png.empty())
      throw UsageError("--width is the width of the PNG: it needs --png F");
    if (a->result > 0 && !ends_with(a->arch.arch, ".formwork"))
      throw UsageError("--result needs a project file (*.formwork), got '" + a->arch.arch + "'");
    if (!outputs.empty() && !views::picture_export_available())
      throw Error(std::string("this build has no Qt 6: cannot write ") +
                  views::picture_format_name(outputs.front().first) +
                  " files (install qt6-base-dev and rebuild)");

    LoadedArch la = load_arch(a->arch.arch, a->arch.options());
    if (a->result > 0) {
      la.graph = result_graph(la.project, a->result, a->arch.arch);
      la.spec = a->arch.arch + " result " + std::to_string(a->result);
    }
    // The pictures show the project's search space as the editor does (the ◆ badges); the
    // architecture file is the network alone.
    const Graph& g = la.graph;
    const Analysis an = analyze(g);
    const bool graph = a->diagram == "graph";
    const NodeId level = find_level(g, la.spec, a->level, graph);
    // The picture is laid out only when a picture file is asked for.
    const views::Picture picture = outputs.empty() ? views::Picture{}
                                   : graph         ? views::graph_picture(g, an, level)
                                                   : views::circuit_picture(g, an, level);

    std::vector<std::pair<std::string, std::vector<uint8_t>>> files;
    if (!a->onnx.empty()) {
      require_exportable(an, la.spec);
      const TensorMap weights = export_weights(la, a->arch.arch, an, a->weights, a->init_seed);
      const ExportInfo info{export_name(a->arch.arch, a->result), kFormworkBuild};
      files.push_back({a->onnx, onnx_model_bytes(g, an, weights, info)});
    }
    if (!a->torch.empty()) {
      require_exportable(an, la.spec);
      const ExportInfo info{export_name(a->arch.arch, a->result), kFormworkBuild};
      const std::string text = torch_module_source(g, an, info);
      files.push_back({a->torch, std::vector<uint8_t>(text.begin(), text.end())});
    }
    if (!a->json.empty()) {
      Graph arch = g;
      arch.meta.erase(kSearchSpaceMeta);
      const std::string text = graph_to_json(arch) + "\n";
      files.push_back({a->json, std::vector<uint8_t>(text.begin(), text.end())});
    }
    for (const auto& [format, path] : outputs)
      files.push_back({path, views::encode_picture(picture, format, path, a->width)});
    write_files_atomic(files);
    if (!a->onnx.empty())
      std::printf("wrote %s (ONNX opset 17, %s parameters, %s)\n", a->onnx.c_str(),
                  format_count(an.total_params).c_str(),
                  format_si(static_cast<double>(files.front().second.size())).append("B").c_str());
    if (!a->torch.empty())
      std::printf("wrote %s (PyTorch module, %s parameters)\n", a->torch.c_str(),
                  format_count(an.total_params).c_str());
    if (!a->json.empty())
      std::printf("wrote %s (architecture, %s parameters)\n", a->json.c_str(),
                  format_count(an.total_params).c_str());
    for (const auto& [format, path] : outputs) {
      const views::PictureSize s = views::picture_output_size(picture, format, a->width);
      std::printf("wrote %s (%s, %d\xC3\x97%d)\n", path.c_str(), views::picture_format_name(format),
                  s.width, s.height);
    }
    if (!an.ok())
      std::fprintf(stderr,
                   "formwork: warning: %s has %zu problem%s, marked in the diagram (first: %s)\n",
                   la.spec.c_str(), an.problems.size(), an.problems.size() == 1 ? "" : "s",
                   an.problems.front().message.c_str());
  });
}

}  // namespace fw::cli
