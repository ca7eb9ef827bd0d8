#include "twotower/train/refit.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/data/dataset.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

// Rank 0's epoch count on every rank (one process: itself).
int64_t from_rank_zero(int64_t epochs, const TrainOptions& options) {
  if (!options.group) return epochs;
  std::vector<at::Tensor> value{torch::tensor({epochs}, torch::kLong)};
  options.group->broadcast(value)->wait();
  return value[0].item<int64_t>();
}

// The selection's epoch count: from refit.json when it finished before (a resume), else by
// running it.
int64_t selected_epochs(const Config& config, const TrainOptions& options, const fs::path& record) {
  const bool root = !options.group || options.group->getRank() == 0;
  if (options.resume && fs::exists(record)) {
    int64_t epochs = 0;
    if (root) {
      std::ifstream in(record);
      epochs = nlohmann::json::parse(in).at("selected_epochs").get<int64_t>();
      log_info("refit: the selection finished before (", record.string(), "): ", epochs, " epochs");
    }
    return from_rank_zero(epochs, options);
  }
  Config select = config;
  select.training.refit = false;
  select.training.output_dir = (fs::path(config.training.output_dir) / "selection").string();
  TrainOptions o = options;
  o.resume = options.resume && fs::exists(fs::path(select.training.output_dir) / "checkpoints" / "last.pt");
  log_info("refit: selecting the number of epochs on ", config.data.valid_split, " in ", select.training.output_dir);
  const TrainSummary s = run_training(select, o);
  const int64_t epochs = from_rank_zero(s.best_epoch, options);
  if (root) {
    const nlohmann::json r = {{"selected_epochs", epochs},
                              {"best_metric", config.training.best_metric},
                              {"best_value", s.best_value},
                              {"selection_epochs_run", s.epochs_done},
                              {"selection_dir", "selection"},
                              {"refit_mode", to_string(config.training.refit_mode)}};
    write_json_file(r, record);
  }
  return epochs;
}

}  // namespace

TrainSummary train(const Config& config, const TrainOptions& options) {
  return config.training.refit ? run_refit(config, options) : run_training(config, options);
}

TrainSummary run_refit(const Config& config, const TrainOptions& options) {
  const fs::path out = config.training.output_dir;
  const fs::path record = out / "refit.json";
  // A new refit (not a resume) reruns the selection whatever an earlier one left.
  if (!options.resume && (!options.group || options.group->getRank() == 0)) fs::remove(record);
  const int64_t epochs = selected_epochs(config, options, record);
  if (epochs < 1) fail("refit: the selection run gave best epoch ", epochs, ", expected >= 1");
  Config final_config = config;
  TrainingConfig& t = final_config.training;
  t.refit = false;
  const bool resume_selection = config.training.refit_mode == RefitMode::kContinue;
  t.num_epochs = resume_selection ? config.training.refit_epochs : epochs;
  if (resume_selection) t.init_from = (out / "selection").string();
  t.best_metric = "last";
  t.best_metric_mode = MetricMode::kAuto;
  t.early_stopping_patience = 0;
  final_config.data.train_splits.push_back(config.data.valid_split);
  TrainOptions o = options;
  o.metrics = {};
  o.metric_names.clear();
  o.resume = options.resume && fs::exists(out / "checkpoints" / "last.pt");
  if (resume_selection) {
    log_info("refit: the selection's final state continues on ", config.data.valid_split, " too for ", t.num_epochs,
             " epochs in ", out.string());
  } else {
    log_info("refit: training the final model on ", config.data.valid_split, " too for ", epochs, " epochs in ",
             out.string());
  }
  return run_training(final_config, o);
}

}  // namespace twotower
