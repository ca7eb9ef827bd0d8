#include "twotower/model/input_tensors.h"

namespace twotower {

torch::Tensor long_tensor(const std::vector<int64_t>& values) {
  return torch::from_blob(const_cast<int64_t*>(values.data()), {static_cast<int64_t>(values.size())}, torch::kLong)
      .clone();
}

torch::Tensor padded_tensor(const PaddedTable& table) { return long_tensor(table.data).view({table.rows, table.cols}); }

}  // namespace twotower
