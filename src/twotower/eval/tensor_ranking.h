// Recall@K and NDCG@K of the full ranking (the protocol of eval/evaluator.h) computed with tensor
// operations, so that a run on a GPU ranks its validation users there: instead of sorting each
// user's scores, the position of each target is counted,
//   pos(t) = #{j not in H(u): s(j) > s(t)} + #{j not in H(u), j not in T(u): s(j) = s(t)}
//            + #{j in T(u), j < t: s(j) = s(t)},
// which is t's 0-based place in the evaluator's order (score descending, non-targets before
// targets among equal scores, then the lower id first). Then hits@K = #{t: pos(t) < K},
// Recall@K = hits@K / |T(u)| and NDCG@K = sum_{pos(t) < K} 1 / log2(pos(t) + 2) / IDCG@K, averaged
// over the users with targets: the evaluator's numbers, up to the rounding of the scores.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "twotower/eval/eval_data.h"

namespace twotower {

/// {"recall@K", "ndcg@K"} for each K of `ks` (each >= 1) from users [num_users, D] and items
/// [num_items, D] float32 on one device, the users taken in chunks holding at most
/// `chunk_targets` targets (a user with more is a chunk alone; memory about 16 bytes per target
/// and item). 0 for every metric when no user has a target; throws on a NaN score outside the
/// users' histories (as the evaluator).
std::map<std::string, double> tensor_ranking_metrics(const EvalData& data, const torch::Tensor& users,
                                                     const torch::Tensor& items, const std::vector<int64_t>& ks,
                                                     int64_t chunk_targets = 1024);

}  // namespace twotower
