// formwork: one binary, two faces. `formwork COMMAND ...` runs headless (app/cli/); anything else
// opens the GUI (app/gui/, when built with FORMWORK_GUI=ON).
//
// (setup branch: only the GUI face is wired here, for the screenshot tests; the lead's main.cpp
// with the CLI replaces this file.)
#include <cstdio>
#include <cstdlib>
#include <string>

#ifdef FORMWORK_WITH_GUI
#include "app/gui/gui.h"
#endif

int main(int argc, char** argv) {
#ifdef FORMWORK_WITH_GUI
  fw::GuiOptions opts;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "formwork: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--screenshot") {
      opts.screenshot = value("--screenshot");
    } else if (arg == "--view") {
      opts.view = value("--view");
    } else if (arg == "--frames") {
      opts.frames = std::atoi(value("--frames").c_str());
    } else if (arg.rfind("-", 0) == 0 || !opts.project.empty()) {
      std::fprintf(stderr,
                   "formwork: usage: formwork [--screenshot OUT.png [--view V] [--frames N]] "
                   "[PROJECT]\n");
      return 2;
    } else {
      opts.project = arg;
    }
  }
  return fw::run_gui(opts);
#else
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "formwork: no command given (this build has no GUI)\n");
  return 2;
#endif
}
