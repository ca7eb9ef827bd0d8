// The (user, item) pairs a run trains and validates on, as CPU tensors.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/data/dataset.h"

namespace twotower {

struct PairColumns {
  torch::Tensor users;    // [n] int64, CPU
  torch::Tensor items;    // [n] int64, CPU
  torch::Tensor history;  // [n, N] int64 items before each pair (user_history_mode: before), or undefined
  int64_t size() const { return users.numel(); }
};

/// The pairs of interactions[rows] (the rows of data.train_splits); with model.user_history and
/// user_history_mode: before, each pair's own earlier items as `history`.
PairColumns training_pairs(const Dataset& data, const Config& config, const std::vector<int64_t>& rows);

/// The pairs of data.valid_split, without history.
PairColumns validation_pairs(const Dataset& data, const Config& config);

}  // namespace twotower
