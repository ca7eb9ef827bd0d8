#include "twotower/train/training_pairs.h"

#include <algorithm>

#include "twotower/data/model_inputs.h"
#include "twotower/model/input_tensors.h"

namespace twotower {
namespace {

PairColumns pairs_of(const Dataset& data, const std::vector<int64_t>& rows) {
  std::vector<int64_t> u(rows.size()), i(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    u[k] = data.interactions.user[static_cast<size_t>(rows[k])];
    i[k] = data.interactions.item[static_cast<size_t>(rows[k])];
  }
  return {long_tensor(u), long_tensor(i), torch::Tensor(), SequenceColumns()};
}

SequenceColumns sequences_of(const Interactions& in, const std::vector<int64_t>& rows, int64_t n) {
  const std::vector<size_t> order = by_user_and_time(in, rows);
  auto item = [&](size_t k) { return in.item[static_cast<size_t>(rows[order[k]])]; };
  auto user = [&](size_t k) { return in.user[static_cast<size_t>(rows[order[k]])]; };
  std::vector<int64_t> users, history, targets, counts;
  // A row of up to n history items and n + 1 targets, all -1 to start with.
  auto add_row = [&](int64_t u) {
    users.push_back(u);
    history.resize(history.size() + static_cast<size_t>(n), -1);
    targets.resize(targets.size() + static_cast<size_t>(n + 1), -1);
    counts.push_back(0);
    return std::make_pair(history.end() - n, targets.end() - (n + 1));
  };
  for (size_t end = 0; end < order.size();) {
    const size_t begin = end;
    while (end < order.size() && user(end) == user(begin)) ++end;
    const size_t first_row = std::min(end - begin, static_cast<size_t>(n + 1));
    auto [h, t] = add_row(user(begin));
    for (size_t p = 0; p < first_row; ++p) {
      t[static_cast<ptrdiff_t>(p)] = item(begin + p);
      if (p + 1 < first_row) h[static_cast<ptrdiff_t>(p)] = item(begin + p);
    }
    counts.back() = static_cast<int64_t>(first_row);
    for (size_t k = begin + first_row; k < end; ++k) {
      auto [hk, tk] = add_row(user(begin));
      for (int64_t j = 0; j < n; ++j) hk[j] = item(k - static_cast<size_t>(n - j));
      tk[n] = item(k);
      counts.back() = 1;
    }
  }
  const auto s = static_cast<int64_t>(users.size());
  return {long_tensor(users), long_tensor(history).view({s, n}), long_tensor(targets).view({s, n + 1}),
          long_tensor(counts)};
}

}  // namespace

PairColumns training_pairs(const Dataset& data, const Config& config, const std::vector<int64_t>& rows) {
  PairColumns train = pairs_of(data, rows);
  if (config.model.user_history_pooling == HistoryPooling::kAttention) {
    train.sequences = sequences_of(data.interactions, rows, config.model.user_history);
  } else if (config.model.user_history > 0 && config.model.user_history_mode == UserHistoryMode::kBefore) {
    train.history = padded_tensor(items_before(data.interactions, rows, config.model.user_history));
  }
  return train;
}

PairColumns validation_pairs(const Dataset& data, const Config& config) {
  const auto& trained = config.data.train_splits;
  if (std::find(trained.begin(), trained.end(), config.data.valid_split) != trained.end()) {
    return pairs_of(data, {});  // its loss would be a training loss
  }
  return pairs_of(data, rows_in_splits(data.interactions, {config.data.valid_split}));
}

}  // namespace twotower
