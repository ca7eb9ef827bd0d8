#include "twotower/eval/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

using Ids = std::vector<int64_t>;
using Values = std::vector<double>;

// ranked = [7, 3, 9, 1, 4], targets = {1, 3, 5}; positions (0-based) of hits: 1 (item 3), 3 (item 1).
const Ids kRanked{7, 3, 9, 1, 4};
const Ids kTargets{1, 3, 5};

// K=2: top-2 = [7, 3] -> 1 hit. P = 1/2, R = 1/3, F1 = 2*(1/2)(1/3)/(1/2+1/3) = (1/3)/(5/6) = 0.4.
TEST(RankingMetrics, HandComputedAtTwo) {
  EXPECT_EQ(hits_at_k(kRanked, kTargets, 2), 1);
  EXPECT_DOUBLE_EQ(precision_at_k(kRanked, kTargets, 2), 0.5);
  EXPECT_DOUBLE_EQ(recall_at_k(kRanked, kTargets, 2), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(f1_at_k(kRanked, kTargets, 2), 0.4);
  EXPECT_DOUBLE_EQ(hit_rate_at_k(kRanked, kTargets, 2), 1.0);
  // first hit at position 1 -> 1/2
  EXPECT_DOUBLE_EQ(mrr_at_k(kRanked, kTargets, 2), 0.5);
  // DCG = 1/log2(1+2) = 0.63093; IDCG (min(2,3) = 2 slots) = 1 + 1/log2(3) = 1.63093
  EXPECT_NEAR(ndcg_at_k(kRanked, kTargets, 2), 0.630930 / 1.630930, 1e-6);
}

// K=5: hits at positions 1 and 3. P = 2/5, R = 2/3.
// DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061606;
// IDCG = 1 + 0.630930 + 0.5 = 2.130930 -> NDCG = 0.498190.
TEST(RankingMetrics, HandComputedAtFive) {
  EXPECT_DOUBLE_EQ(precision_at_k(kRanked, kTargets, 5), 0.4);
  EXPECT_DOUBLE_EQ(recall_at_k(kRanked, kTargets, 5), 2.0 / 3.0);
  EXPECT_NEAR(ndcg_at_k(kRanked, kTargets, 5), 0.498190, 1e-6);
  EXPECT_DOUBLE_EQ(mrr_at_k(kRanked, kTargets, 5), 0.5);
}

// K=1: top-1 = [7], no hit: everything 0.
TEST(RankingMetrics, MissAtOne) {
  EXPECT_EQ(precision_at_k(kRanked, kTargets, 1), 0.0);
  EXPECT_EQ(recall_at_k(kRanked, kTargets, 1), 0.0);
  EXPECT_EQ(f1_at_k(kRanked, kTargets, 1), 0.0);
  EXPECT_EQ(ndcg_at_k(kRanked, kTargets, 1), 0.0);
  EXPECT_EQ(hit_rate_at_k(kRanked, kTargets, 1), 0.0);
  EXPECT_EQ(mrr_at_k(kRanked, kTargets, 1), 0.0);
}

// K = 10 beyond a 5-item list: precision still divides by K (2/10), recall unchanged (2/3).
TEST(RankingMetrics, KLargerThanList) {
  EXPECT_DOUBLE_EQ(precision_at_k(kRanked, kTargets, 10), 0.2);
  EXPECT_DOUBLE_EQ(recall_at_k(kRanked, kTargets, 10), 2.0 / 3.0);
  EXPECT_NEAR(ndcg_at_k(kRanked, kTargets, 10), 0.498190, 1e-6);
}

// Empty cases: no targets -> 0 for every metric; an empty list -> 0.
TEST(RankingMetrics, EmptyCases) {
  const Ids none;
  for (auto fn : {precision_at_k, recall_at_k, f1_at_k, ndcg_at_k, hit_rate_at_k, mrr_at_k}) {
    EXPECT_EQ(fn(kRanked, none, 5), 0.0);
    EXPECT_EQ(fn(none, kTargets, 5), 0.0);
    EXPECT_EQ(fn(none, none, 5), 0.0);
  }
}

// A perfect list scores 1 on recall, NDCG, hit rate, MRR.
TEST(RankingMetrics, PerfectList) {
  const Ids ranked{1, 3, 5, 8};
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, kTargets, 3), 1.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k(ranked, kTargets, 3), 1.0);
  EXPECT_DOUBLE_EQ(precision_at_k(ranked, kTargets, 3), 1.0);
  EXPECT_DOUBLE_EQ(mrr_at_k(ranked, kTargets, 3), 1.0);
}

