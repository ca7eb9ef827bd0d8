// training.refit: the final model of a data set in one run. A selection run trains `config` on
// data.train_splits with its validation metrics into output_dir/selection (its best_metric and
// early_stopping_patience pick the best epoch E); then the final run trains on train_splits +
// valid_split into output_dir and keeps its last epoch (best_metric: last; no validation metrics
// or loss: the validation split is trained on). training.refit_mode says what the final run is:
//   fresh     a new model, seeded the same, trains for E epochs;
//   continue  the selection's final state (checkpoints/last.pt, as training.init_from loads it:
//             parameters and optimizer state) trains for training.refit_epochs more epochs, so
//             the final model costs refit_epochs instead of E epochs. The selection ends E + patience
//             epochs in when it stops early, else at num_epochs.
// output_dir then holds the final run as any run folder does (checkpoints, embeddings, history),
// and refit.json records E, the mode and the selection's best value.
#pragma once

#include "twotower/config/config.h"
#include "twotower/train/trainer.h"

namespace twotower {

/// What `twotower train` runs: run_refit with training.refit, else run_training.
TrainSummary train(const Config& config, const TrainOptions& options = {});

/// The two runs above; with options.resume, a finished selection (refit.json) is not run again
/// and each run resumes from its last checkpoint when it has one. In a group every rank calls it;
/// E is rank 0's, broadcast. Returns the final run's summary.
TrainSummary run_refit(const Config& config, const TrainOptions& options);

}  // namespace twotower
