// The headless command line: `formwork COMMAND ...` (CONTRACT.md). Each command lives in its own
// file (cmd_*.cpp) and registers itself on the CLI11 app through a register_* function; the work
// itself is done by the libraries.
//
// Exit status: 0 success, 1 the work failed (fw::Error), 2 wrong usage (CLI11 parse errors,
// fw::UsageError). Every failure prints one line on stderr: "formwork: error: <what and where>".
#pragma once
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "core/arch.h"

namespace fw::cli {

// Runs a command line whose argv[1] is a command name. Returns the exit status.
int run(int argc, char** argv);
// True when `word` names a headless command (or is --help/--version).
bool is_command(const std::string& word);

// --num-classes and --input-size, valid wherever ARCH is.
struct ArchArgs {
  std::string arch;
  std::optional<int64_t> num_classes;
  std::string input_size;
  ArchOptions options() const;
};
void add_arch_options(CLI::App* cmd, ArchArgs& a, bool positional_arch = true);

// A number that must not be negative (counts, limits, seeds): "--seed: must be 0 or more, got -1"
// (CLI11's own NonNegativeNumber prints a 300-digit range; an unsigned option takes -1 as 2^64-1).
const CLI::Validator& non_negative();

// Command registration (one per cmd_*.cpp).
void register_templates(CLI::App& app);
void register_info(CLI::App& app);
void register_new(CLI::App& app);
void register_weights(CLI::App& app);
void register_infer(CLI::App& app);
void register_bench(CLI::App& app);
void register_gradcam(CLI::App& app);
void register_attention(CLI::App& app);
void register_mixing(CLI::App& app);
void register_score(CLI::App& app);
void register_train(CLI::App& app);
void register_eval(CLI::App& app);
void register_data(CLI::App& app);
void register_export(CLI::App& app);
void register_space(CLI::App& app);
void register_nas(CLI::App& app);
void register_results(CLI::App& app);
void register_study(CLI::App& app);

}  // namespace fw::cli
