#include "twotower/data/model_inputs.h"

#include <algorithm>

namespace twotower {

std::vector<int64_t> rows_in_splits(const Interactions& interactions, const std::vector<std::string>& splits) {
  std::vector<bool> wanted(3, false);
  for (const auto& s : splits) wanted[static_cast<size_t>(parse_split(s))] = true;
  std::vector<int64_t> rows;
  for (size_t i = 0; i < interactions.split.size(); ++i) {
    if (wanted[static_cast<size_t>(interactions.split[i])]) rows.push_back(static_cast<int64_t>(i));
  }
  return rows;
}

std::vector<size_t> by_user_and_time(const Interactions& in, const std::vector<int64_t>& rows) {
  std::vector<size_t> order(rows.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto ra = static_cast<size_t>(rows[a]), rb = static_cast<size_t>(rows[b]);
    if (in.user[ra] != in.user[rb]) return in.user[ra] < in.user[rb];
    if (in.timestamp[ra] != in.timestamp[rb]) return in.timestamp[ra] < in.timestamp[rb];
    return ra < rb;
  });
  return order;
}

PaddedTable recent_items(const Interactions& in, const std::vector<int64_t>& rows, int64_t num_users, int64_t n) {
  PaddedTable t;
  t.rows = num_users;
  t.cols = n;
  t.data.assign(static_cast<size_t>(num_users * n), -1);
  if (n == 0) return t;
  std::vector<size_t> order = by_user_and_time(in, rows);
  auto row = [&](size_t k) { return static_cast<size_t>(rows[order[k]]); };
  for (size_t end = 0; end < order.size();) {
    size_t begin = end;
    const int64_t u = in.user[row(begin)];
    while (end < order.size() && in.user[row(end)] == u) ++end;
    const size_t first = end - std::min(end - begin, static_cast<size_t>(n));
    for (size_t k = first; k < end; ++k) t.data[static_cast<size_t>(u * n) + (k - first)] = in.item[row(k)];
  }
  return t;
}

PaddedTable items_before(const Interactions& in, const std::vector<int64_t>& rows, int64_t n) {
  PaddedTable t;
  t.rows = static_cast<int64_t>(rows.size());
  t.cols = n;
  t.data.assign(rows.size() * static_cast<size_t>(n), -1);
  if (n == 0) return t;
  std::vector<size_t> order = by_user_and_time(in, rows);
  auto row = [&](size_t k) { return static_cast<size_t>(rows[order[k]]); };
  size_t begin = 0;  // the first position of the current user in `order`
  for (size_t k = 0; k < order.size(); ++k) {
    if (in.user[row(k)] != in.user[row(begin)]) begin = k;
    const size_t first = k - std::min(k - begin, static_cast<size_t>(n));
    int64_t* out = t.data.data() + order[k] * static_cast<size_t>(n);
    for (size_t j = first; j < k; ++j) out[j - first] = in.item[row(j)];
  }
  return t;
}

PaddedTable category_paths(const ItemFeatures& items, int64_t num_items) {
  PaddedTable t;
  t.rows = num_items;
  t.cols = 1;
  for (int64_t i = 0; i < num_items && static_cast<size_t>(i) < items.category_ids.size(); ++i) {
    t.cols = std::max<int64_t>(t.cols, static_cast<int64_t>(items.category_ids[static_cast<size_t>(i)].size()));
  }
  t.data.assign(static_cast<size_t>(num_items * t.cols), -1);
  for (int64_t i = 0; i < num_items; ++i) {
    const size_t r = static_cast<size_t>(i);
    int64_t* row = t.data.data() + i * t.cols;
    if (r < items.category_ids.size() && !items.category_ids[r].empty()) {
      std::copy(items.category_ids[r].begin(), items.category_ids[r].end(), row);
    } else {
      row[0] = r < items.category_idx.size() ? items.category_idx[r] : 0;
    }
  }
  return t;
}

}  // namespace twotower
