// One epoch of training: the pairs in a seeded random order, batch by batch (the next batch
// assembled on a background thread with training.prefetch), each step zero_grad -> loss ->
// backward -> clip -> step; and the reference's validation loss.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/negative_sampler.h"
#include "twotower/train/objective.h"
#include "twotower/train/optimizers.h"
#include "twotower/train/training_pairs.h"

namespace twotower {

class EpochRunner {
 public:
  /// Keeps references to everything; each must outlive the runner.
  EpochRunner(TwoTowerModel& model, Optimizers& optimizers, NegativeSampler& sampler, Objective& objective,
              const Config& config);

  /// Runs one epoch over `train` (at most training.max_steps_per_epoch batches) with progress on
  /// stderr. `epoch` is 1-based (for the progress line); `steps` counts optimizer steps across
  /// epochs and `pairs` the (positive + negative) pairs scored. Returns the mean batch loss (NaN
  /// for no batch). Throws, before the step, at the first non-finite batch loss.
  double run(const PairColumns& train, int64_t epoch, int64_t& steps, int64_t& pairs);

 private:
  void step(const torch::Tensor& loss);

  TwoTowerModel& model_;
  Optimizers& optimizers_;
  NegativeSampler& sampler_;
  Objective& objective_;
  const Config& config_;
  std::vector<torch::Tensor> parameters_;
  std::vector<torch::Tensor> dense_parameters_;
};

/// The reference's validation loss: BCE on positive pairs only (label 1) at the fixed or learned
/// logit scale, mean over pairs, in eval mode (training mode restored); NaN for no pair.
double validation_loss(TwoTowerModel& model, const PairColumns& valid, const Config& config,
                       const torch::Device& device);

}  // namespace twotower
