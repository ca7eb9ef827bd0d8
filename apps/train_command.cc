#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "train_command.h"
#include "twotower/common/log.h"
#include "twotower/config/config.h"
#include "twotower/train/trainer.h"
#include "twotower/train/validation_metrics.h"

namespace twotower::cli {
namespace {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  std::string init_from;
  bool resume = false;
  bool no_eval = false;
};

void run_train_args(const TrainArgs& args) {
  TrainOptions options;
  options.resume = args.resume;
  std::vector<std::string> overrides = args.overrides;
  if (!args.init_from.empty()) overrides.push_back("training.init_from=" + args.init_from);
  run_train(load_config(args.config, overrides), options, !args.no_eval);
}

}  // namespace

TrainSummary run_train(const Config& config, TrainOptions options, bool eval) {
  if (eval) {
    options.metrics = make_validation_metrics({10, 20});
    options.metric_names = validation_metric_names({10, 20});
  }
  TrainSummary summary = run_training(config, options);
  log_info("train: ", summary.epochs_done, " epochs, best epoch ", summary.best_epoch, " (",
           config.training.best_metric, " ", summary.best_value, "), outputs in ", config.training.output_dir);
  return summary;
}

void add_train_command(CLI::App& app) {
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
  cmd->callback([args] { run_train_args(*args); });
}

}  // namespace twotower::cli
