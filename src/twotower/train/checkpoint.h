// Training checkpoints: model, optimizer state, schedule step, progress counters, the run's
// config and history, and every random generator's state, in one LibTorch archive written to a
// temporary file and renamed (a crash never leaves a half-written checkpoint).
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>

#include "twotower/model/two_tower.h"
#include "twotower/train/optim/sparse_optimizer.h"

namespace twotower {

struct TrainState {
  int64_t epoch = 0;           // epochs finished
  int64_t step = 0;            // optimizer steps taken
  int64_t scheduler_step = 0;  // schedule steps taken (one per epoch)
  int64_t best_epoch = 0;      // 1-based epoch of the best metric so far; 0 = none yet
  double best_value = NAN;
  int64_t epochs_without_improvement = 0;
  std::string config_yaml;     // the resolved config of the run
  std::string history_json;    // the per-epoch records so far
  std::string sampler_state;   // NegativeSampler::state()
  torch::Tensor cpu_rng_state;   // uint8, torch's default CPU generator
  torch::Tensor cuda_rng_state;  // uint8, torch's default CUDA generator (undefined without CUDA)
};

/// Captures torch's default generators' states into `state`.
void capture_rng_state(TrainState& state);
/// Restores torch's default generators from `state` (the CUDA one only where both exist).
void restore_rng_state(const TrainState& state);

/// Writes `path` via `path`.tmp and rename, with its checksum sidecar (`path`.crc32);
/// `embedding_optimizer` (row-wise state) when given.
void save_checkpoint(const std::filesystem::path& path, TwoTowerModel& model, torch::optim::Optimizer& optimizer,
                     const TrainState& state, const RowWiseOptimizer* embedding_optimizer = nullptr);
/// The same without optimizer state (a third of the size with Adam): the best model's file,
/// read back only for its weights and counters, never resumed from.
void save_model_checkpoint(const std::filesystem::path& path, TwoTowerModel& model, const TrainState& state);

/// Reads a checkpoint into `model` (on its current device) and, when given, `optimizer`.
/// Throws naming the file when it is missing, does not match its checksum sidecar (ChecksumError,
/// before anything is read into the model) or does not match the model.
TrainState load_checkpoint(const std::filesystem::path& path, TwoTowerModel& model,
                           torch::optim::Optimizer* optimizer, RowWiseOptimizer* embedding_optimizer = nullptr);

}  // namespace twotower
