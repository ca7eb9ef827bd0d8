// The set-up stages of a training run, before the first epoch: the device and the rules that
// depend on it, the model with its data inputs, and the state a resumed run continues from.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/data/dataset.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/checkpoint.h"
#include "twotower/train/negative_sampler.h"
#include "twotower/train/optim/optimizers.h"

namespace twotower {

/// The config as saved with the run: data paths made absolute, so that readers of
/// OUTPUT_DIR/config.yaml (the evaluator) find the data from any working directory.
Config resolved_paths(Config config);

/// Sets torch's intra-op threads (training.threads), picks the device (training.device) and checks
/// the options that depend on the machine before any work: cuda without a CUDA device, bf16
/// products without a CPU that has them (matmul_precision: bf16 on a GPU is a warning: the layers
/// run in fp32 there). Logs the choice. A CUDA device is number `cuda_index` (a data-parallel
/// rank's local rank).
torch::Device setup_device(const TrainingConfig& training, int cuda_index = 0);

/// The model `config` describes at `data`'s vocabulary sizes, seeded with data.seed, with its item
/// features (category, brand, text), each user's recent items of `train_rows`
/// (model.user_history) and the learned logit scale, on `device`.
TwoTowerModel build_model(const Config& config, const Dataset& data, const std::vector<int64_t>& train_rows,
                          const torch::Device& device);

/// Continues from the checkpoint `last`, or from `previous` (with a warning naming both) when
/// `last` is damaged or unreadable: the model's and optimizers' state, the sampler's and torch's
/// generators; returns the saved TrainState (its config_yaml replaced by `config`'s) and sets
/// `history` to the epochs recorded so far. Warns when the configuration differs from the
/// checkpoint's beyond the keys that may change on resume.
TrainState resume_run(const std::filesystem::path& last, const std::filesystem::path& previous, const Config& config,
                      TwoTowerModel& model, Optimizers& optimizers, NegativeSampler& sampler, nlohmann::json& history);

}  // namespace twotower
