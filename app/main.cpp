// formwork: one binary, two faces. `formwork COMMAND ...` runs headless (app/cli/); anything else
// opens the GUI (app/gui/, when built with FORMWORK_GUI=ON).
#include <cstdio>

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "formwork: no command given\n");
  return 2;
}
