// The files of a training run in training.output_dir: config.yaml (resolved), train.log,
// checkpoints/last.pt (everything --resume needs) and checkpoints/best.pt (the best epoch's model
// and counters, without optimizer state), history.json and training_history.png.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/checkpoint.h"
#include "twotower/train/optim/optimizers.h"

namespace twotower {

class RunWriter {
 public:
  /// Creates output_dir/checkpoints and sends the log to output_dir/train.log until destruction.
  /// Throws when `resume` is set and last.pt does not exist; warns when it is
  /// not set and an earlier run's checkpoints are there (they are overwritten). Without `writes`
  /// (the ranks other than 0 of a data-parallel run) it only knows the paths: it creates, writes
  /// and warns nothing, and write_epoch and write_plot do nothing.
  RunWriter(const Config& config, bool resume, bool writes = true);
  ~RunWriter();
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  /// config.yaml: the configuration that runs, every value resolved (an automatic batch size
  /// as the one chosen), written once those are known.
  void write_config(const Config& config) const;

  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& last_checkpoint() const { return last_; }
  const std::filesystem::path& best_checkpoint() const { return best_; }
  /// The epoch before last.pt's (checkpoints/previous.pt): a resume falls back to it when last.pt
  /// is damaged.
  const std::filesystem::path& previous_checkpoint() const { return previous_; }

  /// After an epoch: last.pt with the optimizers' state (the one before it kept as previous.pt),
  /// best.pt when `best` (model and counters only), and history.json with every epoch's record so
  /// far and the model's clamp counters. Each checkpoint has its checksum sidecar.
  void write_epoch(TwoTowerModel& model, const Optimizers& optimizers, const TrainState& state, bool best,
                   const nlohmann::json& history);

  /// training_history.png from `history`: the losses and every metric column it holds (the names
  /// in `metric_names` first, in their order).
  void write_plot(const nlohmann::json& history, std::vector<std::string> metric_names) const;

 private:
  std::string best_metric_;
  std::string loss_;  // training.loss, for the plot's train-loss axis
  bool writes_;
  std::filesystem::path dir_, last_, best_, previous_;
};

}  // namespace twotower
