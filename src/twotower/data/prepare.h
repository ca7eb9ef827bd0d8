// `twotower prepare`: review file (+ item metadata) -> a prepared data set folder (dataset.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "twotower/data/filters.h"
#include "twotower/data/input_format.h"
#include "twotower/data/splits.h"

namespace twotower {

struct PrepareOptions {
  std::filesystem::path reviews;               // required
  std::filesystem::path meta;                  // optional (empty: items get empty features)
  std::filesystem::path out;                   // the folder to write; must not exist unless overwrite
  ReviewFormat format = ReviewFormat::kAuto;
  MetaFormat meta_format = MetaFormat::kAuto;
  SplitOptions split;
  DuplicatePolicy duplicates = DuplicatePolicy::kKeepAll;
  int64_t min_user_interactions = 0;           // k-core thresholds; <= 1 disables; range [0, 2^31)
  int64_t min_item_interactions = 0;
  int64_t sample_users = 0;                    // > 0: keep this many users, drawn uniformly, with all their rows
  uint64_t sample_seed = 0;                    // the draw's seed (filters.h: sample_users_mask)
  bool reviewed_items_only = false;            // drop metadata items that have no interaction
  bool skip_bad_lines = false;
  bool overwrite = false;
  bool progress = false;                       // progress lines on stderr while reading
};

struct PrepareResult {
  nlohmann::json stats;  // what stats.json holds
  std::string summary;   // readable, several lines
};

/// Reads, filters, splits and writes. The folder is first written under a temporary name beside
/// `out` and renamed when complete, so a failure leaves nothing half written; an existing `out`
/// is replaced only with `overwrite`. Throws twotower::Error with one clear sentence on bad input.
PrepareResult prepare(const PrepareOptions& options);

}  // namespace twotower
