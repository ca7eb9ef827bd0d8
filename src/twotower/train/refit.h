// training.refit: the final model of a data set in one run. A selection run trains `config` on
// data.train_splits with its validation metrics into output_dir/selection (its best_metric and
// early_stopping_patience pick the best epoch E); then a fresh model, seeded the same, trains on
// train_splits + valid_split for E epochs into output_dir and keeps its last epoch
// (best_metric: last; no validation metrics or loss: the validation split is trained on). output_dir
// then holds the final run as any run folder does (checkpoints, embeddings, history), and
// refit.json records E and the selection's best value.
#pragma once

#include "twotower/config/config.h"
#include "twotower/train/trainer.h"

namespace twotower {

/// The two runs above; with options.resume, a finished selection (refit.json) is not run again
/// and each run resumes from its last checkpoint when it has one. In a group every rank calls it;
/// E is rank 0's, broadcast. Returns the final run's summary.
TrainSummary run_refit(const Config& config, const TrainOptions& options);

}  // namespace twotower
