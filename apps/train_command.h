// The work of `twotower train` once its config is loaded, shared by the CLI and the Python module
// (twotower.train, whose config may be a dict rather than a file).
#pragma once

#include "twotower/config/config.h"
#include "twotower/train/trainer.h"

namespace twotower::cli {

/// Trains as `config` says with `options` (resume, after_epoch), adding the validation metrics at
/// 10 and 20 when `eval` (else training.best_metric must be val_loss or train_loss); logs the
/// summary line. Throws twotower::Error as train (train/refit.h) does.
TrainSummary run_train(const Config& config, TrainOptions options, bool eval);

}  // namespace twotower::cli
