// formwork new PROJECT (--template NAME | --from ARCH) [--init-weights [--seed N]] [--force]
#include <sys/stat.h>

#include <cstdio>
#include <ctime>

#include "app/cli/cli.h"
#include "core/analysis.h"
#include "core/format.h"
#include "core/error.h"
#include "core/format.h"
#include "core/graph_json.h"
#include "core/init.h"
#include "core/templates.h"
#include "core/weights.h"

namespace fw::cli {

void register_new(CLI::App& app) {
  auto* cmd = app.add_subcommand("new", "Create a project file from a template or an architecture");
  struct Args {
    std::string project, template_name, from;
    ArchArgs arch;
    bool init = false, force = false;
    uint64_t seed = 0;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("PROJECT", a->project, "project file to create (*.formwork)")->required();
  auto* t = cmd->add_option("--template", a->template_name, "built-in template name");
  auto* f = cmd->add_option("--from", a->from, "architecture: template, *.json or *.formwork");
  t->excludes(f);
  add_arch_options(cmd, a->arch, /*positional_arch=*/false);
  cmd->add_flag("--init-weights", a->init, "store deterministic initial weights (timm's init)");
  cmd->add_option("--seed", a->seed, "seed for --init-weights (default 0)")->check(non_negative());
  cmd->add_flag("--force", a->force, "overwrite an existing project file");
  cmd->callback([a, cmd] {
    if (a->template_name.empty() && a->from.empty())
      throw UsageError("new: give --template NAME or --from ARCH");
    if (cmd->count("--seed") && !a->init) throw UsageError("new: --seed goes with --init-weights");
    if (!ends_with(a->project, ".formwork"))
      throw UsageError("new: the project file must end in .formwork (got '" + a->project + "')");
    struct stat st;
    if (!a->force && ::stat(a->project.c_str(), &st) == 0)
      throw Error(a->project + ": already exists; use --force to overwrite it");
    const std::string spec = a->template_name.empty() ? a->from : a->template_name;
    if (!a->template_name.empty() && !is_template(spec))
      throw Error("unknown template '" + spec + "'; see `formwork templates`");
    LoadedArch la = load_arch(spec, a->arch.options());
    const Analysis an = analyze(la.graph);
    require_valid(an);

    ProjectData p = la.source == "project" ? la.project : ProjectData{};
    p.graph_json = graph_to_json(la.graph);
    p.graph_format = kGraphFormatVersion;
    p.meta["created"] = now_iso8601();
    p.meta["created_by"] = "formwork 0.1.0";
    p.meta["source"] = spec;
    if (la.graph.meta.has("template")) p.meta["template"] = la.graph.meta.s("template");
    if (a->init) {
      p.weights = init_weights(an, a->seed);
    } else if (!p.weights.empty()) {
      // A project's weights come along only if they fit the graph as built here (--num-classes and
      // --input-size can change the shapes).
      const WeightsMatch m = match_weights(an, p.weights);
      if (!m.exact())
        throw Error(spec + ": its stored weights do not fit the new architecture (" + m.summary() +
                    "); use --init-weights for fresh ones");
    }
    save_project(a->project, p);
    std::printf("created %s: %s parameters, %s MACs%s\n", a->project.c_str(),
                format_count(an.total_params).c_str(), format_count(an.total_macs).c_str(),
                p.weights.empty() ? ", no weights" : ", with weights");
  });
}

}  // namespace fw::cli
