// Which epoch is the best so far by training.best_metric, and when to stop early
// (training.early_stopping_patience). The counters live in the checkpoint's TrainState so that a
// resumed run continues them.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/train/checkpoint.h"

namespace twotower {

class BestEpochTracker {
 public:
  explicit BestEpochTracker(const TrainingConfig& training);

  /// Whether a smaller value of best_metric is better (best_metric_mode, or "loss" in its name).
  bool lower_is_better() const { return lower_; }

  /// Reads best_metric from the epoch's `record` (a number, or null for NaN) and updates
  /// state.best_epoch / best_value / epochs_without_improvement for epoch `epoch` (1-based).
  /// Returns whether this epoch is the best so far. Throws listing `metric_names` when the record
  /// has no such metric.
  bool update(const nlohmann::json& record, int64_t epoch, const std::vector<std::string>& metric_names,
              TrainState& state) const;

  /// Whether early stopping ends the run now (patience reached; never with patience 0).
  bool should_stop(const TrainState& state) const;

 private:
  std::string metric_;  // training.best_metric
  int64_t patience_;    // training.early_stopping_patience
  bool lower_;
};

}  // namespace twotower
