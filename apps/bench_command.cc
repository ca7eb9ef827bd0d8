#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands.h"
#include "train/train_bench.h"
#include "twotower/common/error.h"

namespace twotower::cli {
namespace {

struct BenchTrainArgs {
  std::string config = std::string(TWOTOWER_SOURCE_DIR) + "/configs/reference.yaml";
  std::string data, generate, work_dir = "/tmp/twotower-bench-train";
  int threads = 2;
  int64_t max_steps = 100;
  int rounds = 3;
  std::vector<std::string> overrides;
};

// "users,items,interactions" -> three positive integers.
std::vector<int64_t> parse_sizes(const std::string& text) {
  std::vector<int64_t> sizes;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    size_t used = 0;
    int64_t v = -1;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
    }
    if (used != part.size() || v < 1) fail("--generate: got \"", text, "\", expected users,items,interactions (positive integers)");
    sizes.push_back(v);
  }
  if (sizes.size() != 3) fail("--generate: got \"", text, "\", expected users,items,interactions (positive integers)");
  return sizes;
}

void run_bench_train(const BenchTrainArgs& a, const std::string& command_line) {
  TrainBenchOptions o;
  o.config = a.config;
  o.overrides = a.overrides;
  o.data = a.data;
  if (!a.generate.empty()) {
    std::vector<int64_t> s = parse_sizes(a.generate);
    o.generate_users = s[0];
    o.generate_items = s[1];
    o.generate_interactions = s[2];
  }
  o.threads = a.threads;
  o.max_steps = a.max_steps;
  o.rounds = a.rounds;
  o.work_dir = a.work_dir;
  o.command_line = command_line;
  run_train_bench(o, std::cout);
}

}  // namespace

void add_bench_command(CLI::App& app) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto args = std::make_shared<BenchTrainArgs>();
  CLI::App* cmd = bench->add_subcommand(
      "train", "twotower's trainer and the PyTorch reference on the same data, side by side; ends with `ratio X`");
  cmd->add_option("--config", args->config, "YAML config of the twotower run")->capture_default_str()->check(CLI::ExistingFile);
  cmd->add_option("--data", args->data, "a prepared folder")->check(CLI::ExistingDirectory);
  cmd->add_option("--generate", args->generate, "generate and prepare users,items,interactions instead");
  cmd->add_option("--threads", args->threads, "intra-op threads of both systems")->capture_default_str();
  cmd->add_option("--max-steps", args->max_steps, "batches per epoch (epoch 1 warms up, epoch 2 is measured)")
      ->capture_default_str();
  cmd->add_option("--rounds", args->rounds,
                  "rounds of twotower, reference and GEMM rate, alternating; medians are reported")
      ->capture_default_str();
  cmd->add_option("--work-dir", args->work_dir, "scratch folder (generated data, logs, the twotower run)")
      ->capture_default_str();
  cmd->add_option("overrides", args->overrides, "section.key=value overrides of the config");
  cmd->callback([args] {
    std::ostringstream shown;
    shown << "twotower bench train --config " << args->config;
    if (!args->data.empty()) shown << " --data " << args->data;
    if (!args->generate.empty()) shown << " --generate " << args->generate;
    shown << " --threads " << args->threads << " --max-steps " << args->max_steps << " --rounds " << args->rounds;
    for (const auto& s : args->overrides) shown << " " << s;
    run_bench_train(*args, shown.str());
  });
}

}  // namespace twotower::cli
