// One row of torch's Adam update (L2 weight decay added to the gradient, bias-corrected moments),
// vectorized for AVX-512 / AVX2 / baseline: the kernel under the row-wise lazy Adam
// (train/optim/sparse_optimizer.h) and under dense Adam of tables with sparse gradients
// (train/optim/sparse_grad_adam.h). The rows passed never overlap.
#pragma once

#include <cstdint>

namespace twotower {

/// Adam's constants at one step t (counted from 1), bias corrections folded in.
struct AdamRow {
  float b1, b2, wd;
  float step_size;  // lr / (1 - b1^t)
  float sqrt_bc2;   // sqrt(1 - b2^t)
  float eps;

  static AdamRow at_step(double lr, double beta1, double beta2, double weight_decay, double eps, int64_t t);
};

/// w, m, v, g: d floats each. g_j' = g_j + wd * w_j; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g'^2;
/// w -= step_size * m / (sqrt(v) / sqrt_bc2 + eps).
void adam_row(float* w, float* m, float* v, const float* g, int64_t d, const AdamRow& a);

/// The same with a zero gradient (g' = wd * w): a row the batch did not touch, under dense Adam.
/// It multiplies sqrt(v) by 1 / sqrt_bc2 instead of dividing (one division an element, not two:
/// the divider, which square roots share, bounds this loop), so its rounding differs from adam_row's.
void adam_row_without_grad(float* w, float* m, float* v, int64_t d, const AdamRow& a);

}  // namespace twotower
