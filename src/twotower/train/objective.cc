#include "twotower/train/objective.h"

#include <algorithm>
#include <cmath>

#include "twotower/common/error.h"
#include "twotower/model/linear.h"
#include "twotower/train/loss.h"
#include "twotower/train/shared_user_scores.h"

namespace twotower {

Objective::Objective(const Config& config, const std::vector<int64_t>& train_items, int64_t num_items,
                     const torch::Device& device)
    : config_(config), device_(device) {
  // An item's chance of being a given in-batch candidate is its share of the training pairs;
  // items absent from training never are candidates, and count 1 keeps their log finite.
  std::vector<float> log_q(static_cast<size_t>(num_items), 0.0f);
  std::vector<int64_t> count(static_cast<size_t>(num_items), 0);
  for (int64_t i : train_items) ++count[static_cast<size_t>(i)];
  const double total = std::max<double>(1.0, static_cast<double>(train_items.size()));
  for (size_t i = 0; i < count.size(); ++i) {
    log_q[i] = static_cast<float>(std::log(static_cast<double>(std::max<int64_t>(count[i], 1)) / total));
  }
  log_q_ = torch::tensor(log_q).to(device);
  log_uniform_ = std::log(static_cast<double>(config.training.mixed_negatives) / static_cast<double>(num_items));
}

torch::Tensor Objective::loss(TwoTowerModel& model, NegativeSampler& sampler, const torch::Tensor& users,
                              const torch::Tensor& items, const torch::Tensor& history) {
  const TrainingConfig& t = config_.training;
  const int64_t m = users.numel();
  const torch::Tensor u = users.to(device_), i = items.to(device_);
  // A pair's own history holds only earlier items; the stored recent items leave the target out.
  const torch::Tensor h = history.defined() ? history.to(device_) : torch::Tensor();
  const torch::Tensor exclude = h.defined() ? torch::Tensor() : i;
  if (t.loss == LossKind::kSoftmax || t.loss == LossKind::kMixed) {
    torch::Tensor q = model->user_embeddings(u, exclude, h);  // [B, D]
    torch::Tensor columns = i;                       // [C]
    torch::Tensor log_q;
    if (t.logq_correction) {
      // Expected draws of the item among the candidates: B * p(i) in-batch, M / N uniform.
      log_q = log_q_.index_select(0, i) + static_cast<float>(std::log(static_cast<double>(m)));
    }
    if (t.loss == LossKind::kMixed) {
      negatives_.resize(static_cast<size_t>(t.mixed_negatives));
      sampler.sample(nullptr, t.mixed_negatives, 1, false, negatives_.data());  // positives unread
      torch::Tensor uniform = torch::tensor(negatives_, torch::kLong).to(device_);
      columns = torch::cat({i, uniform});
      if (t.logq_correction) log_q = torch::cat({log_q, torch::full({t.mixed_negatives}, log_uniform_, log_q.options())});
    }
    torch::Tensor scores = matmul_2d(q, model->item_embeddings(columns).t(), matmul_options(t));  // [B, C]
    return sampled_softmax_loss(scores, i, columns, log_q, t.temperature, t.mask_accidental_hits);
  }
  const int64_t k = config_.data.neg_ratio;
  negatives_.resize(static_cast<size_t>(k * m));
  sampler.sample(items.data_ptr<int64_t>(), m, k, config_.data.negatives_exclude_positive, negatives_.data());
  torch::Tensor negatives = torch::tensor(negatives_, torch::kLong).to(device_);
  torch::Tensor candidates = torch::cat({i, negatives});  // [(1 + k) B]
  torch::Tensor scores;
  if (t.shared_user_tower) {
    scores = shared_user_scores(model, u, candidates, k, h);
  } else {
    // Every pair runs the user tower, as the reference does; each pair's positive is left out of
    // the user's pooled history.
    torch::Tensor repeated_exclude = exclude.defined() ? exclude.repeat({1 + k}) : torch::Tensor();
    torch::Tensor repeated_history = h.defined() ? h.repeat({1 + k, 1}) : torch::Tensor();
    scores = (model->user_embeddings(u.repeat({1 + k}), repeated_exclude, repeated_history) *
              model->item_embeddings(candidates)).sum(-1);
  }
  torch::Tensor scale = model->logit_scale(t.logit_scale);
  if (t.loss == LossKind::kBpr) return bpr_loss(scores.slice(0, 0, m), scores.slice(0, m), scale);
  if (!labels_.defined() || labels_.numel() != (1 + k) * m) {
    labels_ = torch::cat({torch::ones({m}), torch::zeros({k * m})}).to(device_);
  }
  return bce_loss(scores, labels_, scale);
}

}  // namespace twotower
