// `twotower bench serve` and `twotower bench train`: the subcommands of the benchmark program
// (twotower-bench, bench/bench_main.cc), which `twotower bench ...` starts. They run the PyTorch
// reference and faiss-cpu beside twotower, so they sit above the product, never inside it.
#pragma once

#include <CLI/CLI.hpp>

namespace twotower {

/// Adds `serve` and `train` to `bench` (the program's top-level app), one of them required.
void add_bench_commands(CLI::App& bench);

}  // namespace twotower
