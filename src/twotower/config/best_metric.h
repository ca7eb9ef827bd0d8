// training.best_metric's names, in one rule: what the config accepts, what the trainer checks
// against its metrics hook, and what a message lists.
#pragma once

#include <string>

namespace twotower {

/// The names that need no ranking of the validation split: "val_loss" and "train_loss" (the
/// epoch's losses) and "last" (keep the last epoch).
bool is_loss_best_metric(const std::string& name);

/// A ranking metric of the validation split: "recall@K" or "ndcg@K" with K >= 1.
bool is_ranking_best_metric(const std::string& name);

/// The loss names above for messages: "val_loss, train_loss, last".
std::string loss_best_metrics_text();

}  // namespace twotower
