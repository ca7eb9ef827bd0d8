// Interaction filters applied before splitting: repeated (user, item) pairs and k-core.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "twotower/data/dataset.h"

namespace twotower {

/// What to do with a (user, item) pair that occurs more than once.
enum class DuplicatePolicy { kKeepAll, kKeepFirst, kKeepLast };
/// "keep" (every occurrence is an event, the default), "first" or "last" (by time, then file order).
DuplicatePolicy parse_duplicate_policy(const std::string& name);
/// The policy's own name: "keep", "first" or "last".
const char* duplicate_policy_name(DuplicatePolicy policy);

/// Number of rows whose (user, item) pair occurred on an earlier row: rows - distinct pairs.
int64_t count_repeated_pairs(const Interactions& in, int64_t num_users);

/// keep[r] == 1 for the rows that `policy` keeps; with kKeepFirst/kKeepLast one row per pair:
/// the earliest / latest by (timestamp, row index).
std::vector<uint8_t> duplicate_mask(const Interactions& in, int64_t num_users, DuplicatePolicy policy);

/// Iteratively removes users with fewer than `min_user` and items with fewer than `min_item`
/// interactions among the rows still kept, until both hold for every remaining row (the k-core).
/// Starts from `keep` (1 = kept) and updates it; returns the number of rounds taken.
int kcore_mask(const Interactions& in, int64_t num_users, int64_t num_items, int64_t min_user, int64_t min_item,
               std::vector<uint8_t>& keep);

/// Keeps every row of `sample` users drawn uniformly without replacement from [0, num_users) and
/// clears keep[r] for the other users' rows. The draw is a partial Fisher-Yates shuffle of the
/// user indices driven by std::mt19937_64(seed) with rejection sampling for each bound, so a seed
/// gives the same users with every standard library. sample >= num_users keeps everyone.
/// Returns the number of users kept. Throws when sample < 1.
int64_t sample_users_mask(const Interactions& in, int64_t num_users, int64_t sample, uint64_t seed,
                          std::vector<uint8_t>& keep);

/// Keeps the rows with keep[r] != 0 (file order preserved) and renumbers users and items
/// 0, 1, ... in order of first appearance among the kept rows. `user_order[new] = old` and
/// `item_order[new] = old` receive the mapping.
void compact(Interactions& in, const std::vector<uint8_t>& keep, int64_t num_users, int64_t num_items,
             std::vector<int32_t>& user_order, std::vector<int32_t>& item_order);

}  // namespace twotower
