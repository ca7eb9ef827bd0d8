// `twotower forget`: users who ask to be forgotten leave the prepared data set (and, through
// serve/export/export_forget.h, every export version), while every other index stays where it was.
//
// In the prepared folder a forgotten user keeps their user_idx (so the checkpoints and exports
// of earlier runs stay valid) but loses everything else:
//   - their interactions are removed from interactions_mapped.parquet, and splits.json's counts
//     and stats.json's "interactions" follow;
//   - their raw id in uid2idx.json becomes a tombstone, forgotten_user_id(idx);
//   - forgotten.json lists the indices of every user forgotten so far, with the time of each
//     request: training never sees them again (they have no interactions), an export writes ""
//     as their id (no request can name them), and a run continued with training.init_from zeroes
//     their id rows.
// The folder is rewritten as `prepare --overwrite` writes one: whole, or not at all.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace twotower {

inline constexpr const char* kForgottenFile = "forgotten.json";

/// The id a forgotten user has in uid2idx.json: "<forgotten>#IDX".
std::string forgotten_user_id(int64_t user_idx);

/// The user indices forgotten.json of `data_dir` lists, ascending; empty when it is absent.
std::vector<int64_t> read_forgotten_users(const std::filesystem::path& data_dir);

struct ForgetResult {
  std::vector<int64_t> users;          // the indices forgotten by this call, ascending
  int64_t interactions_removed = 0;
};

/// The indices of `user_ids` (raw ids, repeats allowed) in data_dir/uid2idx.json, ascending and
/// distinct; throws naming every id that is not in the map, or when `user_ids` is empty.
std::vector<int64_t> resolve_forget_users(const std::filesystem::path& data_dir, const std::vector<std::string>& user_ids);

/// Resolves `user_ids` (raw ids, repeats allowed) through data_dir/uid2idx.json and removes those
/// users from the prepared folder as above. Throws, with nothing written, naming every id that
/// is not in the map (an id forgotten before is not there any more) or when `user_ids` is empty.
ForgetResult forget_users_in_data(const std::filesystem::path& data_dir, const std::vector<std::string>& user_ids);

}  // namespace twotower
