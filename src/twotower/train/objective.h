// The configured training loss of one batch of positive (user, item) pairs: draws what negatives
// the loss needs, runs the towers and returns the loss of train/loss.h.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/negative_sampler.h"

namespace twotower {

class Objective {
 public:
  /// @param train_items  the item of every training pair: the item frequencies of log-Q
  Objective(const Config& config, const std::vector<int64_t>& train_items, int64_t num_items,
            const torch::Device& device);

  /// @param users, items  [B] int64 positive pairs on the CPU
  /// @param history       [B, N] int64 each pair's own pooled history (model.user_history_mode:
  ///                      before) on the CPU, or undefined (the model's stored recent items)
  /// @return a 0-dim float32 loss on the device
  torch::Tensor loss(TwoTowerModel& model, NegativeSampler& sampler, const torch::Tensor& users,
                     const torch::Tensor& items, const torch::Tensor& history = {});

 private:
  const Config& config_;
  torch::Device device_;
  torch::Tensor log_q_;      // [num_items] float32 on the device: log(frequency / pairs)
  double log_uniform_ = 0;   // log(mixed_negatives / num_items): expected draws of an item, uniform
  std::vector<int64_t> negatives_;
  torch::Tensor labels_;     // BCE: [B ones, k*B zeros], kept for the last batch size
};

}  // namespace twotower
