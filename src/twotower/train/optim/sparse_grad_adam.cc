#include "twotower/train/optim/sparse_grad_adam.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>

#include "twotower/common/error.h"

namespace twotower {
namespace {

constexpr int64_t kRowsPerTask = 256;  // rows per parallel_for chunk (64 KiB of each tensor at D = 64)

void check_table(const torch::Tensor& t, const torch::Tensor& param, const char* what) {
  if (!t.device().is_cpu() || t.scalar_type() != torch::kFloat || !t.is_contiguous() || !t.sizes().equals(param.sizes())) {
    fail("adam_step_with_sparse_grad: ", what, " is ", t.toString(), " ", t.sizes(), ", expected a contiguous CPU float32 [",
         param.size(0), ", ", param.size(1), "]");
  }
}

}  // namespace

void adam_step_with_sparse_grad(const torch::Tensor& param, const torch::Tensor& grad, const torch::Tensor& exp_avg,
                                const torch::Tensor& exp_avg_sq, const AdamRow& a) {
  if (param.dim() != 2) fail("adam_step_with_sparse_grad: got a ", param.dim(), "-d parameter, expected [rows, D]");
  check_table(param, param, "the parameter");
  check_table(exp_avg, param, "exp_avg");
  check_table(exp_avg_sq, param, "exp_avg_sq");
  if (!grad.is_sparse() || !grad.is_coalesced() || grad.sparse_dim() != 1 || !grad.sizes().equals(param.sizes()) ||
      grad.scalar_type() != torch::kFloat) {
    fail("adam_step_with_sparse_grad: got a gradient ", grad.toString(), " ", grad.sizes(),
         ", expected a coalesced sparse float32 tensor of the parameter's shape with one sparse dimension");
  }
  const torch::Tensor rows = grad._indices().select(0, 0).contiguous();
  const torch::Tensor values = grad._values().contiguous();
  const int64_t n = rows.numel(), d = param.size(1);
  const int64_t* row = rows.data_ptr<int64_t>();
  const float* g = values.data_ptr<float>();
  float* w = param.data_ptr<float>();
  float* m = exp_avg.data_ptr<float>();
  float* v = exp_avg_sq.data_ptr<float>();
  at::parallel_for(0, param.size(0), kRowsPerTask, [&](int64_t begin, int64_t end) {
    // The gradient's rows are sorted: this chunk's start at the first row >= begin.
    int64_t k = std::lower_bound(row, row + n, begin) - row;
    int64_t r = begin;
    while (r < end) {
      // The untouched rows up to the next touched one are contiguous: one call for all of them.
      const int64_t next = k < n ? std::min(row[k], end) : end;
      if (next > r) adam_row_without_grad(w + r * d, m + r * d, v + r * d, (next - r) * d, a);
      r = next;
      if (r < end) {
        adam_row(w + r * d, m + r * d, v + r * d, g + k * d, d, a);
        ++k;
        ++r;
      }
    }
  });
}

}  // namespace twotower
