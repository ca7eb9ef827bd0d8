// Continued training (training.init_from): a run on data that extends an old run's data (twotower
// prepare --extend, data/extend.h) starts from the old run instead of from zero.
//
// What is taken from the old run RUN:
//   - RUN/checkpoints/last.pt, the state its training ended in: every parameter, the dense
//     optimizer's state (Adam moments and step counts, SGD momentum) and the row-wise optimizer's
//     (per-row state and its step count);
//   - the id tables (user, item, category, brand) grow to the new vocabulary sizes: rows of old
//     ids are the old rows, rows of new ids start at zero with zero optimizer state. A zero id row
//     is the input the towers see for an id they have no row for (the served path for new items
//     and users, model/two_tower.h): before any update a new item's vector is its content
//     features' vector (the same vector for every new item of an ids-only model);
//   - the epochs, schedule and best-epoch tracking start afresh.
// What is checked before any work (each a clear error): RUN has config.yaml and last.pt; the
// model's shape keys (model.embedding_dim, the hidden layers, the item inputs, the output layer,
// data.emb_dim with text, training.learn_logit_scale, training.optimizer and
// training.embedding_optimizer) equal RUN's; RUN's data folder's id maps, vocabularies and
// interactions are a prefix of the new data's.
// training.incremental says what the continued run trains on: full, every training interaction
// of the new data; new+replay, the training interactions beyond RUN's data and a seeded sample
// of replay_ratio old training interactions per new one.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "twotower/config/config.h"
#include "twotower/data/dataset.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/optim/optimizers.h"

namespace twotower {

class ContinuedRun {
 public:
  /// Reads config.training.init_from's config.yaml and data folder and runs the checks above
  /// against `config` and `data` (the new data); throws naming the file, key or index, the value
  /// got and the value expected. `config` must outlive this object (it is kept by reference).
  ContinuedRun(const Config& config, const Dataset& data);

  /// The rows of `train_rows` (indices of data's interactions, ascending) to train on:
  /// all of them (full), or those beyond the old data plus the replay sample (new+replay,
  /// seeded with data.seed, ascending).
  std::vector<int64_t> pair_rows(const std::vector<int64_t>& train_rows) const;

  /// Loads RUN's last checkpoint into `model` and `optimizers` (built at the new sizes by
  /// make_optimizers), growing the tables as above, and returns what was done: sizes before and
  /// after, parameter counts, the ranks of new items (new_item_ranks.h) before any update.
  nlohmann::json load_into(TwoTowerModel& model, Optimizers& optimizers, const Dataset& data,
                           const torch::Device& device) const;

  /// The number of interactions of the old run's data (the first rows of the new data).
  int64_t old_interactions() const { return old_interactions_; }

 private:
  const Config& config_;
  std::filesystem::path run_;
  Config run_config_;
  ModelSizes old_sizes_;
  int64_t old_interactions_ = 0;
};

/// Copies `old` ([rows, ...]) into a zero tensor shaped and placed as `like` whose first
/// dimension may be larger (a grown table); throws naming `what` when other dimensions differ or
/// `like` has fewer rows.
torch::Tensor grown_copy(const torch::Tensor& old, const torch::Tensor& like, const std::string& what);

}  // namespace twotower
