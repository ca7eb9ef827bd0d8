// Evaluation metrics as pure functions. Each states its formula; each has a defined value on
// empty input (tested in tests/metrics_test.cc).
//
// Ranking metrics take one user's ranked list (item ids, best first, no repeats) and the user's
// target set (held-out item ids, sorted ascending, no repeats). Only the first K entries of the
// list count; a list shorter than K is read as is (nothing ranked below its end).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace twotower {

/// hits@K = |top-K(ranked) ∩ targets|. Throws when k < 1.
int64_t hits_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k);

/// Precision@K = hits@K / K (K, not the list length: a short list is not rewarded).
/// 0 when there are no targets.
double precision_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k);

/// Recall@K = hits@K / |targets|; 0 when there are no targets.
double recall_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k);

/// F1@K = 2 P R / (P + R) with P = Precision@K, R = Recall@K; 0 when P + R = 0.
double f1_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k);

/// NDCG@K = DCG / IDCG with binary relevance,
///   DCG  = sum_{i < K, ranked[i] in targets} 1 / log2(i + 2)   (i is the 0-based position),
///   IDCG = sum_{i < min(K, |targets|)} 1 / log2(i + 2).
/// 0 when there are no targets.
double ndcg_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k);

/// HitRate@K = 1 if hits@K > 0 else 0.
double hit_rate_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k);

/// MRR@K = 1 / (p + 1) for the first position p < K holding a target, 0 if there is none.
double mrr_at_k(std::span<const int64_t> ranked, std::span<const int64_t> targets, int64_t k);

/// Coverage = |union of the lists| / num_items: the share of the catalogue recommended to
/// anyone. Each list should already be cut to K. 0 when num_items == 0. Throws on an item id
/// outside [0, num_items).
double coverage(const std::vector<std::vector<int64_t>>& lists, int64_t num_items);

/// Intra-list diversity = 1 - mean_{i != j} cos(v_a(i), v_a(j)) over the ordered pairs of
/// distinct positions of `items`, where `unit_vectors` holds one L2-normalised row of width
/// `dim` per item (a zero row for an item with a zero vector, whose cosines are 0).
/// Computed in O(n D) from sum_{i != j} u_i . u_j = |sum_i u_i|^2 - sum_i |u_i|^2.
/// 0 for a list of fewer than 2 items (no pair to compare).
double intra_list_diversity(std::span<const int64_t> items, const float* unit_vectors, int64_t dim);

/// Novelty = mean_{i in items} -log2 p(i) with p(i) = (deg(i) + 1) / (num_users + 1), deg(i)
/// being the number of fit interactions of item i (add-one so a never-seen item stays finite).
/// 0 for an empty list. Throws when num_users < 0 or an id is outside `item_degree`.
double novelty(std::span<const int64_t> items, std::span<const int64_t> item_degree, int64_t num_users);

/// Every denominator below adds kRegressionEps.
inline constexpr double kRegressionEps = 1e-8;

// Regression metrics between targets y and predictions p (equal lengths, n > 0). They throw an
// Error on empty input or unequal lengths: a regression metric over no pairs is not a number.

/// MSE = mean (y - p)^2
double mse(std::span<const double> y, std::span<const double> p);
/// RMSE = sqrt(MSE)
double rmse(std::span<const double> y, std::span<const double> p);
/// MAE = mean |y - p|
double mae(std::span<const double> y, std::span<const double> p);
/// R2 = 1 - sum (y - p)^2 / (sum (y - mean y)^2 + eps)
double r2(std::span<const double> y, std::span<const double> p);
/// MAPE (percent) = 100 * mean |y - p| / (|y| + eps)
double mape(std::span<const double> y, std::span<const double> p);
/// SMAPE (percent, 0..200) = 100 * mean 2 |y - p| / (|y| + |p| + eps)
double smape(std::span<const double> y, std::span<const double> p);

/// Least-squares line y ~ a x + b: a = cov(x, y) / var(x), b = mean y - a mean x.
/// With constant x (var(x) = 0), a = 0 and b = mean y. Throws on empty input or unequal lengths.
struct LinearMap {
  double a = 0.0;
  double b = 0.0;
};
LinearMap fit_linear_map(std::span<const double> x, std::span<const double> y);

}  // namespace twotower
