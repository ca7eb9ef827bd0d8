#include "twotower/eval/baselines.h"

#include <algorithm>
#include <cmath>

#include "twotower/common/error.h"
#include "twotower/common/parallel_for.h"

namespace twotower {
namespace {

void check_users(const char* scorer, std::span<const int64_t> users, int64_t limit) {
  for (int64_t u : users) {
    if (u < 0 || u >= limit) fail(scorer, " scorer: user id ", u, " outside [0, ", limit, ")");
  }
}

void check_pairs(const char* scorer, std::span<const int64_t> users, std::span<const int64_t> items,
                 int64_t num_users, int64_t num_items) {
  if (users.size() != items.size()) {
    fail(scorer, " scorer: got ", users.size(), " users and ", items.size(), " items, expected pairs");
  }
  check_users(scorer, users, num_users);
  for (int64_t i : items) {
    if (i < 0 || i >= num_items) fail(scorer, " scorer: item id ", i, " outside [0, ", num_items, ")");
  }
}

}  // namespace

PopularityScorer::PopularityScorer(const EvalData& data) : data_(data) {}

void PopularityScorer::score_users(std::span<const int64_t> users, float* out) const {
  check_users("popularity", users, data_.num_users);
  const int64_t n_items = data_.num_items;
  for (size_t r = 0; r < users.size(); ++r) {
    float* row = out + static_cast<int64_t>(r) * n_items;
    for (int64_t i = 0; i < n_items; ++i) row[i] = static_cast<float>(data_.item_degree[static_cast<size_t>(i)]);
  }
}

void PopularityScorer::score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                                   float* out) const {
  check_pairs("popularity", users, items, data_.num_users, data_.num_items);
  for (size_t k = 0; k < items.size(); ++k) out[k] = static_cast<float>(data_.item_degree[static_cast<size_t>(items[k])]);
}

ItemKnnScorer::ItemKnnScorer(const EvalData& data, int64_t neighbours) : data_(data) {
  if (neighbours < 1) fail("item-kNN: field \"neighbours\": got ", neighbours, ", expected >= 1");
  const int64_t n_items = data.num_items, n_users = data.num_users;

  // Transpose the history: item -> users.
  std::vector<int64_t> item_offsets(static_cast<size_t>(n_items) + 1, 0);
  for (int64_t i : data.history_items) ++item_offsets[static_cast<size_t>(i) + 1];
  for (int64_t i = 0; i < n_items; ++i) item_offsets[static_cast<size_t>(i) + 1] += item_offsets[static_cast<size_t>(i)];
  std::vector<int64_t> item_users(data.history_items.size());
  {
    std::vector<int64_t> fill(item_offsets.begin(), item_offsets.end() - 1);
    for (int64_t u = 0; u < n_users; ++u) {
      for (int64_t i : data.history(u)) item_users[static_cast<size_t>(fill[static_cast<size_t>(i)]++)] = u;
    }
  }
  auto degree = [&](int64_t i) {
    return static_cast<double>(item_offsets[static_cast<size_t>(i) + 1] - item_offsets[static_cast<size_t>(i)]);
  };

  // Column j: co-occurrence counts with every i through j's users, then its top neighbours.
  std::vector<std::vector<std::pair<int64_t, float>>> rows(static_cast<size_t>(n_items));
  std::vector<int64_t> count(static_cast<size_t>(n_items), 0);
  std::vector<int64_t> touched;
  std::vector<std::pair<float, int64_t>> candidates;
  for (int64_t j = 0; j < n_items; ++j) {
    touched.clear();
    for (int64_t p = item_offsets[static_cast<size_t>(j)]; p < item_offsets[static_cast<size_t>(j) + 1]; ++p) {
      for (int64_t i : data.history(item_users[static_cast<size_t>(p)])) {
        if (i == j) continue;
        if (count[static_cast<size_t>(i)]++ == 0) touched.push_back(i);
      }
    }
    candidates.clear();
    for (int64_t i : touched) {
      double sim = static_cast<double>(count[static_cast<size_t>(i)]) / std::sqrt(degree(i) * degree(j));
      candidates.emplace_back(static_cast<float>(sim), i);
      count[static_cast<size_t>(i)] = 0;
    }
    auto better = [](const std::pair<float, int64_t>& a, const std::pair<float, int64_t>& b) {
      return a.first > b.first || (a.first == b.first && a.second < b.second);
    };
    if (static_cast<int64_t>(candidates.size()) > neighbours) {
      std::nth_element(candidates.begin(), candidates.begin() + neighbours, candidates.end(), better);
      candidates.resize(static_cast<size_t>(neighbours));
    }
    for (const auto& [sim, i] : candidates) rows[static_cast<size_t>(i)].emplace_back(j, sim);
  }

  offsets_.assign(static_cast<size_t>(n_items) + 1, 0);
  for (int64_t i = 0; i < n_items; ++i) {
    offsets_[static_cast<size_t>(i) + 1] = offsets_[static_cast<size_t>(i)] + static_cast<int64_t>(rows[static_cast<size_t>(i)].size());
  }
  edges_.reserve(static_cast<size_t>(offsets_.back()));
  for (auto& row : rows) edges_.insert(edges_.end(), row.begin(), row.end());  // j ascending: built in j order
}

