#include <memory>
#include <string>
#include <vector>

#include <filesystem>

#include "commands.h"
#include "train_command.h"
#include "train_workers.h"
#include "twotower/common/log.h"
#include "twotower/config/config.h"
#include "twotower/train/refit.h"
#include "twotower/train/validation_metrics.h"

namespace twotower::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string init_from;
  bool resume = false;
  bool resume_if_exists = false;
  bool no_eval = false;
  int nproc = 0;
};

// The arguments again, for the workers that --nproc starts.
std::vector<std::string> worker_args(const TrainArgs& args) {
  std::vector<std::string> out{"--config", args.config};
  out.insert(out.end(), args.overrides.begin(), args.overrides.end());
  if (args.resume) out.push_back("--resume");
  if (args.resume_if_exists) out.push_back("--resume-if-exists");
  if (!args.init_from.empty()) out.insert(out.end(), {"--init-from", args.init_from});
  if (args.no_eval) out.push_back("--no-eval");
  return out;
}

void run_train_args(const TrainArgs& args, const CliContext& context) {
  if (args.nproc > 0) {
    if (context.group) fail("train --nproc: got it inside a distributed worker, expected it only at the top");
    const int code = run_train_workers(args.nproc, worker_args(args));
    if (code != 0) fail("train --nproc ", args.nproc, ": the workers failed (torchrun exit code ", code, ")");
    return;
  }
  std::vector<std::string> overrides = args.overrides;
  if (!args.init_from.empty()) overrides.push_back("training.init_from=" + args.init_from);
  const Config config = load_config(args.config, overrides);
  TrainOptions options;
  options.resume = args.resume ||
                   (args.resume_if_exists && std::filesystem::exists(config.training.output_dir + "/checkpoints/last.pt"));
  options.group = context.group;
  run_train(config, options, !args.no_eval);
}

}  // namespace

TrainSummary run_train(const Config& config, TrainOptions options, bool eval) {
  if (eval) {
    options.metrics = make_validation_metrics();
    options.metric_names = validation_metric_names();
  }
  TrainSummary summary = train(config, options);
  if (config.training.refit) {  // the final phase keeps its last epoch; the selection is in refit.json
    log_info("train: the final model after ", summary.epochs_done, " epochs on ", config.data.valid_split,
             " too (the selection's choice: refit.json), outputs in ", config.training.output_dir);
  } else {
    log_info("train: ", summary.epochs_done, " epochs, best epoch ", summary.best_epoch, " (",
             config.training.best_metric, " ", summary.best_value, "), outputs in ", config.training.output_dir);
  }
  return summary;
}

void add_train_command(CLI::App& app, const CliContext& context) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand("train", "Train a two-tower model from a YAML config");
  cmd->add_option("--config", args->config, "YAML config (configs/default.yaml lists every key)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("overrides", args->overrides, "section.key=value overrides, e.g. training.num_epochs=1");
  cmd->add_flag("--resume", args->resume, "continue from OUTPUT_DIR/checkpoints/last.pt");
  cmd->add_option("--init-from", args->init_from,
                  "continue from this run folder on data that extends its data (training.init_from; "
                  "twotower prepare --extend)");
  cmd->add_flag("--no-eval", args->no_eval,
                "skip the validation ranking metrics after each epoch (the validation loss stays); "
                "training.best_metric must then be val_loss or train_loss");
  cmd->add_flag("--resume-if-exists", args->resume_if_exists,
                "--resume when OUTPUT_DIR/checkpoints/last.pt exists, else start (a restarted worker)");
  cmd->add_option("--nproc", args->nproc,
                  "train data-parallel on N local processes, started through torchrun (docs/distributed.md)")
      ->check(CLI::PositiveNumber);
  cmd->callback([args, context] { run_train_args(*args, context); });
}

}  // namespace twotower::cli
