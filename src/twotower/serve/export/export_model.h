// The two towers of an export version folder as a LibTorch module: what ServingModel serves and
// what `twotower forget` edits (serve/export/export_forget.h).
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "twotower/model/two_tower.h"
#include "twotower/train/checkpoint.h"

namespace twotower {

/// Builds the model of `dir`/config.yaml at the manifest's sizes (num_users, num_items,
/// num_categories, num_brands, text_dim) with fp32 products, and reads `dir`/model.pt into it
/// (its checksum verified); `state`, when given, receives the checkpoint's training state.
/// Throws naming the file or manifest field that does not fit.
TwoTowerModel load_export_model(const std::filesystem::path& dir, const nlohmann::json& manifest,
                                TrainState* state = nullptr);

}  // namespace twotower
