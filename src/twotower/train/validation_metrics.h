// The metrics hook that training calls after each epoch: full-ranking Recall@K and NDCG@K of the
// epoch's embeddings on the validation split (data.valid_split), with the protocol of
// eval/evaluator.h (items before the split excluded, ties against the target); on the GPU when
// the run trains there (eval/tensor_ranking.h, the same numbers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "twotower/train/trainer.h"

namespace twotower {

/// The cut-offs `twotower train` validates at: recall@10, ndcg@10, recall@20, ndcg@20.
inline const std::vector<int64_t> kValidationKs{10, 20};

/// A hook returning {"recall@K", "ndcg@K"} for each K of `ks` (each >= 1). The evaluation data
/// of the split is built on the first call and reused. Throws when data.valid_split is "train".
MetricsHook make_validation_metrics(std::vector<int64_t> ks = kValidationKs);

/// The names that hook returns: recall@K and ndcg@K for each K of `ks`.
std::vector<std::string> validation_metric_names(const std::vector<int64_t>& ks = kValidationKs);

}  // namespace twotower
