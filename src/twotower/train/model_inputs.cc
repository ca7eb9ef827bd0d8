#include "twotower/train/model_inputs.h"

#include <algorithm>

namespace twotower {

PaddedTable recent_items(const Interactions& in, const std::vector<int64_t>& rows, int64_t num_users, int64_t n) {
  PaddedTable t;
  t.rows = num_users;
  t.width = n;
  t.values.assign(static_cast<size_t>(num_users * n), -1);
  if (n == 0) return t;
  std::vector<int64_t> order = rows;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const auto ua = in.user[static_cast<size_t>(a)], ub = in.user[static_cast<size_t>(b)];
    if (ua != ub) return ua < ub;
    return in.timestamp[static_cast<size_t>(a)] < in.timestamp[static_cast<size_t>(b)];
  });
  for (size_t end = 0; end < order.size();) {
    size_t begin = end;
    const int64_t u = in.user[static_cast<size_t>(order[begin])];
    while (end < order.size() && in.user[static_cast<size_t>(order[end])] == u) ++end;
    const size_t first = end - std::min(end - begin, static_cast<size_t>(n));
    for (size_t k = first; k < end; ++k) {
      t.values[static_cast<size_t>(u * n) + (k - first)] = in.item[static_cast<size_t>(order[k])];
    }
  }
  return t;
}

PaddedTable category_paths(const ItemFeatures& items, int64_t num_items) {
  PaddedTable t;
  t.rows = num_items;
  t.width = 1;
  for (int64_t i = 0; i < num_items && static_cast<size_t>(i) < items.category_ids.size(); ++i) {
    t.width = std::max<int64_t>(t.width, static_cast<int64_t>(items.category_ids[static_cast<size_t>(i)].size()));
  }
  t.values.assign(static_cast<size_t>(num_items * t.width), -1);
  for (int64_t i = 0; i < num_items; ++i) {
    const size_t r = static_cast<size_t>(i);
    int64_t* row = t.values.data() + i * t.width;
    if (r < items.category_ids.size() && !items.category_ids[r].empty()) {
      std::copy(items.category_ids[r].begin(), items.category_ids[r].end(), row);
    } else {
      row[0] = r < items.category_idx.size() ? items.category_idx[r] : 0;
    }
  }
  return t;
}

}  // namespace twotower
