#include "twotower/train/optim/schedule.h"

#include <gtest/gtest.h>

#include "twotower/config/config.h"

namespace twotower {
namespace {

// StepLR and cosine follow torch's formulas: step 0.1 * 0.5^floor(3/2) = 0.05;
// cosine over 4 epochs at step 2: 0 + 0.1 * (1 + cos(pi/2)) / 2 = 0.05, at step 4: the floor.
TEST(Schedule, StepAndCosine) {
  TrainingConfig t;
  t.scheduler = SchedulerKind::kStep;
  t.step_size = 2;
  t.gamma = 0.5;
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(t, 0.1, 0), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(t, 0.1, 3), 0.05);
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(t, 0.1, 4), 0.025);
  t.scheduler = SchedulerKind::kCosine;
  t.num_epochs = 4;
  t.min_learning_rate = 0.001;
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(t, 0.1, 0), 0.1);
  EXPECT_NEAR(scheduled_learning_rate(t, 0.1, 2), 0.001 + 0.099 / 2, 1e-12);
  EXPECT_NEAR(scheduled_learning_rate(t, 0.1, 4), 0.001, 1e-12);
  t.scheduler = SchedulerKind::kNone;
  EXPECT_DOUBLE_EQ(scheduled_learning_rate(t, 0.1, 9), 0.1);
}

}  // namespace
}  // namespace twotower
