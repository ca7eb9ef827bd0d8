// A run's optimizers: torch's dense optimizer (Adam or SGD) over every parameter, or over the
// dense ones only when the id embedding tables have a row-wise optimizer of their own
// (training.embedding_optimizer), with the learning-rate schedule and gradient clipping.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/optim/sparse_optimizer.h"

namespace twotower {

struct Optimizers {
  std::unique_ptr<torch::optim::Optimizer> dense;
  std::unique_ptr<RowWiseOptimizer> rows;  // null for embedding_optimizer: dense
  /// The id tables' gradients are sparse and the optimizers take them so: a row-wise optimizer,
  /// or the fused dense Adam on the CPU (train/optim/fused_adam.h). Else they are dense.
  bool sparse_tables = false;

  /// The dense group's current learning rate (what history.json reports).
  double learning_rate() const;
};

/// Builds the optimizers `t` asks for over `model`'s parameters. With a row-wise embedding
/// optimizer, or dense Adam with fused_adam on the CPU, the tables switch to sparse gradients
/// (the backward pass writes the looked-up rows only).
Optimizers make_optimizers(TwoTowerModel& model, const TrainingConfig& t);

/// Makes the id tables' gradients sparse (only the looked-up rows): for the row-wise optimizers
/// and for data-parallel training, whose ranks exchange the touched rows only.
void use_sparse_table_gradients(TwoTowerModel& model);

/// Sets every group's rate to the schedule's value at `step` (training.scheduler, one step per
/// epoch): learning_rate for the dense layers, the embedding rate for the tables.
void set_learning_rates(Optimizers& optimizers, const TrainingConfig& t, int64_t step);

/// The id tables' learning rate: embedding_learning_rate, or learning_rate when that is 0.
double embedding_rate(const TrainingConfig& t);

/// Clips the global L2 norm of the gradients of `params` and, when `rows` is given, of its tables
/// to max_norm, as torch's clip_grad_norm_ does over dense gradients: g *= max_norm / (norm + 1e-6)
/// when that factor is below 1. Sparse gradients are coalesced in place first (their norm is then
/// that of their values). With dense gradients only and no `rows` it is torch's clip_grad_norm_;
/// on a device, the same formula with the factor computed there (no wait for the device).
void clip_gradients(const std::vector<torch::Tensor>& params, RowWiseOptimizer* rows, double max_norm);

}  // namespace twotower
