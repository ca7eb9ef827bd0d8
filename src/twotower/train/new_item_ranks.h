// How a model ranks items it has no trained row for (continued training, train/init_from.h):
// measured before any update, on the held-out interactions whose item is new.
#pragma once

#include <torch/torch.h>

#include <cstdint>

#include <nlohmann/json.hpp>

#include "twotower/config/config.h"
#include "twotower/data/dataset.h"
#include "twotower/model/two_tower.h"

namespace twotower {

/// Ranks in full ranking over all data.num_items() items, in eval mode: for each interaction of
/// config.data.valid_split, rank = the number of items the user's vector scores higher than the
/// target (0 = first). Returns, separately for targets with item_idx >= first_new_item ("new")
/// and the others ("old", at most kMaxOldTargets of them, the first in row order, as the
/// baseline): {"targets": n, "recall@10": share with rank < 10, "median_rank": ...,
/// "mean_rank_percentile": mean of rank / num_items}; the empty case has targets 0 and the rest
/// null. "inputs" says whether the item tower reads content features (an ids-only model gives
/// every new item the same vector).
nlohmann::json new_item_ranks(TwoTowerModel& model, const Dataset& data, const Config& config, int64_t first_new_item,
                              const torch::Device& device);

inline constexpr int64_t kMaxOldTargets = 20000;

}  // namespace twotower
