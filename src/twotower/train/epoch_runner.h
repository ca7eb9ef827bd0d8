// One epoch of training: the pairs in a seeded random order, batch by batch (the next batch
// assembled on a background thread with training.prefetch); with attention pooling the units
// are whole user histories (PairColumns::sequences), packed into batches of at most batch_size
// pairs after sorting runs of about 8 batches by history length, the batches then shuffled.
// Each step: zero_grad -> loss -> backward -> clip -> step; and the reference's validation loss.
// On a device the batch losses stay there and are read back every few steps (set_readback_steps),
// the batches are copied from pinned memory and the towers' id checks run once per epoch over the
// columns, so that no step waits for the device; with training.cuda_graph the steps of full
// batches are replayed from a captured graph (train/gpu/step_graph.h). In data-parallel training the
// permutation is rank 0's (broadcast), each rank computes its rows of every global batch and the
// gradients are summed over the ranks before the clip and the step (train/data_parallel.h).
// With training.trace_steps rank 0 traces a stretch of its first epoch (train/gpu/step_trace.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/data/matrix.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/data_parallel.h"
#include "twotower/train/negative_sampler.h"
#include "twotower/train/objective.h"
#include "twotower/train/optim/optimizers.h"
#include "twotower/train/gpu/step_graph.h"
#include "twotower/train/gpu/step_trace.h"
#include "twotower/train/training_pairs.h"

namespace twotower {

class EpochRunner {
 public:
  /// Keeps references to everything; each must outlive the runner. `dp` is the objective's.
  /// `between_steps`, when set, is called after each step (an exception it throws ends the epoch).
  EpochRunner(TwoTowerModel& model, Optimizers& optimizers, NegativeSampler& sampler, Objective& objective,
              const Config& config, DataParallel& dp, std::function<void()> between_steps = {});

  /// Runs one epoch over `train` (at most training.max_steps_per_epoch batches) with progress on
  /// stderr (rank 0's only). `epoch` is 1-based (for the progress line); `steps` counts optimizer
  /// steps across epochs and `pairs` the (positive + negative) pairs scored, over all ranks.
  /// Returns the mean batch loss (NaN for no batch).
  /// Throws, before the step, at the first non-finite batch loss (on every rank); when losses are
  /// read back every R > 1 steps, at the read back, after up to R - 1 later steps.
  double run(const PairColumns& train, int64_t epoch, int64_t& steps, int64_t& pairs);

  /// Steps whose losses are read back from the device at once, summed and checked to be finite
  /// (>= 1): by default 1 on the CPU and in data-parallel training (its ranks sum each value as it
  /// comes), kDeviceReadbackSteps on a device, where each read back waits for the device to
  /// finish the step. The losses, the updates and the model are the same for any value.
  void set_readback_steps(int64_t steps);
  static constexpr int64_t kDeviceReadbackSteps = 32;
  /// Steps replayed from the captured graph so far (training.cuda_graph; else 0).
  int64_t graph_replays() const { return graph_ ? graph_->replays() : 0; }

 private:
  // zero_grad -> backward -> (sum over the ranks) -> finite check -> clip -> step. The loss over
  // all ranks is added to total_ now with a read back each step, else at read_back.
  void step(const torch::Tensor& loss, int64_t epoch, int64_t batch, int64_t num_batches);
  // Adds the pending losses (steps [batch - pending, batch) of the epoch) to total_; throws at
  // the first one that is not finite.
  void read_back(int64_t epoch, int64_t batch, int64_t num_batches);

  TwoTowerModel& model_;
  Optimizers& optimizers_;
  NegativeSampler& sampler_;
  Objective& objective_;
  const Config& config_;
  DataParallel& dp_;
  std::function<void()> between_steps_;
  std::vector<torch::Tensor> parameters_;
  std::vector<torch::Tensor> tables_;
  std::vector<torch::Tensor> dense_parameters_;
  std::unique_ptr<StepGraph> graph_;  // training.cuda_graph
  std::unique_ptr<StepTrace> trace_;  // training.trace_steps
  int64_t readback_steps_ = 1;
  std::vector<torch::Tensor> pending_;  // 0-dim losses on the device, not yet read back
  double total_ = 0;                    // the sum of the epoch's losses read back so far
  int64_t read_ = 0;                    // and their count
};

/// The reference's validation loss: BCE on positive pairs only (label 1) at the fixed or learned
/// logit scale, mean over pairs, in eval mode (training mode restored); NaN for no pair.
double validation_loss(TwoTowerModel& model, const PairColumns& valid, const Config& config,
                       const torch::Device& device);
/// The same loss from the epoch's vectors, users [num_users, D] and items [num_items, D] as
/// embed_all_users/embed_all_items give them (the eval-mode towers pair_scores multiplies), so an
/// epoch that ranks the validation split encodes each user once instead of once per pair.
double validation_loss(const Matrix& users, const Matrix& items, const PairColumns& valid, TwoTowerModel& model,
                       const Config& config);

}  // namespace twotower
