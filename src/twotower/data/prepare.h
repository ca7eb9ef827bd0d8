// `twotower prepare`: review file (+ item metadata) -> a prepared data set folder (dataset.h).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "twotower/data/filters.h"
#include "twotower/data/input_format.h"
#include "twotower/data/meta_reader.h"
#include "twotower/data/review_reader.h"
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

// The steps prepare shares with prepare --extend (data/extend.h).

/// Checks the options before any reading; throws naming the flag, the value got and the one expected.
void check_prepare_options(const PrepareOptions& options);
/// The "input" record of stats.json for the review file read into `table`.
nlohmann::json review_input(const PrepareOptions& options, const ReviewTable& table);
/// Reads options.meta (which must be set), adding what was read to `input`.
Metadata read_prepare_meta(const PrepareOptions& options, nlohmann::json& input);
/// Writes `data` (save_dataset) into a temporary folder beside `out`, calls `add_files` on that
/// folder when given (files that travel with the data set), and renames it to `out`, replacing
/// an existing `out` only when `overwrite`; on any failure nothing is left behind.
void write_prepared_folder(const Dataset& data, const std::filesystem::path& out, bool overwrite,
                           const std::function<void(const std::filesystem::path&)>& add_files = {});

}  // namespace twotower
