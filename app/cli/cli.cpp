#include "app/cli/cli.h"

#include <cstdio>
#include <set>

#include "core/error.h"
#include "core/project_lock.h"
#include "kernels/cuda/backends.h"
#include "nas/mpi.h"

namespace fw::cli {

namespace {
const std::set<std::string>& command_names() {
  static const std::set<std::string> names = {
      "templates", "info",  "new",     "weights", "infer",  "gradcam", "attention",
      "mixing",    "score", "bench",   "train",   "eval",   "data",    "export",
      "space",     "nas",   "results", "study",   "--help", "-h",      "--version"};
  return names;
}
// --version's CUDA state: "off" (a build without the CUDA backend), the GPU it runs on
// ("NVIDIA H200, sm_90, 143 GB, driver 13.0"), or "unavailable: <why>" (built, but no usable GPU).
std::string cuda_state() {
  const Backend* cuda = gpu::cuda_backend();
  if (!cuda) return "off";
  if (const std::string why = cuda->unavailable(); !why.empty()) return "unavailable: " + why;
  return gpu::cuda_status();
}

}  // namespace

bool is_command(const std::string& word) { return command_names().count(word) != 0; }

ArchOptions ArchArgs::options() const {
  ArchOptions o;
  o.num_classes = num_classes;
  if (!input_size.empty()) o.input = parse_input_size(input_size);
  return o;
}

const CLI::Validator& non_negative() {
  static const CLI::Validator v(
      [](std::string& s) {
        const size_t i = s.find_first_not_of(" \t");
        return i != std::string::npos && s[i] == '-' ? "must be 0 or more, got " + s
                                                     : std::string();
      },
      "N >= 0");
  return v;
}

void add_arch_options(CLI::App* cmd, ArchArgs& a, bool positional_arch) {
  if (positional_arch)
    cmd->add_option("ARCH", a.arch,
                    "template name, architecture file (*.json) or project file (*.formwork)")
        ->required();
  cmd->add_option("--num-classes", a.num_classes, "number of classes of the classifier")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  cmd->add_option("--input-size", a.input_size, "input size C,H,W, e.g. 3,64,64");
}

int run(int argc, char** argv) {
  CLI::App app{
      "Formwork: design, run and look inside MetaFormer networks.\n"
      "  formwork [PROJECT]                 open the GUI (the bundled sample without PROJECT)\n"
      "  formwork --screenshot OUT.png ...  render the GUI headlessly to a PNG\n"
      "  formwork COMMAND ...               run headless (below)",
      "formwork"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "formwork");
  register_templates(app);
  register_info(app);
  register_new(app);
  register_weights(app);
  register_infer(app);
  register_gradcam(app);
  register_attention(app);
  register_mixing(app);
  register_score(app);
  register_bench(app);
  register_train(app);
  register_eval(app);
  register_data(app);
  register_export(app);
  register_space(app);
  register_nas(app);
  register_results(app);
  register_study(app);
  // Names this process in a project's lock file ("formwork train (pid 1234, training, ...)").
  if (argc > 1 && argv[1][0] != '-') set_process_description(std::string("formwork ") + argv[1]);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::printf("formwork %s (MPI: %s, CUDA: %s)\n", kFormworkBuild, mpi_built() ? "on" : "off",
                cuda_state().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "formwork: error: %s (see `formwork --help`)\n", e.what());
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "formwork: error: %s\n", e.what());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "formwork: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "formwork: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    // Not one of ours: a library or the standard library failed where we did not expect it.
    std::fprintf(stderr, "formwork: error: internal error (%s); please report it\n", e.what());
    return 1;
  } catch (...) {
    std::fprintf(stderr, "formwork: error: internal error (unknown exception); please report it\n");
    return 1;
  }
  return 0;
}

}  // namespace fw::cli
