// formwork weights init|import|export
#include <algorithm>
#include <cstdio>

#include "app/cli/cli.h"
#include "core/analysis.h"
#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/init.h"
#include "core/safetensors.h"
#include "core/weights.h"

namespace fw::cli {

namespace {

void print_list(const char* title, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::printf("%s (%zu):\n", title, names.size());
  for (const std::string& n : names) std::printf("  %s\n", n.c_str());
}

}  // namespace

void register_weights(CLI::App& app) {
  auto* w = app.add_subcommand("weights", "Initialise, import and export weights (safetensors)");
  w->require_subcommand(1);

  // init -----------------------------------------------------------------------------------------
  {
    auto* cmd = w->add_subcommand(
        "init",
        "Write deterministic initial weights (timm's init: trunc. normal std .02 for "
        "conv/linear weights, zero biases, ones for norm weights, layer scale as the "
        "template says)");
    struct Args {
      ArchArgs arch;
      uint64_t seed = 0;
      std::string out;
    };
    auto a = std::make_shared<Args>();
    add_arch_options(cmd, a->arch);
    cmd->add_option("--seed", a->seed, "seed (same seed, same weights)")
        ->required()
        ->check(non_negative());
    cmd->add_option("--out", a->out, "output file (*.safetensors)")->required();
    cmd->callback([a] {
      const LoadedArch la = load_arch(a->arch.arch, a->arch.options());
      const Analysis an = analyze(la.graph);
      require_valid(an);
      write_safetensors(a->out, init_weights(an, a->seed), {{"format", "pt"}});
      std::printf("wrote %s: %zu tensors, %s parameters (seed %llu)\n", a->out.c_str(),
                  an.params.size(), format_count(an.total_params).c_str(),
                  (unsigned long long)a->seed);
    });
  }
  // import ---------------------------------------------------------------------------------------
  {
    auto* cmd = w->add_subcommand(
        "import",
        "Store weights in a project; lists missing, unexpected and mis-shaped tensors "
        "and refuses on any mismatch unless --partial");
    struct Args {
      std::string project, file;
      bool partial = false, reset_head = false;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("PROJECT", a->project, "project file (*.formwork)")->required();
    cmd->add_option("WEIGHTS", a->file, "weights (*.safetensors; F32, F16 or BF16)")->required();
    cmd->add_flag("--partial", a->partial,
                  "import the tensors that match; keep (or initialise) the others");
    cmd->add_flag("--reset-head", a->reset_head,
                  "initialise the classifier afresh when its shapes differ (another class count: "
                  "fine-tuning a pretrained checkpoint)");
    cmd->callback([a] {
      const ProjectLock lock(a->project, "importing weights");  // for the read-modify-write
      ProjectData p = load_project(a->project);
      const Graph g = graph_from_json(p.graph_json, a->project);
      const Analysis an = analyze(g);
      require_valid(an);
      TensorMap file = read_safetensors(a->file);
      require_finite_weights(file, a->file);
      // --reset-head: the classifier's mis-shaped tensors are dropped from the file (and so
      // initialised below) instead of refused.
      std::vector<std::string> reset;
      if (a->reset_head) {
        const NodeId head = find_classifier(g);
        if (head == kNoNode) throw Error(a->project + ": --reset-head found no classifier");
        const std::string prefix = g.path(head) + ".";
        for (const ParamInfo& pi : an.params) {
          auto it = file.find(pi.name);
          if (pi.name.rfind(prefix, 0) == 0 && (it == file.end() || it->second.shape != pi.shape)) {
            if (it != file.end()) file.erase(it);
            reset.push_back(pi.name);
            p.weights.erase(pi.name);
          }
        }
      }
      WeightsMatch m = match_weights(an, file);
      std::erase_if(m.missing, [&](const std::string& n) {
        return std::find(reset.begin(), reset.end(), n) != reset.end();
      });
      print_list("missing in the file", m.missing);
      print_list("unexpected in the file", m.unexpected);
      print_list("mis-shaped", m.misshaped);
      if (!m.exact() && !a->partial)
        throw Error(a->file + " does not match " + a->project + ": " +
                    std::to_string(m.missing.size()) + " missing, " +
                    std::to_string(m.unexpected.size()) + " unexpected, " +
                    std::to_string(m.misshaped.size()) +
                    " mis-shaped tensors (use --partial to import the matching ones)");
      for (const std::string& n : reset)
        std::printf("re-initialised (--reset-head): %s\n", n.c_str());
      TensorMap merged;
      int64_t imported = 0, kept = 0, initialised = 0;
      for (const ParamInfo& pi : an.params) {
        auto it = file.find(pi.name);
        if (it != file.end() && it->second.shape == pi.shape) {
          merged[pi.name] = std::move(it->second);
          ++imported;
        } else if (auto old = p.weights.find(pi.name);
                   old != p.weights.end() && old->second.shape == pi.shape) {
          merged[pi.name] = std::move(old->second);
          ++kept;
        } else {
          merged[pi.name] = init_param(pi, 0);
          ++initialised;
        }
      }
      p.weights = std::move(merged);
      save_project(a->project, p, &lock);
      std::printf("imported %lld tensors into %s", (long long)imported, a->project.c_str());
      if (kept || initialised)
        std::printf(" (%lld kept from the project, %lld initialised)", (long long)kept,
                    (long long)initialised);
      std::printf("\n");
    });
  }
  // export ---------------------------------------------------------------------------------------
  {
    auto* cmd = w->add_subcommand("export", "Write a project's weights to a safetensors file");
    struct Args {
      std::string project, out;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("PROJECT", a->project, "project file (*.formwork)")->required();
    cmd->add_option("--out", a->out, "output file (*.safetensors)")->required();
    cmd->callback([a] {
      const ProjectData p = load_project(a->project);
      if (p.weights.empty())
        throw Error(a->project + ": has no weights (use `formwork weights import` or train it)");
      write_safetensors(a->out, p.weights, {{"format", "pt"}});
      std::printf("wrote %s: %zu tensors\n", a->out.c_str(), p.weights.size());
    });
  }
}

}  // namespace fw::cli
