// The item table's rows of padded histories, the attention pooling's input: [S, L] item ids (-1
// for padding) to [S, L, D] rows, the padding's rows zero. Two ways give the same rows and the
// same dense gradient; they differ in what the host waits for and in a sparse gradient's rows.
#pragma once

#include <torch/torch.h>

namespace twotower {

/// Looks up only the real items (masked_select) and scatters them into zeros: the padding
/// touches no row of the table nor of its gradient. The looked-up count depends on the data, so
/// off the CPU the host waits for the device.
torch::Tensor history_rows_by_selection(torch::nn::Embedding table, const torch::Tensor& history);

/// Looks up every position (the padding reads row 0) and zeroes the padding's rows with
/// torch::where, so every shape follows the history's and the host never waits. The padding
/// adds exact zeros to row 0 of a dense gradient (no change to it), but would make row 0 a row
/// of a sparse gradient, which a row-wise optimizer then updates.
torch::Tensor history_rows_by_mask(torch::nn::Embedding table, const torch::Tensor& history);

/// by_mask off the CPU where the table's gradient is dense, by_selection otherwise (on the CPU
/// it skips the padding's lookups; a sparse gradient keeps only the real items' rows).
torch::Tensor history_rows(torch::nn::Embedding table, const torch::Tensor& history);

}  // namespace twotower
