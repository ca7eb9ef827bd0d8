#include "twotower/train/optim/schedule.h"

#include <cmath>
#include <numbers>

namespace twotower {

double scheduled_learning_rate(const TrainingConfig& c, double base, int64_t step) {
  switch (c.scheduler) {
    case SchedulerKind::kNone:
      return base;
    case SchedulerKind::kStep:
      return base * std::pow(c.gamma, static_cast<double>(step / c.step_size));
    case SchedulerKind::kCosine: {
      double t = static_cast<double>(std::min(step, c.num_epochs)) / static_cast<double>(c.num_epochs);
      return c.min_learning_rate + (base - c.min_learning_rate) * (1 + std::cos(std::numbers::pi * t)) / 2;
    }
  }
  return base;
}

}  // namespace twotower
