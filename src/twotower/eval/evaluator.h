// Full-ranking evaluation: every evaluated user's scores over the whole catalogue, the user's
// history excluded, ties broken against the held-out items.
//
// Protocol. For user u with history H(u) (excluded) and targets T(u) (see eval_data.h), the
// candidates are all items not in H(u), ordered by score descending; among equal scores every
// non-target comes before every target (so a tie never favours a held-out item), and otherwise
// the lower item id first. For a single target t this puts t at the pessimistic rank
// #{j not in H(u), j != t : s(j) >= s(t)}. The top-max(K) of that order is the user's list; the
// per-user metrics of metrics.h are read from it and averaged over users with targets (users
// without targets are skipped and counted). A scorer that returns NaN is an error.
// Users are scored in chunks of `chunk_users` rows, so memory stays at
// chunk_users * num_items * 4 bytes plus the lists.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "twotower/eval/eval_data.h"
#include "twotower/eval/scorer.h"

namespace twotower {

struct EvalOptions {
  std::vector<int64_t> ks{5, 10, 20, 50};  // cutoffs, each >= 1
  int64_t chunk_users = 1024;              // users scored at once, >= 1
  int num_threads = 0;                     // ranking threads; 0 = hardware concurrency
  bool progress = false;                   // progress bar on stderr
};

/// The metrics computed at every cutoff K, in report order: recall, ndcg, precision, f1,
/// hit_rate, mrr, coverage, diversity, novelty (formulas in metrics.h). Their keys are
/// "<name>@K"; a segment carries those defined for at least one of its users.
const std::vector<std::string>& ranking_metric_names();

/// Means over one group of users, keyed "recall@10", "ndcg@10", ...
struct SegmentMetrics {
  int64_t users = 0;
  std::map<std::string, double> values;
};

struct RankingMetrics {
  std::vector<int64_t> ks;
  /// All evaluated users; also carries coverage@K, diversity@K (when item vectors were given)
  /// and novelty@K.
  SegmentMetrics all;
  SegmentMetrics warm_users;  // users with a non-empty history
  SegmentMetrics cold_users;  // users with an empty history
  /// Users with at least one cold target item (no history interactions), scored on those
  /// targets only.
  SegmentMetrics cold_items;
  int64_t users_total = 0;
  int64_t users_without_targets = 0;
  int64_t targets = 0;
  int64_t cold_item_targets = 0;
  double seconds = 0.0;        // wall time of the whole evaluation
  double score_seconds = 0.0;  // of which in Scorer::score_users
  double rank_seconds = 0.0;   // the rest: lists, metrics, sums

  /// all.values.at(name), with an error naming the metrics that exist.
  double value(const std::string& name) const;
};

/// Ranks the catalogue for every user with targets in `data`. `item_vectors` ([I, D] float32,
/// e.g. text embeddings or item embeddings) gives diversity@K; pass null to leave it out.
/// Throws on bad options (K < 1, chunk < 1), a scorer of the wrong size, or NaN scores.
RankingMetrics evaluate_ranking(const EvalData& data, const Scorer& scorer, const EvalOptions& options,
                                const MatrixView* item_vectors = nullptr);

/// The per-user ordered list the protocol above defines (top `k` candidates), for tests and
/// serving checks. `scores` is the user's [num_items] row.
std::vector<int64_t> ranked_list(const float* scores, int64_t num_items, std::span<const int64_t> excluded,
                                 std::span<const int64_t> targets, int64_t k);

/// What training calls each epoch: dot-product scores of in-memory embeddings
/// (users [U, D], items [I, D] float32) ranked on `data` (built once with make_eval_data).
RankingMetrics evaluate_embeddings(const EvalData& data, MatrixView user_emb, MatrixView item_emb,
                                   const EvalOptions& options);

}  // namespace twotower
