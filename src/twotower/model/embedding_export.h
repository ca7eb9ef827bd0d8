// What a trained model hands to the outside: every user's and item's vector in eval mode, written
// as the run's user_embeddings.npy and item_embeddings.npy (what `twotower evaluate` ranks with).
// The serving export (model, index, manifest) builds on this module.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>

#include "twotower/config/config.h"
#include "twotower/data/dataset.h"
#include "twotower/data/npy.h"
#include "twotower/model/two_tower.h"

namespace twotower {

/// Every user's embedding in eval mode, [num_users, D] float32 on the CPU, computed on `device` in
/// chunks copied straight into the result. The model's training mode is restored afterwards.
Matrix embed_all_users(TwoTowerModel& model, const torch::Device& device);
/// Every item's embedding in eval mode, [num_items, D] float32 on the CPU; as embed_all_users.
Matrix embed_all_items(TwoTowerModel& model, const torch::Device& device);

/// Writes `out`/user_embeddings.npy [num_users, D] and `out`/item_embeddings.npy [num_items, D]
/// (float32, unit rows). With model.user_history the user tower first gets each user's recent
/// items from train + valid (everything before the test split), as a served model reads the
/// latest history without retraining; this replaces the model's stored history.
void export_embeddings(TwoTowerModel& model, const Dataset& data, const Config& config, const torch::Device& device,
                       const std::filesystem::path& out);

}  // namespace twotower
