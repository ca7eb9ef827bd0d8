#include "twotower/train/loss.h"

#include <torch/torch.h>

#include <limits>

#include "twotower/common/error.h"

namespace twotower {

at::Tensor bce_loss(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& scale) {
  if (scores.numel() == 0) return torch::zeros({}, scores.options());
  return torch::binary_cross_entropy_with_logits(scores * scale, labels);
}

at::Tensor bce_loss(const at::Tensor& scores, const at::Tensor& labels, double scale) {
  return bce_loss(scores, labels, torch::tensor(scale, scores.options()));
}

at::Tensor bpr_loss(const at::Tensor& positive, const at::Tensor& negative, const at::Tensor& scale) {
  const int64_t b = positive.numel();
  if (b == 0 || negative.numel() == 0) return torch::zeros({}, positive.options());
  if (negative.numel() % b != 0) fail("bpr loss: got ", negative.numel(), " negatives for ", b, " positives");
  torch::Tensor diff = positive.repeat({negative.numel() / b}) - negative;
  return torch::nn::functional::softplus(-scale * diff).mean();
}

at::Tensor sampled_softmax_loss(const at::Tensor& scores, const at::Tensor& row_items, const at::Tensor& column_items,
                                const at::Tensor& log_q, double temperature, bool mask_hits) {
  const int64_t b = scores.size(0), c = scores.size(1);
  if (b == 0) return torch::zeros({}, scores.options());
  if (c < b || row_items.numel() != b || column_items.numel() != c || (log_q.defined() && log_q.numel() != c)) {
    fail("sampled softmax: got scores [", b, ", ", c, "], ", row_items.numel(), " row items, ", column_items.numel(),
         " column items, expected [B, C >= B], B and C");
  }
  torch::Tensor logits = scores / temperature;
  if (log_q.defined()) logits = logits - log_q.unsqueeze(0);
  if (mask_hits) {
    torch::Tensor same = row_items.unsqueeze(1) == column_items.unsqueeze(0);  // [B, C]
    same.slice(1, 0, b).fill_diagonal_(false);
    logits = logits.masked_fill(same, -std::numeric_limits<float>::infinity());
  }
  torch::Tensor target = torch::arange(b, torch::TensorOptions(torch::kLong).device(scores.device()));
  return torch::nn::functional::cross_entropy(logits, target);
}

}  // namespace twotower
