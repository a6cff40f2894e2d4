// formwork_graphcheck SPEC.json
//
// Runs a template through the CPU executor (kernels/backend.h) for the PyTorch cross-check
// tests/python/test_executor_vs_torch.py. Paths are relative to the spec file. A spec:
//   {
//     "template": "caformer_s18", "input_size": [3, 64, 64], "num_classes": 10,
//     "weights": "w.safetensors",       parameters by full name
//     "input": "x.npy", "threads": 2,
//     "output": "y.npy",                 logits (evaluation mode)
//     "grad_output": "gy.npy",           optional: runs backward with this upstream gradient
//     "grad_params": "gp.safetensors",   optional: all trainable parameter gradients
//     "grad_input": "gx.npy",            optional
//     "values": {"stages.1": {"value": "a.npy", "grad": "ga.npy"}},   optional: module outputs
//                                        kept, and their gradients ("grad" needs grad_output)
//     "attention": {"stages.2.blocks.0.token_mixer": "p.npy"}        optional: probabilities
//   }
// Exit status 0, or 1 with the error on stderr.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/analysis.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "core/templates.h"
#include "kernels/backend.h"
#include "kernels/parallel.h"
#include "npy_lite.h"

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fw::Tensor load(const fs::path& p) {
  fwtest::npy::Array a = fwtest::npy::read(p.string());
  return fw::Tensor(a.shape, std::move(a.data));
}

void save(const fs::path& p, const fw::Tensor& t) { fwtest::npy::write(p.string(), t.shape, t.data); }

void run(const fs::path& spec_path) {
  std::ifstream f(spec_path);
  if (!f) throw fw::Error("cannot open");
  const json spec = json::parse(f);
  const fs::path dir = spec_path.parent_path();
  if (spec.contains("threads")) fw::set_num_threads(spec["threads"].get<int>());

  fw::TemplateOptions opts;
  opts.input = spec.at("input_size").get<fw::Shape>();
  opts.num_classes = spec.at("num_classes").get<int64_t>();
  const fw::Graph g = fw::build_template(spec.at("template").get<std::string>(), opts);
  const fw::Analysis a = fw::analyze(g);
  fw::require_valid(a);
  auto ex = fw::cpu_backend().create(g, a);
  const fw::TensorMap weights = fw::read_safetensors((dir / spec.at("weights").get<std::string>()).string());
  ex->bind(weights);
  const fw::Tensor x = load(dir / spec.at("input").get<std::string>());

  const bool backward = spec.contains("grad_output");
  fw::RunOptions ro;
  ro.backward = backward;
  ro.grads.params = spec.contains("grad_params");
  ro.grads.inputs = spec.contains("grad_input");
  std::vector<std::pair<std::string, json>> values;
  if (spec.contains("values"))
    for (auto it = spec["values"].begin(); it != spec["values"].end(); ++it) {
      values.emplace_back(it.key(), it.value());
      const fw::ValueRef v = fw::find_value(g, ex->flat(), it.key());
      ro.keep.push_back(v);
      if (backward && it.value().contains("grad")) ro.grads.values.push_back(v);
    }
  std::vector<std::pair<int, std::string>> attention;
  if (spec.contains("attention"))
    for (auto it = spec["attention"].begin(); it != spec["attention"].end(); ++it) {
      const auto ops = fw::find_ops(g, ex->flat(), it.key(), "self_attention");
      if (ops.empty()) throw fw::Error("no self_attention under '" + it.key() + "'");
      ro.keep_attention.push_back(ops[0]);
      attention.emplace_back(ops[0], it.value().get<std::string>());
    }

  const std::vector<fw::Tensor> y = ex->forward({x}, ro);
  save(dir / spec.at("output").get<std::string>(), y.at(0));
  for (const auto& [path, out] : values)
    if (out.contains("value")) save(dir / out["value"].get<std::string>(), *ex->value(fw::find_value(g, ex->flat(), path)));
  for (const auto& [op, file] : attention) save(dir / file, *ex->attention(op));
  if (!backward) return;

  const fw::Gradients gr = ex->backward({load(dir / spec["grad_output"].get<std::string>())});
  if (spec.contains("grad_params"))
    fw::write_safetensors((dir / spec["grad_params"].get<std::string>()).string(), gr.params);
  if (spec.contains("grad_input")) save(dir / spec["grad_input"].get<std::string>(), gr.inputs.at(0));
  size_t k = 0;
  for (const auto& [path, out] : values)
    if (out.contains("grad")) save(dir / out["grad"].get<std::string>(), gr.values.at(k++));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: formwork_graphcheck SPEC.json\n");
    return 2;
  }
  try {
    run(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[1], e.what());
    return 1;
  }
  return 0;
}
