#include "twotower/data/user_rows.h"

#include <algorithm>
#include <limits>

#include "twotower/common/error.h"

namespace twotower {

UserRows group_by_user(const Interactions& in, int64_t num_users) {
  if (in.size() >= std::numeric_limits<uint32_t>::max()) {
    fail("got ", in.size(), " interactions, expected fewer than 2^32");
  }
  UserRows g;
  g.offsets.assign(static_cast<size_t>(num_users) + 1, 0);
  for (int64_t u : in.user) ++g.offsets[static_cast<size_t>(u) + 1];
  for (size_t u = 0; u < static_cast<size_t>(num_users); ++u) g.offsets[u + 1] += g.offsets[u];
  // Counting sort: stable, so each user's rows arrive in file order.
  g.rows.resize(in.size());
  std::vector<int64_t> next(g.offsets.begin(), g.offsets.end() - 1);
  for (size_t r = 0; r < in.size(); ++r) g.rows[static_cast<size_t>(next[static_cast<size_t>(in.user[r])]++)] = static_cast<uint32_t>(r);
  const auto& ts = in.timestamp;
  for (size_t u = 0; u < static_cast<size_t>(num_users); ++u) {
    auto first = g.rows.begin() + g.offsets[u], last = g.rows.begin() + g.offsets[u + 1];
    if (!std::is_sorted(first, last, [&](uint32_t a, uint32_t b) { return ts[a] < ts[b]; })) {
      std::stable_sort(first, last, [&](uint32_t a, uint32_t b) { return ts[a] < ts[b]; });
    }
  }
  return g;
}

}  // namespace twotower
