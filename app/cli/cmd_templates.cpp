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
      "templates", "List the built-in templates with parameters and MACs at 3x224x224, 1000 classes");
  auto json_out = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json_out, "print a JSON array");
  cmd->callback([json_out] {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    if (!*json_out)
      std::printf("%-22s %14s %8s %16s %8s  %s\n", "template", "params", "", "MACs", "", "description");
    for (const TemplateInfo& t : template_list()) {
      const Analysis a = analyze(build_template(t.name));
      if (*json_out) {
        arr.push_back({{"name", t.name}, {"family", t.family}, {"params", a.total_params},
                       {"macs", a.total_macs}, {"description", t.description}});
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
