// Per-user and per-item inputs of the model that come from the data rather than parameters:
// each user's recent training items (model.user_history) and each item's category path
// (model.pool_categories). Plain vectors, turned into tensors by the trainer and the export.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "twotower/data/dataset.h"
#include "twotower/data/matrix.h"

namespace twotower {

/// A row-major [rows, cols] int64 table of item or category ids, padded with -1.
using PaddedTable = RowMajor<int64_t>;

/// The rows of `interactions` whose split is one of `splits` (each train, valid or test), in order.
std::vector<int64_t> rows_in_splits(const Interactions& interactions, const std::vector<std::string>& splits);

/// Positions into `rows`, grouped by user (ascending) and within each user by (timestamp, row):
/// the time order recent_items and items_before read.
std::vector<size_t> by_user_and_time(const Interactions& interactions, const std::vector<int64_t>& rows);

/// The last `n` items of each user among interactions[rows], by timestamp (ties: later row
/// last), oldest first, padded with -1 after: [num_users, n]. Users without rows get all -1.
PaddedTable recent_items(const Interactions& interactions, const std::vector<int64_t>& rows, int64_t num_users,
                         int64_t n);

/// For each of interactions[rows] (in the order of `rows`), the at most `n` items its user had
/// before it among those rows, by timestamp (ties: the earlier row first), oldest first, padded
/// with -1 after: [rows.size(), n]. A user's first interaction gets all -1.
PaddedTable items_before(const Interactions& interactions, const std::vector<int64_t>& rows, int64_t n);

/// Each item's category path (items.category_ids, broad to narrow) as [num_items, L] with L the
/// longest path (at least 1); an item without a path gets its category_idx (0 = unknown).
PaddedTable category_paths(const ItemFeatures& items, int64_t num_items);

}  // namespace twotower
