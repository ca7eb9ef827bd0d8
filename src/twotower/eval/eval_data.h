// One split of a prepared data set, arranged for evaluation: per user, the items to exclude
// (everything before the evaluated split) and the held-out targets, plus rated pairs for the
// regression metrics. Built once and reused (training rebuilds nothing per epoch).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "twotower/data/dataset.h"

namespace twotower {

struct EvalData {
  Split split = Split::kTest;
  int64_t num_users = 0;
  int64_t num_items = 0;

  // CSR, user -> sorted distinct items. history = the interactions before the evaluated split
  // (train for valid; train + valid for test): excluded from ranking, and what the baselines
  // are fit on. targets = the user's items in the evaluated split that are not in history.
  std::vector<int64_t> history_offsets, history_items;
  std::vector<int64_t> target_offsets, target_items;
  /// Number of history interactions (rows, repeats counted) per item: popularity and novelty.
  std::vector<int64_t> item_degree;

  // Rated pairs: the training split's (fit of the score -> rating map) and the evaluated split's.
  std::vector<int64_t> fit_users, fit_items;
  std::vector<double> fit_ratings;
  std::vector<int64_t> eval_users, eval_items;
  std::vector<double> eval_ratings;
  bool data_has_ratings = false;

  // Counts for the report.
  int64_t eval_interactions = 0;      // rows in the evaluated split
  int64_t targets_already_seen = 0;   // evaluated-split items dropped because they are in history
  int64_t users_with_targets = 0;

  std::span<const int64_t> history(int64_t user) const {
    return {history_items.data() + history_offsets[user], history_items.data() + history_offsets[user + 1]};
  }
  std::span<const int64_t> targets(int64_t user) const {
    return {target_items.data() + target_offsets[user], target_items.data() + target_offsets[user + 1]};
  }
};

/// Arranges `interactions` for evaluating `split` (valid or test). Interactions of later splits
/// are ignored; a rating that is NaN (or missing from a short rating column) leaves its row out
/// of the rated pairs. Throws on split train, on num_users or num_items < 0, and when an index
/// lies outside [0, num_users) x [0, num_items) (naming the row and the value).
EvalData make_eval_data(const Interactions& interactions, int64_t num_users, int64_t num_items, Split split);

inline EvalData make_eval_data(const Dataset& data, Split split) {
  return make_eval_data(data.interactions, data.num_users(), data.num_items(), split);
}

}  // namespace twotower
