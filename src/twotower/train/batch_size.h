// training.batch_size: 0 (auto), the batch size from the size of the training data.
#pragma once

#include <cstdint>

namespace twotower {

/// The rule, as the log states it.
inline constexpr const char* kAutoBatchRule = "the power of two nearest pairs / 256, within [64, 1024]";

/// The power of two nearest `pairs` / 256 (in log scale), at least 64 and at most 1024: a data
/// set of 16k pairs or more gets at least 256 steps an epoch at batches of up to 1024, a smaller
/// one 64-pair steps (Gift Cards, 2k pairs: 31 an epoch) rather than a handful of large ones.
int64_t auto_batch_size(int64_t pairs);

}  // namespace twotower