TEST(RankingMetrics, RejectsKBelowOne) {
  testing::expect_exact_error([&] { recall_at_k(kRanked, kTargets, 0); }, "metric cutoff K: got 0, expected K >= 1");
}

// Brute force: each metric from its textbook definition on random lists and target sets.
TEST(RankingMetrics, MatchBruteForce) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const int n_items = 30;
    Ids perm(n_items);
    for (int i = 0; i < n_items; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    Ids ranked(perm.begin(), perm.begin() + static_cast<long>(rng() % 20));
    std::set<int64_t> tset;
    for (int t = 0, nt = static_cast<int>(rng() % 6); t < nt; ++t) tset.insert(static_cast<int64_t>(rng() % n_items));
    Ids targets(tset.begin(), tset.end());
    const int64_t k = 1 + static_cast<int64_t>(rng() % 25);
    double hits = 0, dcg = 0, idcg = 0, rr = 0;
    for (int64_t i = 0; i < k && i < static_cast<int64_t>(ranked.size()); ++i) {
      if (tset.count(ranked[i])) {
        hits += 1;
        dcg += 1.0 / std::log2(i + 2.0);
        if (rr == 0) rr = 1.0 / (i + 1.0);
      }
    }
    for (int64_t i = 0; i < k && i < static_cast<int64_t>(targets.size()); ++i) idcg += 1.0 / std::log2(i + 2.0);
    const double p = targets.empty() ? 0 : hits / k, r = targets.empty() ? 0 : hits / targets.size();
    EXPECT_DOUBLE_EQ(precision_at_k(ranked, targets, k), p);
    EXPECT_DOUBLE_EQ(recall_at_k(ranked, targets, k), r);
    EXPECT_DOUBLE_EQ(f1_at_k(ranked, targets, k), p + r > 0 ? 2 * p * r / (p + r) : 0.0);
    EXPECT_NEAR(ndcg_at_k(ranked, targets, k), targets.empty() ? 0.0 : dcg / idcg, 1e-12);
    EXPECT_EQ(hit_rate_at_k(ranked, targets, k), hits > 0 ? 1.0 : 0.0);
    EXPECT_DOUBLE_EQ(mrr_at_k(ranked, targets, k), rr);
  }
}

// Lists {0,1}, {1,2} over 5 items -> {0,1,2} recommended: 3/5.
TEST(Coverage, HandComputed) {
  EXPECT_DOUBLE_EQ(coverage({{0, 1}, {1, 2}}, 5), 0.6);
  EXPECT_EQ(coverage({}, 5), 0.0);
  EXPECT_EQ(coverage({{}}, 0), 0.0);
}

TEST(Coverage, RejectsOutOfCatalogue) {
  testing::expect_exact_error([&] { coverage({{0, 5}}, 5); }, "coverage: item id 5 outside the catalogue [0, 5)");
}

// Unit vectors a = (1,0), b = (0,1), c = (1,0)/1 -> cos(a,b) = 0, cos(a,c) = 1, cos(b,c) = 0.
// Mean over the 3 pairs = 1/3 -> diversity 2/3. {a, b}: 1 - 0 = 1. {a, c}: 1 - 1 = 0.
TEST(Diversity, HandComputed) {
  const std::vector<float> unit{1, 0, 0, 1, 1, 0};
  EXPECT_NEAR(intra_list_diversity(Ids{0, 1, 2}, unit.data(), 2), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(intra_list_diversity(Ids{0, 1}, unit.data(), 2), 1.0, 1e-12);
  EXPECT_NEAR(intra_list_diversity(Ids{0, 2}, unit.data(), 2), 0.0, 1e-12);
  // Fewer than two items: 0.
  EXPECT_EQ(intra_list_diversity(Ids{0}, unit.data(), 2), 0.0);
  EXPECT_EQ(intra_list_diversity(Ids{}, unit.data(), 2), 0.0);
}

// The O(nD) identity equals the mean of explicit pairwise cosines.
TEST(Diversity, MatchesPairwiseBruteForce) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> g;
  const int n_items = 12, dim = 5;
  std::vector<float> unit(n_items * dim);
  for (int i = 0; i < n_items; ++i) {
    float norm = 0;
    for (int d = 0; d < dim; ++d) norm += (unit[i * dim + d] = g(rng)) * unit[i * dim + d];
    for (int d = 0; d < dim; ++d) unit[i * dim + d] /= std::sqrt(norm);
  }
  const Ids items{0, 3, 4, 7, 11};
  double total = 0;
  int pairs = 0;
  for (size_t a = 0; a < items.size(); ++a) {
    for (size_t b = a + 1; b < items.size(); ++b) {
      double dot = 0;
      for (int d = 0; d < dim; ++d) dot += unit[items[a] * dim + d] * unit[items[b] * dim + d];
      total += dot;
      ++pairs;
    }
  }
  EXPECT_NEAR(intra_list_diversity(items, unit.data(), dim), 1.0 - total / pairs, 1e-6);
}

