// The model's data inputs as LibTorch tensors: id lists and -1 padded tables (data/model_inputs.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "twotower/data/model_inputs.h"

namespace twotower {

/// [n] int64 CPU tensor holding a copy of `values`.
torch::Tensor long_tensor(const std::vector<int64_t>& values);

/// [rows, width] int64 CPU tensor holding a copy of `table`'s values (-1 padded).
torch::Tensor padded_tensor(const PaddedTable& table);

}  // namespace twotower
