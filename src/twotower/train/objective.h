// The configured training loss of one batch of positive (user, item) pairs: draws what negatives
// the loss needs, runs the towers and returns the loss of train/loss.h. In data-parallel training
// (train/data_parallel.h) every rank passes the same global batch and draws the same negatives;
// the towers run on the rank's own rows (and its share of the shared negatives), the in-batch
// candidates' vectors are gathered, and the loss returned is the rank's share of the global mean.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/data_parallel.h"
#include "twotower/train/negative_sampler.h"

namespace twotower {

/// A batch given as user histories (PairColumns::sequences): its pairs are the targets of
/// prefixes, in order of (history, prefix), and the user tower encodes each history once.
struct PrefixBatch {
  torch::Tensor users;         // [S] int64, CPU
  torch::Tensor history;       // [S, L] int64 items, -1 padded after
  torch::Tensor where;         // [m] int64: pair j is prefix where[j] (flat s * (L + 1) + p)
  std::vector<int64_t> first;  // [S + 1]: history s holds pairs [first[s], first[s + 1])
};

class Objective {
 public:
  /// @param train_items  the item of every training pair: the item frequencies of log-Q
  /// @param dp           the ranks the batch is split over, kept by pointer; null: one process
  Objective(const Config& config, const std::vector<int64_t>& train_items, int64_t num_items,
            const torch::Device& device, DataParallel* dp = nullptr);

  /// @param users, items  [B] int64 positive pairs on the CPU (the global batch)
  /// @param history       [B, N] int64 each pair's own pooled history (model.user_history_mode:
  ///                      before) on the CPU, or undefined (the model's stored recent items)
  /// @param prefixes      the batch as histories (the pairs' users and items are their targets'),
  ///                      or null; softmax, mixed and full losses only
  /// @return a 0-dim float32 loss on the device: the batch's mean loss with one process; with W,
  ///         this rank's rows' share of it (the ranks' values sum to the global mean)
  torch::Tensor loss(TwoTowerModel& model, NegativeSampler& sampler, const torch::Tensor& users,
                     const torch::Tensor& items, const torch::Tensor& history = {},
                     const PrefixBatch* prefixes = nullptr);

  /// The negatives loss() draws from `sampler` for the positives `items` ([B] int64 on the CPU, the
  /// global batch), on the CPU: [neg_ratio, B] for bce and bpr (negative r of positive j at
  /// [r, j]), [mixed_negatives] for mixed, undefined for the losses that draw none.
  torch::Tensor draw_negatives(NegativeSampler& sampler, const torch::Tensor& items);
  /// loss() with its negatives given (draw_negatives'); `users`, `items`, `negatives` and
  /// `history` may be on the CPU or already on the device (a captured step's inputs: then nothing
  /// is copied).
  torch::Tensor loss_with(TwoTowerModel& model, const torch::Tensor& users, const torch::Tensor& items,
                          const torch::Tensor& negatives, const torch::Tensor& history = {},
                          const PrefixBatch* prefixes = nullptr);

 private:
  // A batch's CPU tensor on the device; on a CUDA device copied from pinned memory, so that the
  // copy does not wait for the device to finish its queue.
  torch::Tensor on_device(const torch::Tensor& t) const;
  // The item vectors of the in-batch softmax's columns (positives, then the shared uniform
  // negatives) with this rank's positives moved first: `order` maps a column to its global index.
  struct Columns {
    torch::Tensor vectors;  // [C, D]
    torch::Tensor order;    // [C] int64
  };
  Columns gathered_columns(TwoTowerModel& model, const torch::Tensor& positives, const torch::Tensor& uniform,
                           const RowRange& rows);
  // The user vectors of the pairs `rows` of a batch of histories: the tower runs over the
  // histories that hold them.
  torch::Tensor prefix_rows(TwoTowerModel& model, const PrefixBatch& batch, const RowRange& rows);
  // The in-batch softmax (loss softmax or mixed) of user vectors `q`, the full softmax, and the
  // pair losses (bce, bpr).
  torch::Tensor softmax_loss(TwoTowerModel& model, const torch::Tensor& negatives, const torch::Tensor& items,
                             const torch::Tensor& q, const RowRange& rows);
  torch::Tensor full_loss(TwoTowerModel& model, const torch::Tensor& items, const torch::Tensor& q,
                          const RowRange& rows);
  torch::Tensor pair_loss(TwoTowerModel& model, const torch::Tensor& negatives, const torch::Tensor& items,
                          const torch::Tensor& u, const torch::Tensor& h, const torch::Tensor& exclude,
                          const RowRange& rows);

  const Config& config_;
  torch::Device device_;
  DataParallel one_process_;
  DataParallel& dp_;
  torch::Tensor log_q_;      // [num_items] float32 on the device: log(frequency / pairs)
  double log_uniform_ = 0;   // log(mixed_negatives / num_items): expected draws of an item, uniform
  std::vector<int64_t> negatives_;
  // BCE's labels [b ones, k*b zeros] of each batch size b met, kept for the run: a captured step
  // (train/gpu/step_graph.h) reads its batch size's on every replay.
  std::map<int64_t, torch::Tensor> labels_;
  torch::Tensor all_items_;  // full: [num_items] int64 on the device
};

}  // namespace twotower
