// formwork score ...
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/cli/engine.h"
#include "core/error.h"
#include "core/npy.h"
#include "nas/proxies.h"

namespace fw::cli {

void register_score(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "score",
      "Zero-cost proxies (synflow, grad_norm, snip, naswot, jacob_cov), params, MACs, latency");
  cmd->footer(
      "Definitions (Abdelfattah et al. 2021; NASWOT: Mellor et al. 2021). Layers = every conv2d "
      "and "
      "linear node, weight tensors only (not biases, norms, scales). L = mean cross-entropy on the "
      "labels.\n"
      "  grad_norm   = sum over layers of ||dL/dW||_2\n"
      "  snip        = sum over layers of sum |W * dL/dW|\n"
      "  synflow     = sum over layers of sum |W * dR/dW|, all parameters made absolute, one "
      "all-ones\n"
      "                image, R = sum of its logits; synflow_log = ln(synflow) as a log-sum-exp "
      "in\n"
      "                double precision (finite where synflow overflows)\n"
      "  jacob_cov   = -sum_i (ln(l_i + 1e-5) + 1/(l_i + 1e-5)), l = eigenvalues of the "
      "correlation\n"
      "                matrix of the per-sample input gradients of the summed logits (batch >= 2)\n"
      "  naswot      = ln|det K|, K[a,b] = units on which samples a, b agree in [pre-activation > "
      "0]\n"
      "                over the inputs of every GELU/ReLU/StarReLU/SquaredReLU\n"
      "  latency_ms  = median batch-1 forward time over 10 runs after 2 warm-ups\n"
      "A value that is not finite is reported as failed (text: `failed: not finite (NaN)`; JSON:\n"
      "null, and \"failed\": {name: reason}), with a warning on stderr.");
  struct Args {
    EngineArgs engine;
    std::string input, labels, proxies = "synflow,grad_norm,snip,naswot,jacob_cov";
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  add_engine_options(cmd, a->engine);
  cmd->add_option("--input", a->input, "input batch (*.npy float32 [B,C,H,W]) or an image file")
      ->required();
  cmd->add_option("--labels", a->labels, "labels (*.npy int64 [B]); needed by grad_norm and snip");
  cmd->add_option("--proxies", a->proxies, "comma-separated list (default: all five)");
  cmd->add_flag("--json", a->json, "print one JSON object: proxy name -> number");
  cmd->callback([a] {
    std::vector<std::string> names;
    std::stringstream ss(a->proxies);
    for (std::string n; std::getline(ss, n, ',');)
      if (!n.empty()) names.push_back(n);
    if (names.empty()) throw UsageError("--proxies: give at least one proxy");
    auto e = load_engine(a->engine);
    ProxyInput in;
    in.graph = &e->arch.graph;
    in.analysis = &e->analysis;
    in.backend = e->backend;
    in.weights = &e->weights;
    in.x = load_input(a->input, *e);
    const bool needs_labels = std::find(names.begin(), names.end(), "grad_norm") != names.end() ||
                              std::find(names.begin(), names.end(), "snip") != names.end();
    if (needs_labels) {
      if (a->labels.empty()) throw UsageError("score: grad_norm and snip need --labels L.npy");
      const LabelArray l = read_npy_labels(a->labels);
      if (l.shape.size() != 1)
        throw Error(a->labels + ": labels must be a 1-D array [B], got " + shape_str(l.shape));
      if (int64_t(l.data.size()) != in.x.dim(0))
        throw Error(a->labels + ": " + std::to_string(l.data.size()) + " labels for a batch of " +
                    std::to_string(in.x.dim(0)) + " in " + a->input);
      for (size_t i = 0; i < l.data.size(); ++i)
        if (l.data[i] < 0 || l.data[i] >= e->num_classes())
          throw Error(a->labels + ": label " + std::to_string(l.data[i]) + " of sample " +
                      std::to_string(i) + " is out of range for " +
                      std::to_string(e->num_classes()) + " classes");
      in.labels = l.data;
    }
    const std::map<std::string, double> r = compute_proxies(in, names);
    // A score that is not finite (an input that overflows the network, a proxy that degenerates)
    // is reported as failed, never printed as a number.
    std::map<std::string, std::string> failed;
    for (const auto& [k, v] : r)
      if (!std::isfinite(v)) {
        failed[k] = std::string("not finite (") +
                    (std::isnan(v) ? "NaN"
                     : v > 0       ? "+Inf"
                                   : "-Inf") +
                    ")";
        std::fprintf(stderr, "formwork: warning: %s failed: %s\n", k.c_str(), failed[k].c_str());
      }
    if (a->json) {
      nlohmann::ordered_json j = nlohmann::ordered_json::object();
      for (const auto& [k, v] : r) {
        if (k == "params" || k == "macs")
          j[k] = int64_t(v);  // integers, as in `info --json`
        else
          j[k] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
      }
      if (!failed.empty()) j["failed"] = failed;
      std::printf("%s\n", j.dump(1).c_str());
    } else {
      for (const auto& [k, v] : r) {
        if (failed.count(k))
          std::printf("%-12s failed: %s\n", k.c_str(), failed[k].c_str());
        else
          std::printf("%-12s %.9g\n", k.c_str(), v);
      }
    }
  });
}

}  // namespace fw::cli
