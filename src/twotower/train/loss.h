// Training losses on cosine scores. Pure functions of their tensors.
#pragma once

#include <torch/torch.h>

namespace twotower {

/// Binary cross-entropy with logits z = scale * score, averaged over the pairs:
///   mean_b [ -y_b log sigmoid(z_b) - (1 - y_b) log(1 - sigmoid(z_b)) ]
/// With scale 1 and |score| <= 1 the per-pair loss never falls below log(1 + e^-1) = 0.3133.
/// @param scores  [N] float32 cosine scores of (user, item) pairs
/// @param labels  [N] float32, 1 for positives, 0 for negatives
inline torch::Tensor bce_loss(const torch::Tensor& scores, const torch::Tensor& labels, double scale) {
  return torch::binary_cross_entropy_with_logits(scores * scale, labels);
}

}  // namespace twotower
