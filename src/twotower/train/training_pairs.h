// The (user, item) pairs a run trains and validates on, as CPU tensors.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/data/dataset.h"

namespace twotower {

/// The training pairs as user histories, for model.user_history_pooling: attention, whose user
/// tower encodes every prefix of a history in one pass. A user with T pairs (in time order, items
/// i_0 .. i_{T-1}) gives the row i_0 .. i_{K-2} with targets i_0 .. i_{K-1} (K = min(T, N + 1):
/// prefix p predicts i_p), then one row per later pair k: the N items before it, its target
/// after all N. Each pair is thus the target of exactly the history items_before gives it.
struct SequenceColumns {
  torch::Tensor users;    // [S] int64, CPU
  torch::Tensor history;  // [S, N] int64 items, oldest first, -1 padded after
  torch::Tensor targets;  // [S, N + 1] int64: the item predicted after prefix p, -1 for none
  torch::Tensor counts;   // [S] int64: the targets of each row
  int64_t size() const { return users.defined() ? users.numel() : 0; }
};

struct PairColumns {
  torch::Tensor users;    // [n] int64, CPU
  torch::Tensor items;    // [n] int64, CPU
  torch::Tensor history;  // [n, N] int64 items before each pair (user_history_mode: before), or undefined
  SequenceColumns sequences;  // the same pairs as histories (attention pooling), or empty
  int64_t size() const { return users.numel(); }
};

/// The pairs of interactions[rows] (the rows of data.train_splits); with model.user_history and
/// user_history_mode: before, each pair's own earlier items as `history`, or, with attention
/// pooling, all of them as `sequences` instead.
PairColumns training_pairs(const Dataset& data, const Config& config, const std::vector<int64_t>& rows);

/// The pairs of data.valid_split, without history; none when data.train_splits holds that
/// split (a refit's final run: the validation loss is then null in history.json).
PairColumns validation_pairs(const Dataset& data, const Config& config);

}  // namespace twotower
