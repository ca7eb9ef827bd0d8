#include "twotower/train/optim/adam_row.h"

#include <cmath>

#include "twotower/common/target_clones.h"

namespace twotower {

AdamRow AdamRow::at_step(double lr, double beta1, double beta2, double weight_decay, double eps, int64_t t) {
  const double bc1 = 1 - std::pow(beta1, static_cast<double>(t));
  const double bc2 = 1 - std::pow(beta2, static_cast<double>(t));
  return AdamRow{static_cast<float>(beta1),     static_cast<float>(beta2),          static_cast<float>(weight_decay),
                 static_cast<float>(lr / bc1), static_cast<float>(std::sqrt(bc2)), static_cast<float>(eps)};
}

// Compiled with -fno-math-errno (CMakeLists.txt), so the square roots vectorize.
TWOTOWER_CLONES void adam_row(float* __restrict w, float* __restrict m, float* __restrict v,
                              const float* __restrict g, int64_t d, const AdamRow& a) {
  const float b1 = a.b1, b2 = a.b2, wd = a.wd, step_size = a.step_size, sqrt_bc2 = a.sqrt_bc2, eps = a.eps;
  for (int64_t j = 0; j < d; ++j) {
    const float gj = g[j] + wd * w[j];
    m[j] = m[j] * b1 + (1 - b1) * gj;
    v[j] = v[j] * b2 + (1 - b2) * gj * gj;
    w[j] -= step_size * m[j] / (std::sqrt(v[j]) / sqrt_bc2 + eps);
  }
}

TWOTOWER_CLONES void adam_row_without_grad(float* __restrict w, float* __restrict m, float* __restrict v, int64_t d,
                                           const AdamRow& a) {
  const float b1 = a.b1, b2 = a.b2, wd = a.wd, step_size = a.step_size, inv = 1 / a.sqrt_bc2, eps = a.eps;
  for (int64_t j = 0; j < d; ++j) {
    const float gj = wd * w[j];
    m[j] = m[j] * b1 + (1 - b1) * gj;
    v[j] = v[j] * b2 + (1 - b2) * gj * gj;
    w[j] -= step_size * m[j] / (std::sqrt(v[j]) * inv + eps);
  }
}

}  // namespace twotower
