#include "twotower/train/optim/optimizers.h"

#include <algorithm>
#include <cmath>

#include "twotower/train/optim/fused_adam.h"
#include "twotower/train/optim/schedule.h"

namespace twotower {

double Optimizers::learning_rate() const { return dense->param_groups().back().options().get_lr(); }

double embedding_rate(const TrainingConfig& t) {
  return t.embedding_learning_rate > 0 ? t.embedding_learning_rate : t.learning_rate;
}

void use_sparse_table_gradients(TwoTowerModel& model) {
  for (auto* e : {&model->user_tower->embedding, &model->item_tower->embedding, &model->item_tower->category_embedding,
                  &model->item_tower->brand_embedding}) {
    if (*e) (*e)->options.sparse(true);
  }
}

Optimizers make_optimizers(TwoTowerModel& model, const TrainingConfig& t) {
  Optimizers o;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (t.embedding_optimizer == EmbeddingOptimizerKind::kDense) {
    const std::vector<torch::Tensor> tables = model->embedding_parameters();
    o.sparse_tables = t.optimizer == OptimizerKind::kAdam && t.fused_adam && !tables.empty() && tables[0].device().is_cpu();
    groups.emplace_back(tables);
  } else {
    o.sparse_tables = true;
    RowWiseOptions options;
    options.kind = t.embedding_optimizer;
    options.learning_rate = embedding_rate(t);
    options.weight_decay = t.weight_decay;
    o.rows = std::make_unique<RowWiseOptimizer>(model->embedding_parameters(), options);
  }
  if (o.sparse_tables) use_sparse_table_gradients(model);
  groups.emplace_back(model->dense_parameters());
  if (t.optimizer == OptimizerKind::kAdam) {
    auto options = torch::optim::AdamOptions(t.learning_rate).weight_decay(t.weight_decay);
    if (t.fused_adam) {
      o.dense = std::make_unique<FusedAdam>(groups, options);
    } else {
      o.dense = std::make_unique<torch::optim::Adam>(groups, options);
    }
  } else {
    o.dense = std::make_unique<torch::optim::SGD>(
        groups, torch::optim::SGDOptions(t.learning_rate).momentum(t.momentum).weight_decay(t.weight_decay));
  }
  return o;
}

void set_learning_rates(Optimizers& optimizers, const TrainingConfig& t, int64_t step) {
  auto& groups = optimizers.dense->param_groups();
  // Dense groups: [embeddings, rest] with a dense embedding optimizer, else [rest].
  groups.back().options().set_lr(scheduled_learning_rate(t, t.learning_rate, step));
  if (groups.size() == 2) groups.front().options().set_lr(scheduled_learning_rate(t, embedding_rate(t), step));
  if (optimizers.rows) optimizers.rows->set_learning_rate(scheduled_learning_rate(t, embedding_rate(t), step));
}

namespace {

// torch's clip with the factor kept on the device: min(1, max_norm / (norm + 1e-6)) multiplies
// every gradient (1 leaves it as it is), where torch's reads the norm back to compare it.
void clip_on_device(const std::vector<torch::Tensor>& params, double max_norm) {
  std::vector<torch::Tensor> grads, norms;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    norms.push_back(torch::linalg_vector_norm(p.grad(), 2));
  }
  if (grads.empty()) return;
  const torch::Tensor factor = (max_norm / (torch::linalg_vector_norm(torch::stack(norms), 2) + 1e-6)).clamp_max(1.0);
  torch::_foreach_mul_(grads, factor);
}

}  // namespace

void clip_gradients(const std::vector<torch::Tensor>& params, RowWiseOptimizer* rows, double max_norm) {
  const bool any_sparse =
      std::any_of(params.begin(), params.end(), [](const torch::Tensor& p) { return p.grad().defined() && p.grad().is_sparse(); });
  if (!rows && !any_sparse) {
    if (!params.empty() && !params.front().device().is_cpu()) {
      clip_on_device(params, max_norm);
    } else {
      torch::nn::utils::clip_grad_norm_(params, max_norm);
    }
    return;
  }
  double squares = rows ? rows->coalesce_grads() : 0;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params) {
    torch::Tensor& g = p.mutable_grad();
    if (!g.defined()) continue;
    if (g.is_sparse() && !g.is_coalesced()) g = g.coalesce();
    norms.push_back(g.is_sparse() ? g._values().norm() : g.norm());
  }
  if (!norms.empty()) squares += torch::stack(norms).pow(2).sum().item<double>();
  double factor = max_norm / (std::sqrt(squares) + 1e-6);
  if (factor >= 1) return;
  for (const auto& p : params) {
    const torch::Tensor& g = p.grad();
    if (g.defined()) (g.is_sparse() ? g._values() : g).mul_(factor);
  }
  if (rows) rows->scale_grads(factor);
}

}  // namespace twotower
