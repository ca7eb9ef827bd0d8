// The whole command line of `twotower`: every subcommand registered on one CLI11 App, parsed and
// run. The `twotower` program and the Python module (`python -m twotower`, twotower.prepare, ...)
// both go through it, so a subcommand behaves the same from either.
#pragma once

#include <string>
#include <vector>

#include "twotower/train/process_group.h"

namespace twotower::cli {

/// What the caller of the CLI hands to its subcommands beyond the arguments.
struct CliContext {
  /// `train` trains data-parallel over this group (the Python module passes torch.distributed's
  /// under torchrun); null: one process.
  ProcessGroupPtr group;
};

/// Parses argv (argv[0] is the program name) and runs the subcommand. Prints an error on stderr
/// and returns the exit code: 0 done (or --help / --version printed), 1 a twotower::Error, 2 an
/// internal error, CLI11's code for a bad flag.
int run_cli(int argc, char** argv, const CliContext& context = {});

/// Parses and runs `args` (without the program name) as run_cli does, but throws instead of
/// printing: twotower::Error from the library as it is, and a bad or missing flag (CLI11's
/// message, e.g. "--reviews is required") or --help as twotower::Error too.
void run_cli_or_throw(const std::vector<std::string>& args, const CliContext& context = {});

}  // namespace twotower::cli
