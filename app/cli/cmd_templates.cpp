// formwork templates [--json]
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/cli.h"
#include "core/analysis.h"
#include "core/format.h"
#include "core/templates.h"

namespace fw::cli {

void register_templates(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "templates",
      "List the built-in templates with parameters and MACs at their default size (timm's: "
      "3x224x224, 1000 classes; Formwork's own: 1x32x32 or 1x64x64, 10 classes)");
  auto json_out = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_out,
                "print a JSON array: name, family, params, macs, input [C,H,W], num_classes, description");
  cmd->callback([json_out] {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    if (!*json_out)
      std::printf("%-22s %14s %8s %16s %8s  %s\n", "template", "params", "", "MACs", "", "description");
    for (const TemplateInfo& t : template_list()) {
      const Graph g = build_template(t.name);
      const Analysis a = analyze(g);
      if (*json_out) {
        const Shape in = a.of(g.top_level_of_kind("input").at(0))->out.at(0);
        const Shape out = a.of(g.top_level_of_kind("output").at(0))->in.at(0);
        arr.push_back({{"name", t.name}, {"family", t.family}, {"params", a.total_params},
                       {"macs", a.total_macs}, {"input", in}, {"num_classes", out.back()},
                       {"description", t.description}});
      } else {
        std::printf("%-22s %14s %8s %16s %8s  %s\n", t.name.c_str(),
                    format_count(a.total_params).c_str(), format_si(double(a.total_params), "").c_str(),
                    format_count(a.total_macs).c_str(), format_si(double(a.total_macs), "").c_str(),
                    t.description.c_str());
      }
    }
    if (*json_out) std::printf("%s\n", arr.dump(2).c_str());
  });
}

}  // namespace fw::cli
