// Matrix-multiply FLOPs of the two-tower model per (user, item) pair: the work the GEMM bound
// of a training step divides.
#pragma once

#include <cstdint>

#include "twotower/config/config.h"

namespace twotower {

struct PairFlops {
  double forward = 0;   // 2 * sum over Linear layers of in * out (user and item tower, text projection)
  double training = 0;  // forward + backward = 3 * forward (grad input and grad weight each cost one forward)
};

/// FLOPs per pair of the towers `model` describes, with text of width `text_dim`. Embedding
/// lookups, activations and the dot product are not counted (they are memory-bound, not GEMMs).
PairFlops pair_flops(const ModelConfig& model, int64_t text_dim);

}  // namespace twotower

namespace twotower {

/// Number of parameters of the towers `model` describes at these vocabulary sizes (the same
/// count as count_parameters of the LibTorch model, computed without building it).
int64_t parameter_count(const ModelConfig& model, int64_t num_users, int64_t num_items, int64_t num_categories,
                        int64_t num_brands, int64_t text_dim);

}  // namespace twotower
