// `twotower bench train`: twotower's trainer and the PyTorch reference (seed_reference.py) on the
// same interactions, model, loss, optimizer settings, batch size and thread count, one after the
// other in one run, each as a child process, then the machine's fp32 GEMM rate, repeated in
// alternating rounds (the machine's speed drifts between runs: a round's ratio compares
// neighbouring runs); then the fraction of the GEMM bound each reaches. On a GPU, each system's
// peak device memory and the share of a traced stretch of its warm-up epoch in which the GPU ran
// kernels (the measured epoch is never traced).
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace twotower {

struct TrainBenchOptions {
  std::filesystem::path config;          // YAML config of the twotower run (required)
  std::vector<std::string> overrides;    // section.key=value, applied to the config
  std::filesystem::path data;            // a prepared folder, or empty with generate_* set
  int64_t generate_users = 0;            // > 0: generate and prepare a data set of these sizes
  int64_t generate_items = 0;
  int64_t generate_interactions = 0;
  int threads = 2;                       // intra-op threads of both systems, >= 1
  int64_t max_steps = 100;               // batches per epoch, >= 1; epoch 1 warms up, epoch 2 is measured
  int rounds = 3;                        // rounds of (twotower, reference, GEMM rate), >= 1: the
                                         // figures are medians, the ratio the median of each round's
  std::string device = "cpu";            // cpu | cuda: training.device of twotower, --device of the
                                         // reference; on cuda no CPU GEMM probes or bounds are printed
  std::string reference_compile;         // empty: the reference runs eager; else its --compile mode
  int64_t trace_steps = -1;              // steps 11..10+N of epoch 1 (the warm-up epoch) traced in each
                                         // round by both systems for their kernel share; -1: 20 on
                                         // cuda, 0 (none) on cpu
  std::filesystem::path work_dir;        // scratch folder (created; the generated data stays there)
  std::string command_line;              // printed first
};

/// Runs the benchmark and prints its table to `out`; the last line is `ratio X`.
void run_train_bench(const TrainBenchOptions& options, std::ostream& out);

}  // namespace twotower
