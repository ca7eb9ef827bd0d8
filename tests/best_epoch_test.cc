#include "twotower/train/best_epoch.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace twotower {
namespace {

TrainingConfig with_metric(const std::string& metric, MetricMode mode = MetricMode::kAuto, int64_t patience = 0) {
  TrainingConfig t;
  t.best_metric = metric;
  t.best_metric_mode = mode;
  t.early_stopping_patience = patience;
  return t;
}

// auto: names with "loss" are minimized, others maximized; min and max force the direction.
TEST(BestEpochTracker, DirectionFromModeOrName) {
  EXPECT_TRUE(BestEpochTracker(with_metric("val_loss")).lower_is_better());
  EXPECT_FALSE(BestEpochTracker(with_metric("recall@10")).lower_is_better());
  EXPECT_TRUE(BestEpochTracker(with_metric("recall@10", MetricMode::kMin)).lower_is_better());
  EXPECT_FALSE(BestEpochTracker(with_metric("val_loss", MetricMode::kMax)).lower_is_better());
}

// recall@10 by epoch 0.1, 0.3, 0.2, 0.25 with patience 2: epoch 2 is best, epochs 3 and 4 do not
// beat it, so the run stops after epoch 4 with 2 epochs without improvement.
TEST(BestEpochTracker, TracksTheBestAndStopsAfterPatience) {
  const TrainingConfig t = with_metric("recall@10", MetricMode::kAuto, 2);
  const BestEpochTracker best(t);
  TrainState state;
  const double values[] = {0.1, 0.3, 0.2, 0.25};
  const bool expected_best[] = {true, true, false, false};
  for (int e = 0; e < 4; ++e) {
    EXPECT_EQ(best.update({{"recall@10", values[e]}}, e + 1, {"recall@10"}, state), expected_best[e]) << e;
    EXPECT_EQ(best.should_stop(state), e == 3) << e;
  }
  EXPECT_EQ(state.best_epoch, 2);
  EXPECT_DOUBLE_EQ(state.best_value, 0.3);
  EXPECT_EQ(state.epochs_without_improvement, 2);
}

// A NaN (null in the record) never beats a number, but the first epoch is best whatever it holds,
// and a number beats a NaN best; patience 0 never stops.
TEST(BestEpochTracker, NanNeverWinsOverANumber) {
  const BestEpochTracker best(with_metric("val_loss"));
  TrainState state;
  EXPECT_TRUE(best.update({{"val_loss", nullptr}}, 1, {}, state));
  EXPECT_TRUE(std::isnan(state.best_value));
  EXPECT_TRUE(best.update({{"val_loss", 0.5}}, 2, {}, state));
  EXPECT_FALSE(best.update({{"val_loss", nullptr}}, 3, {}, state));
  EXPECT_FALSE(best.update({{"val_loss", 0.6}}, 4, {}, state));
  EXPECT_EQ(state.best_epoch, 2);
  EXPECT_FALSE(best.should_stop(state));
}

// A metric the record lacks is an error listing what there is.
TEST(BestEpochTracker, UnknownMetricNamesTheChoices) {
  const TrainingConfig t = with_metric("ndcg@5");
  const BestEpochTracker best(t);
  TrainState state;
  testing::expect_exact_error([&] { best.update({{"val_loss", 0.5}}, 1, {"recall@10", "ndcg@10"}, state); },
                              "training.best_metric: got \"ndcg@5\", expected one of val_loss, train_loss, "
                              "recall@10, ndcg@10");
}

}  // namespace
}  // namespace twotower
