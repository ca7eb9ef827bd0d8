#include "twotower/train/best_epoch.h"

#include <cmath>

#include "twotower/common/error.h"

namespace twotower {
namespace {

bool improves(double value, const TrainState& state, bool lower) {
  if (state.best_epoch == 0) return true;
  if (!std::isfinite(value)) return false;
  if (!std::isfinite(state.best_value)) return true;
  return lower ? value < state.best_value : value > state.best_value;
}

}  // namespace

BestEpochTracker::BestEpochTracker(const TrainingConfig& training)
    : metric_(training.best_metric), patience_(training.early_stopping_patience) {
  if (training.best_metric_mode == MetricMode::kMin) {
    lower_ = true;
  } else if (training.best_metric_mode == MetricMode::kMax) {
    lower_ = false;
  } else {
    lower_ = training.best_metric.find("loss") != std::string::npos;
  }
}

bool BestEpochTracker::update(const nlohmann::json& record, int64_t epoch, const std::vector<std::string>& metric_names,
                              TrainState& state) const {
  if (metric_ == "last") {  // every epoch is the best so far
    state.best_epoch = epoch;
    state.best_value = static_cast<double>(epoch);
    state.epochs_without_improvement = 0;
    return true;
  }
  auto metric = record.find(metric_);
  if (metric == record.end() || !(metric->is_number() || metric->is_null())) {
    std::string names = "val_loss, train_loss";
    for (const auto& n : metric_names) names += ", " + n;
    fail("training.best_metric: got \"", metric_, "\", expected one of ", names);
  }
  const double value = metric->is_number() ? metric->get<double>() : NAN;
  const bool better = improves(value, state, lower_);
  if (better) {
    state.best_epoch = epoch;
    state.best_value = value;
    state.epochs_without_improvement = 0;
  } else {
    ++state.epochs_without_improvement;
  }
  return better;
}

bool BestEpochTracker::should_stop(const TrainState& state) const {
  return patience_ > 0 && state.epochs_without_improvement >= patience_;
}

}  // namespace twotower
