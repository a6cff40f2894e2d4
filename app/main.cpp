// formwork: one binary, two faces. `formwork COMMAND ...` runs headless (app/cli/); anything else
// opens the GUI (app/gui/, when built with FORMWORK_GUI=ON).
#include <cstdio>
#include <string>

#include "app/cli/cli.h"

int main(int argc, char** argv) {
  if (argc >= 2 && fw::cli::is_command(argv[1])) return fw::cli::run(argc, argv);
  std::fprintf(stderr,
               "formwork: error: this build has no GUI (configured with FORMWORK_GUI=OFF); "
               "run `formwork --help` for the headless commands\n");
  return 2;
}
