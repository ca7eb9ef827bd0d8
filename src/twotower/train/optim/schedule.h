// Learning-rate schedules, stepped once per epoch. Pure functions of the step count, so a
// checkpoint only needs the step to resume a schedule exactly.
#pragma once

#include <cstdint>

#include "twotower/config/config.h"

namespace twotower {

/// The learning rate for epoch `step` (0-based: the epochs finished before it) from `base`:
///   none:   base
///   step:   base * gamma^floor(step / step_size)                  (torch StepLR)
///   cosine: min + (base - min) * (1 + cos(pi * step / num_epochs)) / 2   (torch CosineAnnealingLR,
///           T_max = num_epochs, eta_min = min_learning_rate)
double scheduled_learning_rate(const TrainingConfig& config, double base, int64_t step);

}  // namespace twotower
