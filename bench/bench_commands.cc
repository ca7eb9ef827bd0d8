#include "bench_commands.h"

#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "serve/serve_bench.h"
#include "train/train_bench.h"
#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower_build_paths.h"

namespace twotower {
namespace {

struct BenchTrainArgs {
  std::string config = std::string(TWOTOWER_SOURCE_DIR) + "/configs/reference.yaml";
  std::string data, generate, work_dir = "/tmp/twotower-bench-train";
  int threads = 2;
  int64_t max_steps = 100;
  int rounds = 3;
  std::string device = "cpu", reference_compile;
  int64_t trace_steps = -1;
  std::vector<std::string> overrides;
};

// "users,items,interactions" -> three positive integers.
std::vector<int64_t> parse_sizes(const std::string& text) {
  std::vector<int64_t> sizes;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    int64_t v = -1;
    if (!parse_int64(part, &v) || v < 1) fail("--generate: got \"", text, "\", expected users,items,interactions (positive integers)");
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
  o.device = a.device;
  o.reference_compile = a.reference_compile;
  o.trace_steps = a.trace_steps;
  o.work_dir = a.work_dir;
  o.command_line = command_line;
  run_train_bench(o, std::cout);
}

void add_bench_serve(CLI::App& bench) {
  auto o = std::make_shared<ServeBenchOptions>();
  o->python = TWOTOWER_PYTHON;
  o->work_dir = "/tmp/twotower-bench-serve";
  CLI::App* cmd = bench.add_subcommand(
      "serve", "single-query top-k latency of the serving index (exact, HNSW) beside faiss-cpu's on the same vectors");
  cmd->add_option("--export", o->export_dir, "a serving export (or its parent): its items, known users as queries")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--generated-items", o->generated_items, "items of the generated clustered data set (0: none)")
      ->capture_default_str();
  cmd->add_option("--dim", o->dim, "width of the generated vectors")->capture_default_str();
  cmd->add_option("--queries", o->queries, "timed queries per index")->capture_default_str();
  cmd->add_option("--k", o->k, "top k")->capture_default_str();
  cmd->add_option("--hnsw-m", o->hnsw_m, "HNSW neighbours per node (both systems)")->capture_default_str();
  cmd->add_option("--ef-construction", o->ef_construction, "HNSW build candidate list (both systems)")
      ->capture_default_str();
  cmd->add_option("--ef-search", o->ef_search, "efSearch values measured, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--build-threads", o->build_threads, "OpenMP threads while the graphs are built")
      ->capture_default_str();
  cmd->add_option("--python", o->python, "the interpreter with faiss-cpu (scripts/setup.sh installs it in .venv)")
      ->capture_default_str();
  cmd->add_option("--work-dir", o->work_dir, "scratch folder (the .npy files faiss reads, its log)")
      ->capture_default_str();
  cmd->callback([o] {
    std::ostringstream shown;
    shown << "twotower bench serve";
    if (!o->export_dir.empty()) shown << " --export " << o->export_dir.string();
    shown << " --generated-items " << o->generated_items << " --queries " << o->queries << " --k " << o->k
          << " --hnsw-m " << o->hnsw_m << " --ef-construction " << o->ef_construction << " --ef-search ";
    for (size_t i = 0; i < o->ef_search.size(); ++i) shown << (i ? "," : "") << o->ef_search[i];
    shown << " --build-threads " << o->build_threads;
    ServeBenchOptions run = *o;
    run.command_line = shown.str();
    run_serve_bench(run, std::cout);
  });
}

}  // namespace

void add_bench_commands(CLI::App& bench) {
  bench.require_subcommand(1);
  add_bench_serve(bench);
  auto args = std::make_shared<BenchTrainArgs>();
  CLI::App* cmd = bench.add_subcommand(
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
  cmd->add_option("--device", args->device, "cpu | cuda: where both systems train")->capture_default_str();
  cmd->add_option("--reference-compile", args->reference_compile,
                  "the reference's --compile mode (default, reduce-overhead, ...; empty: eager)");
  cmd->add_option("--trace-steps", args->trace_steps,
                  "steps of the warm-up epoch (after its first 10) both systems trace for their GPU kernel share; "
                  "-1: 20 on cuda, none on cpu")
      ->capture_default_str();
  cmd->add_option("--work-dir", args->work_dir, "scratch folder (generated data, logs, the twotower run)")
      ->capture_default_str();
  cmd->add_option("overrides", args->overrides, "section.key=value overrides of the config");
  cmd->callback([args] {
    std::ostringstream shown;
    shown << "twotower bench train --config " << args->config;
    if (!args->data.empty()) shown << " --data " << args->data;
    if (!args->generate.empty()) shown << " --generate " << args->generate;
    shown << " --threads " << args->threads << " --max-steps " << args->max_steps << " --rounds " << args->rounds
          << " --device " << args->device;
    if (!args->reference_compile.empty()) shown << " --reference-compile " << args->reference_compile;
    if (args->trace_steps >= 0) shown << " --trace-steps " << args->trace_steps;
    for (const auto& s : args->overrides) shown << " " << s;
    run_bench_train(*args, shown.str());
  });
}

}  // namespace twotower
