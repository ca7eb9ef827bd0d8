// twotower-bench: the benchmark program, which `twotower bench ...` starts with its arguments.
#include <CLI/CLI.hpp>

#include "app_runner.h"
#include "bench_commands.h"

int main(int argc, char** argv) {
  CLI::App app("twotower bench: twotower beside the PyTorch reference (train) and faiss-cpu (serve)");
  twotower::add_bench_commands(app);
  return twotower::cli::run_app(app, argc, argv);
}
