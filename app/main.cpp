// formwork: one binary, two faces. `formwork COMMAND ...` runs headless (app/cli/); anything else
// opens the GUI (app/gui/, when built with FORMWORK_GUI=ON).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/cli/cli.h"
#ifdef FORMWORK_WITH_GUI
#include "app/gui/gui.h"
#endif

#ifdef FORMWORK_WITH_GUI
// `formwork [--screenshot OUT.png [--view V] [--frames N] [--state OUT.json]] [--enter MODULE]
//           [--select MODULE] [--expand MODULE|all]... [--dialog templates|open|shortcuts]
//           [--input sample:K|dataset:NAME:SPLIT:I|IMAGE] [--layer MODULE] [--compare MODULE]
//           [--query I] [--class K] [--method gradcam|gradcam++|hirescam|layercam]
//           [--search NAME] [--search-tab results|study] [PROJECT]`
static int gui_main(int argc, char** argv) {
  fw::GuiOptions opts;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "formwork: error: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--screenshot") {
      opts.screenshot = value("--screenshot");
    } else if (arg == "--view") {
      opts.view = value("--view");
    } else if (arg == "--enter") {
      opts.enter = value("--enter");
    } else if (arg == "--select") {
      opts.select = value("--select");
    } else if (arg == "--expand") {
      opts.expand.push_back(value("--expand"));
    } else if (arg == "--dialog") {
      opts.dialog = value("--dialog");
    } else if (arg == "--state") {
      opts.state = value("--state");
    } else if (arg == "--input") {
      opts.input = value("--input");
    } else if (arg == "--layer") {
      opts.layer = value("--layer");
    } else if (arg == "--search") {
      opts.search = value("--search");
    } else if (arg == "--search-tab") {
      opts.search_tab = value("--search-tab");
    } else if (arg == "--compare") {
      opts.compare = value("--compare");
    } else if (arg == "--method") {
      opts.method = value("--method");
    } else if (arg == "--query" || arg == "--class") {
      const std::string v = value(arg.c_str());
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) {
        std::fprintf(stderr, "formwork: error: %s needs an index from 0 (got '%s')\n", arg.c_str(),
                     v.c_str());
        return 2;
      }
      (arg == "--query" ? opts.query : opts.cls) = n;
    } else if (arg == "--frames") {
      const std::string v = value("--frames");
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 100000) {
        std::fprintf(stderr, "formwork: error: --frames needs a count from 1 (got '%s')\n",
                     v.c_str());
        return 2;
      }
      opts.frames = static_cast<int>(n);
    } else if (arg.rfind("-", 0) == 0 || !opts.project.empty()) {
      std::fprintf(
          stderr,
          "formwork: error: unexpected '%s'; usage: formwork [--screenshot OUT.png "
          "[--view V] [--frames N] [--state OUT.json]] [--enter M] [--select M] "
          "[--expand M|all] [--dialog D] [--input I] [--layer M] [--compare M] [--query I] "
          "[--class K] [--method M] [PROJECT], or formwork COMMAND (see --help)\n",
          arg.c_str());
      return 2;
    } else {
      opts.project = arg;
    }
  }
  return fw::run_gui(opts);
}
#endif

int main(int argc, char** argv) {
  if (argc >= 2 && fw::cli::is_command(argv[1])) return fw::cli::run(argc, argv);
#ifdef FORMWORK_WITH_GUI
  return gui_main(argc, argv);
#else
  std::fprintf(stderr,
               "formwork: error: this build has no GUI (configured with FORMWORK_GUI=OFF); "
               "run `formwork --help` for the headless commands\n");
  return 2;
#endif
}
