#include "twotower/train/objective.h"

#include <algorithm>
#include <cmath>

#include "twotower/common/error.h"
#include "twotower/model/linear.h"
#include "twotower/train/loss.h"
#include "twotower/train/shared_user_scores.h"

namespace twotower {

Objective::Objective(const Config& config, const std::vector<int64_t>& train_items, int64_t num_items,
                     const torch::Device& device, DataParallel* dp)
    : config_(config), device_(device), dp_(dp ? *dp : one_process_) {
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
  if (config.training.loss == LossKind::kFull) all_items_ = torch::arange(num_items, torch::kLong).to(device);
}

torch::Tensor Objective::loss(TwoTowerModel& model, NegativeSampler& sampler, const torch::Tensor& users,
                              const torch::Tensor& items, const torch::Tensor& history, const PrefixBatch* prefixes) {
  return loss_with(model, users, items, draw_negatives(sampler, items), history, prefixes);
}

torch::Tensor Objective::draw_negatives(NegativeSampler& sampler, const torch::Tensor& items) {
  const TrainingConfig& t = config_.training;
  if (t.loss == LossKind::kMixed) {
    negatives_.resize(static_cast<size_t>(t.mixed_negatives));
    sampler.sample(nullptr, t.mixed_negatives, 1, false, negatives_.data());  // positives unread
    return torch::tensor(negatives_, torch::kLong);
  }
  if (t.loss != LossKind::kBce && t.loss != LossKind::kBpr) return {};
  // The whole batch's negatives are drawn on every rank (the sampler's sequence is the one
  // process's); a rank keeps its rows'.
  const int64_t m = items.numel(), k = config_.data.neg_ratio;
  const torch::Tensor positives = items.contiguous();
  negatives_.resize(static_cast<size_t>(k * m));
  sampler.sample(positives.data_ptr<int64_t>(), m, k, config_.data.negatives_exclude_positive, negatives_.data());
  return torch::tensor(negatives_, torch::kLong).view({k, m});
}

torch::Tensor Objective::loss_with(TwoTowerModel& model, const torch::Tensor& users, const torch::Tensor& items,
                                   const torch::Tensor& negatives, const torch::Tensor& history,
                                   const PrefixBatch* prefixes) {
  const int64_t m = users.numel();
  const RowRange rows = dp_.local_rows(m);  // all of them in one process
  const torch::Tensor u = on_device(users.slice(0, rows.begin, rows.end));
  // A pair's own history holds only earlier items; the stored recent items leave the target out.
  const torch::Tensor h = history.defined() ? on_device(history.slice(0, rows.begin, rows.end)) : torch::Tensor();
  const torch::Tensor exclude = h.defined() || prefixes ? torch::Tensor() : on_device(items.slice(0, rows.begin, rows.end));
  const LossKind kind = config_.training.loss;
  torch::Tensor loss;
  if (kind == LossKind::kSoftmax || kind == LossKind::kMixed || kind == LossKind::kFull) {
    torch::Tensor q = prefixes ? prefix_rows(model, *prefixes, rows) : model->user_embeddings(u, exclude, h);  // [b, D]
    loss = kind == LossKind::kFull ? full_loss(model, items, q, rows) : softmax_loss(model, negatives, items, q, rows);
  } else {
    if (prefixes) fail("training.loss: got ", to_string(kind), " for a batch of histories, expected softmax, mixed or full");
    loss = pair_loss(model, negatives, items, u, h, exclude, rows);
  }
  if (!dp_.active()) return loss;
  return loss * (static_cast<double>(rows.size()) / static_cast<double>(m));
}

torch::Tensor Objective::on_device(const torch::Tensor& t) const {
  if (!device_.is_cuda() || !t.device().is_cpu()) return t.to(device_);
  return t.pin_memory().to(device_, /*non_blocking=*/true);
}

torch::Tensor Objective::prefix_rows(TwoTowerModel& model, const PrefixBatch& batch, const RowRange& rows) {
  const std::vector<int64_t>& first = batch.first;
  // The histories [lo, hi) hold the pairs [rows.begin, rows.end).
  const auto lo = std::upper_bound(first.begin(), first.end(), rows.begin) - first.begin() - 1;
  const auto hi = std::lower_bound(first.begin(), first.end(), rows.end) - first.begin();
  const int64_t width = batch.history.size(1) + 1;
  torch::Tensor where = batch.where.slice(0, rows.begin, rows.end) - lo * width;
  return model->prefix_user_embeddings(on_device(batch.users.slice(0, lo, hi)), on_device(batch.history.slice(0, lo, hi)),
                                       on_device(where));
}

Objective::Columns Objective::gathered_columns(TwoTowerModel& model, const torch::Tensor& positives,
                                               const torch::Tensor& uniform, const RowRange& rows) {
  const int64_t m = positives.numel(), extra = uniform.defined() ? uniform.numel() : 0;
  const int world = dp_.world_size();
  // Rank r computes its positives' vectors and its share of the shared negatives'; gathered, rank
  // r's rows sit at offset[r]: its positives, then its negatives.
  std::vector<int64_t> counts(static_cast<size_t>(world)), where(static_cast<size_t>(m + extra));
  int64_t offset = 0;
  for (int r = 0; r < world; ++r) {
    const RowRange p = local_rows(m, r, world), n = local_rows(extra, r, world);
    for (int64_t j = p.begin; j < p.end; ++j) where[static_cast<size_t>(j)] = offset + j - p.begin;
    for (int64_t j = n.begin; j < n.end; ++j) where[static_cast<size_t>(m + j)] = offset + p.size() + j - n.begin;
    counts[static_cast<size_t>(r)] = p.size() + n.size();
    offset += p.size() + n.size();
  }
  const RowRange own = local_rows(extra, dp_.rank(), world);
  torch::Tensor mine = positives.slice(0, rows.begin, rows.end);
  if (extra > 0) mine = torch::cat({mine, uniform.slice(0, own.begin, own.end)});
  torch::Tensor gathered = dp_.gather_rows(model->item_embeddings(mine), counts);
  // The loss reads row b's positive in column b: this rank's positives first, then the rest in
  // their global order (the softmax is a sum over columns; only its order changes).
  std::vector<int64_t> order;
  for (int64_t j = rows.begin; j < rows.end; ++j) order.push_back(j);
  for (int64_t j = 0; j < m + extra; ++j) {
    if (j < rows.begin || j >= rows.end) order.push_back(j);
  }
  torch::Tensor order_tensor = on_device(torch::tensor(order, torch::kLong));
  std::vector<int64_t> rows_in_gathered;
  for (int64_t j : order) rows_in_gathered.push_back(where[static_cast<size_t>(j)]);
  return {gathered.index_select(0, on_device(torch::tensor(rows_in_gathered, torch::kLong))), order_tensor};
}

torch::Tensor Objective::softmax_loss(TwoTowerModel& model, const torch::Tensor& negatives, const torch::Tensor& items,
                                      const torch::Tensor& q, const RowRange& rows) {
  const TrainingConfig& t = config_.training;
  const int64_t m = items.numel();
  const torch::Tensor i = on_device(items);
  torch::Tensor uniform;
  torch::Tensor columns = i;                                 // [C]
  torch::Tensor log_q;
  if (t.logq_correction) {
    // Expected draws of the item among the candidates: B * p(i) in-batch, M / N uniform.
    log_q = log_q_.index_select(0, i) + static_cast<float>(std::log(static_cast<double>(m)));
  }
  if (t.loss == LossKind::kMixed) {
    uniform = on_device(negatives);
    columns = torch::cat({i, uniform});
    if (t.logq_correction) log_q = torch::cat({log_q, torch::full({t.mixed_negatives}, log_uniform_, log_q.options())});
  }
  torch::Tensor vectors;
  if (dp_.active()) {
    Columns gathered = gathered_columns(model, i, uniform, rows);
    vectors = gathered.vectors;
    columns = columns.index_select(0, gathered.order);
    if (log_q.defined()) log_q = log_q.index_select(0, gathered.order);
  } else {
    vectors = model->item_embeddings(columns);
  }
  torch::Tensor scores = matmul_2d(q, vectors.t(), matmul_options(t));  // [b, C]
  return sampled_softmax_loss(scores, i.slice(0, rows.begin, rows.end), columns, log_q, t.temperature,
                              t.mask_accidental_hits);
}

torch::Tensor Objective::full_loss(TwoTowerModel& model, const torch::Tensor& items, const torch::Tensor& q,
                                   const RowRange& rows) {
  // Every rank scores its rows against the whole catalogue: the item tower's gradient of the
  // ranks' shares sums to the batch's.
  return full_softmax_loss_of(q, model->item_embeddings(all_items_), on_device(items.slice(0, rows.begin, rows.end)),
                              config_.training.temperature);
}

torch::Tensor Objective::pair_loss(TwoTowerModel& model, const torch::Tensor& negatives, const torch::Tensor& items,
                                   const torch::Tensor& u, const torch::Tensor& h, const torch::Tensor& exclude,
                                   const RowRange& rows) {
  const TrainingConfig& t = config_.training;
  const int64_t b = rows.size(), k = config_.data.neg_ratio;
  // This rank's rows' negatives (negative r of positive j at [r, j]).
  const torch::Tensor own = negatives.slice(1, rows.begin, rows.end);
  torch::Tensor candidates =
      on_device(torch::cat({items.slice(0, rows.begin, rows.end), own.reshape({k * b})}));  // [(1 + k) b]
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
  if (t.loss == LossKind::kBpr) return bpr_loss(scores.slice(0, 0, b), scores.slice(0, b), scale);
  torch::Tensor& labels = labels_[b];
  if (!labels.defined()) labels = torch::cat({torch::ones({b}), torch::zeros({k * b})}).to(device_);
  return bce_loss(scores, labels, scale);
}

}  // namespace twotower