void ItemKnnScorer::score_users(std::span<const int64_t> users, float* out) const {
  check_users("item-kNN", users, data_.num_users);
  const int64_t n_items = data_.num_items;
  for (size_t r = 0; r < users.size(); ++r) {
    float* row = out + static_cast<int64_t>(r) * n_items;
    std::fill(row, row + n_items, 0.0f);
    for (int64_t i : data_.history(users[r])) {
      for (const auto& [j, w] : neighbours_of(i)) row[j] += w;
    }
  }
}

void ItemKnnScorer::score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                                float* out) const {
  check_pairs("item-kNN", users, items, data_.num_users, data_.num_items);
  for (size_t k = 0; k < users.size(); ++k) {
    float s = 0.0f;
    for (int64_t i : data_.history(users[k])) {
      auto row = neighbours_of(i);
      auto it = std::lower_bound(row.begin(), row.end(), items[k],
                                 [](const std::pair<int64_t, float>& e, int64_t j) { return e.first < j; });
      if (it != row.end() && it->first == items[k]) s += it->second;
    }
    out[k] = s;
  }
}

EaseScorer::EaseScorer(const EvalData& data, std::vector<float> weights, int num_threads)
    : data_(data), weights_(std::move(weights)), num_threads_(resolve_threads(num_threads, "EASE scoring")) {
  const auto n = static_cast<size_t>(data.num_items);
  if (weights_.size() != n * n) {
    fail("EASE: got ", weights_.size(), " weights, expected items^2 = ", n, "^2 = ", n * n);
  }
}

void EaseScorer::score_users(std::span<const int64_t> users, float* out) const {
  check_users("EASE", users, data_.num_users);
  const int64_t n_items = data_.num_items;
  parallel_for(static_cast<int64_t>(users.size()), num_threads_, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      float* row = out + r * n_items;
      std::fill(row, row + n_items, 0.0f);
      for (int64_t i : data_.history(users[static_cast<size_t>(r)])) {
        const float* b = weights_.data() + i * n_items;
        for (int64_t j = 0; j < n_items; ++j) row[j] += b[j];
      }
    }
  });
}

void EaseScorer::score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                             float* out) const {
  check_pairs("EASE", users, items, data_.num_users, data_.num_items);
  for (size_t k = 0; k < users.size(); ++k) {
    float s = 0.0f;
    for (int64_t i : data_.history(users[k])) s += weights_[static_cast<size_t>(i * data_.num_items + items[k])];
    out[k] = s;
  }
}

}  // namespace twotower
