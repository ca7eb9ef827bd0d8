// How a twotower program parses its command line and reports failures, shared by `twotower`
// (cli.cc) and the benchmark program (bench/bench_main.cc), so both print and exit alike.
#pragma once

#include <CLI/CLI.hpp>

namespace twotower::cli {

/// A program started by a subcommand ended with `code` (not 0); it has printed its own messages.
struct ChildExit {
  int code;
};

/// Parses argv (argv[0] is the program name) into `app`, which runs the chosen subcommand. Returns
/// the exit code: 0 done (or --help / --version printed), 1 a twotower::Error (printed as
/// "twotower: error: ..." on stderr) or an allocation that failed, 2 an internal error, CLI11's
/// code for a bad flag, a ChildExit's code as it is.
int run_app(CLI::App& app, int argc, char** argv);

}  // namespace twotower::cli
