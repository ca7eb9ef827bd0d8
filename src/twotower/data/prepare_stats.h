// stats.json of a prepared data set and the readable summary prepare prints.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "twotower/data/dataset.h"

namespace twotower {

/// Counts and distributions of `data` (after filtering and splitting): interactions, users,
/// items, sparsity = 1 - interactions / (users * items with interactions), interactions per user
/// and per item (min, median, mean, max), rating histogram (null without ratings), time range,
/// split counts, metadata coverage (share of items with a non-empty title, brand, category,
/// description), and repeated (user, item) pairs.
/// `repeated_pairs` < 0 computes the count; pass it when already known.
nlohmann::json dataset_stats(const Dataset& data, int64_t items_with_interactions, bool timestamps_are_times,
                             int64_t repeated_pairs = -1);

/// A few lines for a person: sizes, splits, coverage, bad lines, where the folder is.
std::string format_summary(const nlohmann::json& stats, const std::string& out_dir);

}  // namespace twotower
