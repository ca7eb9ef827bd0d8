// Pair scores of a BCE batch with each positive's user tower computed once: its k negatives
// share the user, so the user rows are repeated after the tower instead of before it. Without
// dropout (or in eval mode) the scores and every gradient equal model->pair_scores on the
// repeated users; in training mode the k + 1 pairs of a user share one dropout mask.
#pragma once

#include "twotower/model/two_tower.h"

namespace twotower {

/// @param users  [m] int64, the positives' users
/// @param items  [(1 + k) m] int64, the positive items then the negatives (row r * m + j pairs with users[j])
/// @param history  [m, N] the positives' own histories (user_history_mode: before), or undefined
/// @return       [(1 + k) m] float32 cosine scores
inline torch::Tensor shared_user_scores(TwoTowerModel& model, const torch::Tensor& users, const torch::Tensor& items,
                                        int64_t k, const torch::Tensor& history = {}) {
  // The k + 1 pairs of a user share its positive, which the stored pooled history leaves out.
  torch::Tensor positives = history.defined() ? torch::Tensor() : items.slice(0, 0, users.numel());
  return (model->user_embeddings(users, positives, history).repeat({1 + k, 1}) * model->item_embeddings(items))
      .sum(-1);
}

}  // namespace twotower
