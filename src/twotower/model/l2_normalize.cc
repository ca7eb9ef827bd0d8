#include "twotower/model/l2_normalize.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>

#include "twotower/common/target_clones.h"

namespace twotower {
namespace {

constexpr int64_t kLanes = 16;  // partial sums, so the dot products vectorize without reassociation flags

// sum_j a[j] * b[j] over n elements, in kLanes interleaved partial sums.
inline float dot(const float* a, const float* b, int64_t n) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (int64_t l = 0; l < kLanes; ++l) acc[l] += a[j + l] * b[j + l];
  }
  float sum = 0.0f;
  for (int64_t l = 0; l < kLanes; ++l) sum += acc[l];
  for (; j < n; ++j) sum += a[j] * b[j];
  return sum;
}

// Rows [begin, end) of x ([rows, d]): y = x / max(||x||, eps); norm[r] = ||x_r||.
TWOTOWER_CLONES void normalize_rows(const float* x, float* y, float* norm, int64_t begin, int64_t end, int64_t d,
                                    float eps) {
  for (int64_t r = begin; r < end; ++r) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    const float n = std::sqrt(dot(xr, xr, d));
    norm[r] = n;
    const float denominator = std::max(n, eps);
    for (int64_t j = 0; j < d; ++j) yr[j] = xr[j] / denominator;
  }
}

// Rows [begin, end): grad_x = (g - y (g . y)) / ||x|| where ||x|| >= eps, else g / eps.
TWOTOWER_CLONES void normalize_rows_backward(const float* g, const float* y, const float* norm, float* gx,
                                             int64_t begin, int64_t end, int64_t d, float eps) {
  for (int64_t r = begin; r < end; ++r) {
    const float* gr = g + r * d;
    const float* yr = y + r * d;
    float* out = gx + r * d;
    if (norm[r] >= eps) {
      const float gy = dot(gr, yr, d), n = norm[r];
      for (int64_t j = 0; j < d; ++j) out[j] = (gr[j] - yr[j] * gy) / n;
    } else {
      for (int64_t j = 0; j < d; ++j) out[j] = gr[j] / eps;
    }
  }
}

int64_t grain_rows(int64_t d) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(d, 1)); }

class L2NormalizeFunction : public torch::autograd::Function<L2NormalizeFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double eps) {
    torch::Tensor in = x.contiguous();
    const int64_t rows = in.size(0), d = in.size(1);
    torch::Tensor y = torch::empty_like(in);
    torch::Tensor norm = torch::empty({rows}, in.options());
    const float* xp = in.data_ptr<float>();
    float* yp = y.data_ptr<float>();
    float* np = norm.data_ptr<float>();
    const auto e = static_cast<float>(eps);
    at::parallel_for(0, rows, grain_rows(d), [&](int64_t begin, int64_t end) {
      normalize_rows(xp, yp, np, begin, end, d, e);
    });
    ctx->save_for_backward({y, norm});
    ctx->saved_data["eps"] = eps;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& y = saved[0];
    const torch::Tensor& norm = saved[1];
    torch::Tensor g = grad_outputs[0].contiguous();
    const int64_t rows = y.size(0), d = y.size(1);
    torch::Tensor gx = torch::empty_like(g);
    const float* gp = g.data_ptr<float>();
    const float* yp = y.data_ptr<float>();
    const float* np = norm.data_ptr<float>();
    float* out = gx.data_ptr<float>();
    const auto e = static_cast<float>(ctx->saved_data["eps"].toDouble());
    at::parallel_for(0, rows, grain_rows(d), [&](int64_t begin, int64_t end) {
      normalize_rows_backward(gp, yp, np, out, begin, end, d, e);
    });
    return {gx, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor l2_normalize(const torch::Tensor& x, double eps) {
  if (x.dim() != 2 || !x.device().is_cpu() || x.scalar_type() != torch::kFloat) {
    return torch::nn::functional::normalize(x, torch::nn::functional::NormalizeFuncOptions().dim(-1).eps(eps));
  }
  return L2NormalizeFunction::apply(x, eps);
}

}  // namespace twotower
