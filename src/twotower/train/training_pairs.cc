#include "twotower/train/training_pairs.h"

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
  return {long_tensor(u), long_tensor(i), torch::Tensor()};
}

}  // namespace

PairColumns training_pairs(const Dataset& data, const Config& config, const std::vector<int64_t>& rows) {
  PairColumns train = pairs_of(data, rows);
  if (config.model.user_history > 0 && config.model.user_history_mode == UserHistoryMode::kBefore) {
    train.history = padded_tensor(items_before(data.interactions, rows, config.model.user_history));
  }
  return train;
}

PairColumns validation_pairs(const Dataset& data, const Config& config) {
  return pairs_of(data, rows_in_splits(data.interactions, {config.data.valid_split}));
}

}  // namespace twotower
