// formwork info ARCH [--json] [--depth N]
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "core/analysis.h"
#include "core/format.h"

namespace fw::cli {

namespace {

constexpr const char* kMacsRule =
    "MACs are multiply-accumulates per image: conv2d C_out*H_out*W_out*C_in/groups*kh*kw, "
    "linear tokens*in*out, attention's two matmuls (q*k^T and attn*v) 2*heads*N^2*head_dim, and "
    "random token mixing C*N^2. Biases, norms, activations, pooling, softmax, scales and adds "
    "count 0. Shapes are per sample (no batch): [C,H,W] maps, [N,C] tokens, [C] vectors.";

nlohmann::ordered_json shape_json(const std::vector<Shape>& out) {
  if (out.empty()) return nlohmann::ordered_json::array();
  return out[0];
}

}  // namespace

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Per node: name, op, output shape, params, MACs; totals");
  cmd->footer(kMacsRule);
  struct Args {
    ArchArgs arch;
    bool json = false;
    int depth = -1;
  };
  auto a = std::make_shared<Args>();
  add_arch_options(cmd, a->arch);
  cmd->add_flag("--json", a->json,
                "print JSON: arch, input, num_classes, params, trainable_params, macs, "
                "nodes [{name, op, depth, leaf, output, params, macs}] (a group's params and MACs include its children's), parameters [{name, shape, trainable}]");
  cmd->add_option("--depth", a->depth, "show nodes down to this hierarchy depth (default: all)");
  cmd->callback([a] {
    const LoadedArch la = load_arch(a->arch.arch, a->arch.options());
    const Graph& g = la.graph;
    const Analysis an = analyze(g);
    require_valid(an);

    Shape input;
    if (auto ins = g.top_level_of_kind("input"); !ins.empty()) input = an.of(ins[0])->out.at(0);
    int64_t classes = 0;
    if (auto outs = g.top_level_of_kind("output"); !outs.empty())
      classes = an.of(outs[0])->in.at(0).back();

    std::vector<std::pair<NodeId, int>> rows;  // node, depth
    for (NodeId id : g.preorder()) {
      const int depth = int(g.lineage(id).size()) - 1;
      if (a->depth >= 0 && depth > a->depth) continue;
      rows.push_back({id, depth});
    }
    if (a->json) {
      nlohmann::ordered_json j;
      j["arch"] = la.spec;
      j["input"] = input;
      j["num_classes"] = classes;
      j["params"] = an.total_params;
      j["trainable_params"] = an.total_trainable;
      j["macs"] = an.total_macs;
      nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
      for (auto [id, depth] : rows) {
        const NodeInfo* ni = an.of(id);
        nodes.push_back({{"name", g.path(id)}, {"op", g.node(id).kind}, {"depth", depth},
                         {"leaf", op_def(g.node(id).kind).cls == OpClass::Leaf},
                         {"output", shape_json(ni->out)}, {"params", ni->params},
                         {"macs", ni->macs}});
      }
      j["nodes"] = std::move(nodes);
      nlohmann::ordered_json params = nlohmann::ordered_json::array();
      for (const ParamInfo& p : an.params)
        params.push_back({{"name", p.name}, {"shape", p.shape}, {"trainable", p.trainable}});
      j["parameters"] = std::move(params);
      std::printf("%s\n", j.dump(1).c_str());
      return;
    }
    std::printf("%s: input %s, %lld classes\n\n", la.spec.c_str(), shape_str(input).c_str(),
                (long long)classes);
    std::printf("%-48s %-18s %-12s %14s %16s\n", "name", "op", "output", "params", "MACs");
    for (auto [id, depth] : rows) {
      const NodeInfo* ni = an.of(id);
      std::string name = std::string(size_t(depth) * 2, ' ') + g.path(id);
      if (g.node(id).name.empty()) name += "(" + g.node(id).kind + ")";
      std::printf("%-48s %-18s %-12s %14s %16s\n", name.c_str(), g.node(id).kind.c_str(),
                  ni->out.empty() ? "-" : shape_str(ni->out[0]).c_str(),
                  format_count(ni->params).c_str(), format_count(ni->macs).c_str());
    }
    const int64_t fixed = an.total_params - an.total_trainable;
    std::printf("\ntotal: %s parameters (%s)%s, %s MACs (%s) per image\n",
                format_count(an.total_params).c_str(), format_si(double(an.total_params), "").c_str(),
                fixed ? (", " + format_count(fixed) + " of them fixed").c_str() : "",
                format_count(an.total_macs).c_str(), format_si(double(an.total_macs), "").c_str());
  });
}

}  // namespace fw::cli
