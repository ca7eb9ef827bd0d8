#include "twotower/eval/eval_data.h"

#include <algorithm>
#include <cmath>

#include "twotower/common/error.h"

namespace twotower {
namespace {

// Builds a CSR of sorted distinct items per user from (user, item) pairs.
void build_csr(int64_t num_users, const std::vector<std::pair<int64_t, int64_t>>& pairs,
               std::vector<int64_t>& offsets, std::vector<int64_t>& items) {
  std::vector<std::pair<int64_t, int64_t>> sorted = pairs;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  offsets.assign(static_cast<size_t>(num_users) + 1, 0);
  items.resize(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    ++offsets[static_cast<size_t>(sorted[i].first) + 1];
    items[i] = sorted[i].second;
  }
  for (size_t u = 0; u < static_cast<size_t>(num_users); ++u) offsets[u + 1] += offsets[u];
}

}  // namespace

EvalData make_eval_data(const Interactions& in, int64_t num_users, int64_t num_items, Split split) {
  if (split == Split::kTrain) fail("evaluation split: got \"train\", expected \"valid\" or \"test\"");
  if (num_users < 0 || num_items < 0) {
    fail("evaluation: got ", num_users, " users and ", num_items, " items, expected counts >= 0");
  }
  EvalData d;
  d.split = split;
  d.num_users = num_users;
  d.num_items = num_items;
  d.item_degree.assign(static_cast<size_t>(num_items), 0);

  std::vector<std::pair<int64_t, int64_t>> history, targets;
  for (size_t r = 0; r < in.size(); ++r) {
    const int64_t u = in.user[r], i = in.item[r];
    if (u < 0 || u >= num_users) fail("interaction ", r, ": field \"user_idx\": got ", u, ", expected [0, ", num_users, ")");
    if (i < 0 || i >= num_items) fail("interaction ", r, ": field \"item_idx\": got ", i, ", expected [0, ", num_items, ")");
    const Split s = in.split[r];
    const double rating = r < in.rating.size() ? in.rating[r] : NAN;
    const bool rated = !std::isnan(rating);
    d.data_has_ratings = d.data_has_ratings || rated;
    if (s == split) {
      targets.emplace_back(u, i);
      ++d.eval_interactions;
      if (rated) {
        d.eval_users.push_back(u);
        d.eval_items.push_back(i);
        d.eval_ratings.push_back(rating);
      }
    } else if (static_cast<int>(s) < static_cast<int>(split)) {
      history.emplace_back(u, i);
      ++d.item_degree[static_cast<size_t>(i)];
    }
    if (s == Split::kTrain && rated) {
      d.fit_users.push_back(u);
      d.fit_items.push_back(i);
      d.fit_ratings.push_back(rating);
    }
  }
  build_csr(num_users, history, d.history_offsets, d.history_items);

  // A target the user already has in history cannot be recommended (history is excluded), so
  // it is dropped and counted rather than scored as a certain miss.
  std::vector<std::pair<int64_t, int64_t>> fresh;
  fresh.reserve(targets.size());
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  for (const auto& [u, i] : targets) {
    auto h = d.history(u);
    if (std::binary_search(h.begin(), h.end(), i)) {
      ++d.targets_already_seen;
    } else {
      fresh.emplace_back(u, i);
    }
  }
  build_csr(num_users, fresh, d.target_offsets, d.target_items);
  for (int64_t u = 0; u < num_users; ++u) d.users_with_targets += !d.targets(u).empty();
  return d;
}

}  // namespace twotower
