// Helpers for the evaluation tests: a scorer over a dense matrix and tiny data sets.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <string>
#include <vector>

#include "twotower/data/dataset.h"
#include "twotower/eval/scorer.h"

namespace twotower::testing {

/// Scores from a dense [U, I] matrix given by the test.
class MatrixScorer : public Scorer {
 public:
  MatrixScorer(int64_t users, int64_t items, std::vector<float> scores)
      : users_(users), items_(items), scores_(std::move(scores)) {}
  std::string name() const override { return "matrix"; }
  int64_t num_users() const override { return users_; }
  int64_t num_items() const override { return items_; }
  void score_users(std::span<const int64_t> users, float* out) const override {
    for (size_t r = 0; r < users.size(); ++r) {
      for (int64_t i = 0; i < items_; ++i) out[r * items_ + i] = scores_[users[r] * items_ + i];
    }
  }
  void score_pairs(std::span<const int64_t> users, std::span<const int64_t> items, float* out) const override {
    for (size_t k = 0; k < users.size(); ++k) out[k] = scores_[users[k] * items_ + items[k]];
  }

 private:
  int64_t users_, items_;
  std::vector<float> scores_;
};

/// Appends one interaction.
inline void add(Interactions& in, int64_t user, int64_t item, Split split, float rating = NAN) {
  in.user.push_back(user);
  in.item.push_back(item);
  in.rating.push_back(rating);
  in.timestamp.push_back(static_cast<int64_t>(in.size()));
  in.split.push_back(split);
}

namespace detail {
inline std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, '\t')) out.push_back(field);
  return out;
}
}  // namespace detail

/// Reads a RecBole .inter(.gz) file (user_id, item_id, timestamp columns) into a Dataset with
/// ids in order of first appearance and a leave-last-out split per user by timestamp (stable):
/// last = test, second to last = valid, the rest train. Test code only: `twotower prepare`
/// owns the real reader.
inline Dataset load_recbole_leave_last_out(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::string text;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  gzclose(f);

  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  auto header = detail::split_tabs(line);
  int ui = -1, ii = -1, ti = -1;
  for (int c = 0; c < static_cast<int>(header.size()); ++c) {
    std::string name = header[c].substr(0, header[c].find(':'));
    if (name == "user_id") ui = c;
    if (name == "item_id") ii = c;
    if (name == "timestamp") ti = c;
  }
  if (ui < 0 || ii < 0 || ti < 0) throw std::runtime_error(path + ": header lacks user_id/item_id/timestamp");

  Dataset d;
  std::unordered_map<std::string, int64_t> uid, iid;
  std::vector<int64_t> users, items;
  std::vector<double> times;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto f = detail::split_tabs(line);
    auto [u, new_u] = uid.try_emplace(f[ui], static_cast<int64_t>(uid.size()));
    if (new_u) d.user_ids.push_back(f[ui]);
    auto [i, new_i] = iid.try_emplace(f[ii], static_cast<int64_t>(iid.size()));
    if (new_i) d.item_ids.push_back(f[ii]);
    users.push_back(u->second);
    items.push_back(i->second);
    times.push_back(std::stod(f[ti]));
  }
  std::vector<size_t> order(users.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return users[a] != users[b] ? users[a] < users[b] : times[a] < times[b];
  });
  for (size_t p = 0; p < order.size(); ++p) {
    const size_t r = order[p];
    const bool last = p + 1 == order.size() || users[order[p + 1]] != users[r];
    const bool second = !last && (p + 2 == order.size() || users[order[p + 2]] != users[r]);
    add(d.interactions, users[r], items[r], last ? Split::kTest : second ? Split::kValid : Split::kTrain);
    d.interactions.timestamp.back() = static_cast<int64_t>(times[r]);
  }
  d.items.resize(d.item_ids.size());
  return d;
}


}  // namespace twotower::testing
