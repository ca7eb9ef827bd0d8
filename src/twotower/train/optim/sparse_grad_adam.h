// torch's dense Adam step of an embedding table whose gradient is sparse. Dense Adam moves every
// row, a row with a zero gradient included (its moments decay, weight decay pulls it, and its
// first moment keeps moving it); this does exactly that in one pass over the table, its two
// moments and the touched rows' gradient, so the [rows, D] dense gradient (zero-filled,
// accumulated into, read by clipping and by the update) is never made. The result equals
// Adam over grad.to_dense() up to float rounding (tests/fused_adam_test.cc).
#pragma once

#include <cstdint>

#include "twotower/train/optim/adam_row.h"

namespace at {
class Tensor;
}

namespace twotower {

/// One step of every row of `param` ([rows, D] float32, contiguous, CPU), `exp_avg` and
/// `exp_avg_sq` (its moments, same shape) with Adam's constants `a` (AdamRow::at_step). `grad` is
/// a coalesced sparse COO tensor of param's shape (sorted unique rows); the rows it lacks take a
/// zero gradient. Throws on another layout, dtype, device or shape.
void adam_step_with_sparse_grad(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                                const at::Tensor& exp_avg_sq, const AdamRow& a);

}  // namespace twotower
