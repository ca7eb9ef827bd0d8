// Rows grouped by user, each user's rows in time order: the view that leave-last-out splits and
// duplicate handling work on.
#pragma once

#include <cstdint>
#include <vector>

#include "twotower/data/dataset.h"

namespace twotower {

struct UserRows {
  std::vector<int64_t> offsets;  // [num_users + 1]: user u's rows are rows[offsets[u], offsets[u+1])
  std::vector<uint32_t> rows;    // row indices, by user, then timestamp, then row (file) order
};

/// Groups the rows of `in` (user indices in [0, num_users)) by user, ordered within a user by
/// (timestamp, row index); the row index breaks ties in time, so equal times keep file order.
UserRows group_by_user(const Interactions& in, int64_t num_users);

}  // namespace twotower