// degrees {3, 0}, 7 users: p(0) = 4/8 -> 1 bit; p(1) = 1/8 -> 3 bits; mean over [0, 1] = 2.
TEST(Novelty, HandComputed) {
  const Ids degree{3, 0};
  EXPECT_DOUBLE_EQ(novelty(Ids{0, 1}, degree, 7), 2.0);
  EXPECT_DOUBLE_EQ(novelty(Ids{0}, degree, 7), 1.0);
  EXPECT_EQ(novelty(Ids{}, degree, 7), 0.0);
  EXPECT_THROW(novelty(Ids{2}, degree, 7), Error);
}

// y = [1, 2, 3], p = [2, 2, 5]: errors [-1, 0, -2].
// MSE = (1 + 0 + 4)/3 = 5/3; RMSE = sqrt(5/3); MAE = 3/3 = 1;
// mean y = 2, SS_tot = 1 + 0 + 1 = 2, SS_res = 5 -> R2 = 1 - 5/2 = -1.5;
// MAPE = 100 * (1/1 + 0/2 + 2/3)/3 = 55.556; SMAPE = 100 * (2/3 + 0 + 4/8)/3 = 38.889.
TEST(Regression, HandComputed) {
  const Values y{1, 2, 3}, p{2, 2, 5};
  EXPECT_NEAR(mse(y, p), 5.0 / 3.0, 1e-12);
  EXPECT_NEAR(rmse(y, p), std::sqrt(5.0 / 3.0), 1e-12);
  EXPECT_NEAR(mae(y, p), 1.0, 1e-12);
  EXPECT_NEAR(r2(y, p), -1.5, 1e-7);
  EXPECT_NEAR(mape(y, p), 100.0 * (1.0 + 2.0 / 3.0) / 3.0, 1e-6);
  EXPECT_NEAR(smape(y, p), 100.0 * (2.0 / 3.0 + 0.5) / 3.0, 1e-6);
}

// Perfect predictions: errors 0, R2 = 1; zero targets stay finite thanks to eps.
TEST(Regression, PerfectAndZeroTargets) {
  const Values y{0, 1, 4};
  EXPECT_EQ(mse(y, y), 0.0);
  EXPECT_NEAR(r2(y, y), 1.0, 1e-12);
  EXPECT_EQ(mape(y, y), 0.0);
  EXPECT_EQ(smape(y, y), 0.0);
  // y = 0, p = 1: |0 - 1| / (0 + 1e-8) = 1e8 -> MAPE = 100 * 1e8 (finite).
  EXPECT_NEAR(mape(Values{0}, Values{1}), 1e10, 1e2);
  // constant y: SS_tot = 0 -> R2 = 1 - SS_res / 1e-8, finite.
  EXPECT_TRUE(std::isfinite(r2(Values{2, 2}, Values{2, 3})));
}

TEST(Regression, EmptyAndMismatchedInputsThrow) {
  testing::expect_exact_error([&] { mse(Values{}, Values{}); },
                              "mse: got no (target, prediction) pairs, expected at least one");
  testing::expect_exact_error([&] { smape(Values{1, 2}, Values{1}); },
                              "smape: got 2 targets and 1 predictions, expected equal lengths");
}

// x = [0, 1, 2], y = [1, 3, 5] -> y = 2x + 1 exactly. Constant x -> a = 0, b = mean y.
TEST(Regression, LinearMapFit) {
  LinearMap m = fit_linear_map(Values{0, 1, 2}, Values{1, 3, 5});
  EXPECT_NEAR(m.a, 2.0, 1e-12);
  EXPECT_NEAR(m.b, 1.0, 1e-12);
  LinearMap c = fit_linear_map(Values{4, 4}, Values{1, 5});
  EXPECT_EQ(c.a, 0.0);
  EXPECT_EQ(c.b, 3.0);
  EXPECT_THROW(fit_linear_map(Values{}, Values{}), Error);
}

}  // namespace
}  // namespace twotower
