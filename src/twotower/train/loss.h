// Training losses on cosine scores. Pure functions of their tensors; each returns a scalar that
// is the mean over the batch, and 0 for an empty batch.
#pragma once

#include <ATen/core/Tensor.h>

namespace twotower {

/// Binary cross-entropy with logits z = scale * score, averaged over the pairs:
///   mean_b [ -y_b log sigmoid(z_b) - (1 - y_b) log(1 - sigmoid(z_b)) ]
/// With scale 1 and |score| <= 1 the per-pair loss never falls below log(1 + e^-1) = 0.3133.
/// @param scores  [N] float32 cosine scores of (user, item) pairs
/// @param labels  [N] float32, 1 for positives, 0 for negatives
/// @param scale   a 0-dim float32 tensor (may require grad: a learned logit scale)
at::Tensor bce_loss(const at::Tensor& scores, const at::Tensor& labels, const at::Tensor& scale);
at::Tensor bce_loss(const at::Tensor& scores, const at::Tensor& labels, double scale);

/// Bayesian personalized ranking with k negatives per positive:
///   mean_{r, b} -log sigmoid(scale * (pos_b - neg_{r*B+b})) = mean softplus(-scale * (pos - neg))
/// @param positive  [B] float32 scores of the positive pairs
/// @param negative  [k * B] float32 scores of (user b, negative r*B+b), the layout of NegativeSampler
/// @param scale     0-dim float32 tensor
at::Tensor bpr_loss(const at::Tensor& positive, const at::Tensor& negative, const at::Tensor& scale);

/// Sampled softmax over candidate columns, the positive of row b in column b (in-batch items
/// first, then any extra shared negatives):
///   l_bc = s_bc / T - log_q_c
///   l_bc = -inf where mask_hits and column_items_c == row_items_b and c != b (accidental hit)
///   loss = mean_b [ log sum_c exp(l_bc) - l_bb ]
/// log_q_c (log-Q correction, Yi et al. 2019) is the log of how often candidate c is drawn; a
/// constant added to every log_q_c changes nothing.
/// @param scores        [B, C] float32 cosines of user b and candidate c, C >= B
/// @param row_items     [B] int64 each row's positive item
/// @param column_items  [C] int64 the candidates' items (its first B are row_items)
/// @param log_q         [C] float32, or undefined for no correction
at::Tensor sampled_softmax_loss(const at::Tensor& scores, const at::Tensor& row_items, const at::Tensor& column_items,
                                const at::Tensor& log_q, double temperature, bool mask_hits);
/// The same loss from composed tensor operations (autograd through each): the path on a GPU,
/// and the check of the fused CPU path that sampled_softmax_loss takes, which reads the logits
/// in place and writes the gradient of the scores in one pass.
at::Tensor sampled_softmax_loss_composed(const at::Tensor& scores, const at::Tensor& row_items,
                                         const at::Tensor& column_items, const at::Tensor& log_q, double temperature,
                                         bool mask_hits);

/// Softmax over the whole catalogue, s = users @ items^T:
///   loss = mean_b [ log sum_i exp(s_bi / T) - s_b,t_b / T ]
/// differentiable in users [B, D] and items [I, D] (every item of the catalogue); targets [B]
/// int64 in [0, I). On the CPU (float32) the scores are made, normalized and turned into both
/// gradients 64 rows at a time in the forward pass, so no [B, I] matrix is ever whole in memory
/// (at B = 1024 and Games' 16,859 items it would be 69 MB, read and written about six times a
/// step); elsewhere the composed loss.
at::Tensor full_softmax_loss_of(const at::Tensor& users, const at::Tensor& items, const at::Tensor& targets,
                                double temperature);

}  // namespace twotower
