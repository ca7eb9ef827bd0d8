// `twotower train`: the training run from a Config to an output folder.
//
// The run writes into training.output_dir: config.yaml (resolved), train.log, history.json,
// training_history.png, checkpoints/last.pt (everything --resume needs) and checkpoints/best.pt (the
// best epoch's model and counters, without optimizer state), and at the end the best
// epoch's user_embeddings.npy [num_users, D] and item_embeddings.npy [num_items, D] (float32,
// eval mode) for the evaluator. With model.user_history the exported user vectors pool the
// history up to the test split (train + valid); training and validation use data.train_splits.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <c10/core/Device.h>

#include "twotower/config/config.h"
#include "twotower/data/dataset.h"
#include "twotower/data/npy.h"
#include "twotower/train/process_group.h"

namespace twotower {

/// What the metrics hook sees after each epoch: the model's embeddings in eval mode.
struct EpochEmbeddings {
  const Matrix& users;  // [num_users, D] float32, unit rows
  const Matrix& items;  // [num_items, D] float32, unit rows
  const Dataset& data;
  const Config& config;
  int64_t epoch;        // 1-based
  c10::Device device = c10::kCPU;  // the run's device, where a hook may compute
};

/// Retrieval metrics on the validation split (e.g. {"recall@10": 0.05}); each name becomes a
/// column of history.json and the plot, and may be training.best_metric.
using MetricsHook = std::function<std::map<std::string, double>(const EpochEmbeddings&)>;

struct TrainOptions {
  bool resume = false;  // continue from output_dir/checkpoints/last.pt
  MetricsHook metrics;  // optional
  /// The names `metrics` returns, when known in advance: training.best_metric is then checked
  /// against them before any work (otherwise after the first epoch).
  std::vector<std::string> metric_names;
  /// Optional; called with the 1-based epoch after that epoch's checkpoint is written. An
  /// exception it throws ends the run there and leaves it resumable (the Python module raises
  /// KeyboardInterrupt so on Ctrl-C).
  std::function<void(int64_t epoch)> after_epoch;
  /// Optional; called after every optimizer step of a one-process run (not with a group, whose
  /// ranks must stop together). An exception it throws ends the run there: the epoch under way is
  /// lost and --resume continues from the last epoch's checkpoint.
  std::function<void()> between_steps;
  /// Data-parallel training over the ranks of this group (torch.distributed's, handed over by the
  /// Python module; train/data_parallel.h): training.batch_size is the global batch, split over
  /// the ranks; rank 0 validates and writes the run's files (output_dir must be the same path on
  /// every rank, and shared for a resume on several machines). Null: one process.
  ProcessGroupPtr group;
};

struct TrainSummary {
  int64_t epochs_done = 0;   // epochs finished, resumed ones included
  int64_t best_epoch = 0;    // 1-based
  double best_value = 0.0;   // training.best_metric at best_epoch
  bool stopped_early = false;
  double pairs_per_second = 0.0;  // over the epochs of this invocation
  int64_t clamped_user_ids = 0;
  int64_t clamped_item_ids = 0;
  int64_t graph_replays = 0;  // steps replayed from a captured CUDA graph (training.cuda_graph)
  nlohmann::json history;    // one object per epoch: epoch, train_loss, val_loss, learning_rate, ...
};

/// One training run as `config` says (training.refit must be false: train() in train/refit.h
/// runs a refit's two runs); throws twotower::Error on bad data or configuration. In a group, every
/// rank calls it with the same config; the summary's best_* and history are rank 0's alone (the
/// other ranks get epochs_done, pairs_per_second and an empty history).
TrainSummary run_training(const Config& config, const TrainOptions& options = {});

}  // namespace twotower
