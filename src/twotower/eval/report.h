// The one entry point that computes every metric for a scorer, and the report it makes:
// JSON (metrics_<split>.json) and a readable table.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "twotower/eval/evaluator.h"

namespace twotower {

/// Ranking metrics (evaluator.h) and regression metrics for `scorer` on `data`. Regression uses
/// predicted rating = a * score + b, fitted by least squares on the training split's rated
/// pairs and stated under "regression"; without ratings mse..smape are null with the reason
/// under "unavailable". A group of metrics that throws is null with its reason there too, while
/// the others still come out. `item_vectors` (may be null) feeds diversity@K; `vectors_source`
/// names them in the report.
///
/// Keys: "model", "split", "k", "recall@K", "ndcg@K", "precision@K", "f1@K", "hit_rate@K",
/// "mrr@K", "coverage@K", "diversity@K", "novelty@K", "mse", "rmse", "mae", "r2", "mape",
/// "smape", "regression", "segments" {"warm_users", "cold_users", "cold_items"}, "counts",
/// "unavailable" {key: reason}, "seconds".
nlohmann::json evaluate_all(const EvalData& data, const Scorer& scorer, const EvalOptions& options,
                            const MatrixView* item_vectors = nullptr, const std::string& vectors_source = "");

/// A table with one row per metric and one column per model: `report` itself and each entry
/// of report["baselines"] when present. Null values print as "n/a".
std::string format_table(const nlohmann::json& report);

}  // namespace twotower
