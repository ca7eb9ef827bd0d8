#include "twotower/eval/evaluator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "eval_test_util.h"
#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/eval/metrics.h"

namespace twotower {
namespace {

using testing::add;
using testing::MatrixScorer;
using Ids = std::vector<int64_t>;

// 1 user, 4 items; history {1}; target {2}. Scores: item0 = 0.5, item1 = 9 (seen), item2 = 0.5,
// item3 = 0.1. Item 1 is excluded; item 0 ties with the target and ranks above it:
// list = [0, 2, 3] -> target at position 1.
TEST(RankedList, TiesGoAgainstTheTargetAndSeenItemsAreExcluded) {
  const std::vector<float> s{0.5f, 9.0f, 0.5f, 0.1f};
  EXPECT_EQ(ranked_list(s.data(), 4, Ids{1}, Ids{2}, 10), (Ids{0, 2, 3}));
  EXPECT_EQ(ranked_list(s.data(), 4, Ids{1}, Ids{2}, 1), (Ids{0}));
  // Without a target, equal scores go by item id.
  EXPECT_EQ(ranked_list(s.data(), 4, Ids{}, Ids{}, 4), (Ids{1, 0, 2, 3}));
}

// All scores equal: every non-target ranks above the targets.
TEST(RankedList, ConstantScoresPutTargetsLast) {
  const std::vector<float> s(6, 1.0f);
  EXPECT_EQ(ranked_list(s.data(), 6, Ids{}, Ids{0, 3}, 6), (Ids{1, 2, 4, 5, 0, 3}));
}

TEST(RankedList, NaNScoreIsAnError) {
  const std::vector<float> s{0.1f, NAN, 0.3f};
  testing::expect_exact_error([&] { ranked_list(s.data(), 3, Ids{}, Ids{0}, 2); },
                              "scorer returned NaN for item 1: a NaN score cannot be ranked");
  // An excluded NaN is never looked at.
  EXPECT_EQ(ranked_list(s.data(), 3, Ids{1}, Ids{0}, 2), (Ids{2, 0}));
}

struct RandomCase {
  EvalData data;
  std::vector<float> scores;  // [U, I]
};

// Random users with histories and 0-3 targets in `split`; scores drawn from few levels so ties
// are frequent.
RandomCase random_case(uint64_t seed, int64_t n_users, int64_t n_items, Split split) {
  std::mt19937_64 rng(seed);
  Interactions in;
  for (int64_t u = 0; u < n_users; ++u) {
    const int n_hist = static_cast<int>(rng() % 5), n_valid = static_cast<int>(rng() % 2), n_test = static_cast<int>(rng() % 4);
    for (int k = 0; k < n_hist; ++k) add(in, u, static_cast<int64_t>(rng() % n_items), Split::kTrain);
    for (int k = 0; k < n_valid; ++k) add(in, u, static_cast<int64_t>(rng() % n_items), Split::kValid);
    for (int k = 0; k < n_test; ++k) add(in, u, static_cast<int64_t>(rng() % n_items), Split::kTest);
  }
  RandomCase c{make_eval_data(in, n_users, n_items, split), {}};
  c.scores.resize(static_cast<size_t>(n_users * n_items));
  for (float& s : c.scores) s = static_cast<float>(rng() % 4);
  return c;
}

// Brute force: sort every candidate of a user with std::sort under the protocol's order, or,
// for a single target, its pessimistic rank #{j not seen, j != t : s_j >= s_t} as in the
// reference; then recall / NDCG / hit from the position.
struct Brute {
  double recall = 0, ndcg = 0, precision = 0, mrr = 0, hit = 0;
  int64_t users = 0;
};
Brute brute_force(const RandomCase& c, int64_t K) {
  Brute b;
  const int64_t I = c.data.num_items;
  for (int64_t u = 0; u < c.data.num_users; ++u) {
    auto targets = c.data.targets(u);
    if (targets.empty()) continue;
    auto hist = c.data.history(u);
    const float* s = c.scores.data() + u * I;
    auto seen = [&](int64_t j) { return std::find(hist.begin(), hist.end(), j) != hist.end(); };
    auto is_t = [&](int64_t j) { return std::find(targets.begin(), targets.end(), j) != targets.end(); };
    ++b.users;
    if (targets.size() == 1) {
      const int64_t t = targets[0];
      int64_t rank = 0;
      for (int64_t j = 0; j < I; ++j) rank += j != t && !seen(j) && s[j] >= s[t];
      if (rank < K) {
        b.recall += 1;
        b.hit += 1;
        b.ndcg += 1.0 / std::log2(rank + 2.0);
        b.precision += 1.0 / K;
        b.mrr += 1.0 / (rank + 1.0);
      }
      continue;
    }
    Ids all;
    for (int64_t j = 0; j < I; ++j) {
      if (!seen(j)) all.push_back(j);
    }
    std::sort(all.begin(), all.end(), [&](int64_t a, int64_t c2) {
      if (s[a] != s[c2]) return s[a] > s[c2];
      if (is_t(a) != is_t(c2)) return !is_t(a);
      return a < c2;
    });
    double hits = 0, dcg = 0, idcg = 0, rr = 0;
    for (int64_t p = 0; p < K && p < static_cast<int64_t>(all.size()); ++p) {
      if (is_t(all[p])) {
        hits += 1;
        dcg += 1.0 / std::log2(p + 2.0);
        if (rr == 0) rr = 1.0 / (p + 1.0);
      }
    }
    for (int64_t p = 0; p < K && p < static_cast<int64_t>(targets.size()); ++p) idcg += 1.0 / std::log2(p + 2.0);
    b.recall += hits / targets.size();
    b.hit += hits > 0;
    b.ndcg += dcg / idcg;
    b.precision += hits / K;
    b.mrr += rr;
  }
  return b;
}

// The chunked, threaded evaluator equals the brute force for every chunk size (1, 2, n, more
// than n) and thread count, on both splits, with many ties.
TEST(Evaluator, MatchesBruteForceAcrossChunksAndThreads) {
  for (Split split : {Split::kValid, Split::kTest}) {
    const RandomCase c = random_case(11 + static_cast<int>(split), 23, 17, split);
    MatrixScorer scorer(23, 17, c.scores);
    for (int64_t chunk : {1, 2, 7, 23, 100}) {
      for (int threads : {1, 2, 3}) {
        EvalOptions o;
        o.ks = {1, 3, 5, 40};
        o.chunk_users = chunk;
        o.num_threads = threads;
        RankingMetrics m = evaluate_ranking(c.data, scorer, o);
        for (int64_t K : o.ks) {
          Brute b = brute_force(c, K);
          SCOPED_TRACE(::testing::Message() << "split " << split_name(split) << " chunk " << chunk << " K " << K);
          ASSERT_EQ(m.all.users, b.users);
          EXPECT_NEAR(m.value(str_cat("recall@", K)), b.recall / b.users, 1e-12);
          EXPECT_NEAR(m.value(str_cat("ndcg@", K)), b.ndcg / b.users, 1e-12);
          EXPECT_NEAR(m.value(str_cat("precision@", K)), b.precision / b.users, 1e-12);
          EXPECT_NEAR(m.value(str_cat("hit_rate@", K)), b.hit / b.users, 1e-12);
          EXPECT_NEAR(m.value(str_cat("mrr@", K)), b.mrr / b.users, 1e-12);
        }
      }
    }
  }
}

// coverage@K, which the evaluator counts from each item's best list position, equals
// coverage() (metrics.h) over the evaluated users' lists cut to K.
TEST(Evaluator, CoverageEqualsTheMetricOverTheLists) {
  const RandomCase c = random_case(5, 23, 17, Split::kTest);
  MatrixScorer scorer(23, 17, c.scores);
  EvalOptions o;
  o.ks = {1, 2, 5};
  o.num_threads = 2;
  RankingMetrics m = evaluate_ranking(c.data, scorer, o);
  for (int64_t K : o.ks) {
    std::vector<Ids> lists;
    for (int64_t u = 0; u < c.data.num_users; ++u) {
      if (c.data.targets(u).empty()) continue;
      lists.push_back(ranked_list(c.scores.data() + u * 17, 17, c.data.history(u), c.data.targets(u), K));
    }
    EXPECT_DOUBLE_EQ(m.value(str_cat("coverage@", K)), coverage(lists, 17)) << "K " << K;
  }
}

// Users without targets are skipped and counted; validation excludes only train items, test
// excludes train + valid.
TEST(Evaluator, SkipsUsersWithoutTargetsAndExcludesTheRightHistory) {
  Interactions in;
  add(in, 0, 0, Split::kTrain);
  add(in, 0, 1, Split::kValid);
  add(in, 0, 2, Split::kTest);
  add(in, 1, 0, Split::kTrain);  // user 1: no valid, no test
  add(in, 2, 3, Split::kTest);   // user 2: cold (no history), test only
  EvalData test = make_eval_data(in, 3, 4, Split::kTest);
  EXPECT_EQ(test.history(0).size(), 2u);
  EvalData valid = make_eval_data(in, 3, 4, Split::kValid);
  EXPECT_EQ(valid.history(0).size(), 1u);

  // Scores make seen items best: item 0 = 3, item 1 = 2, item 2 = 1, item 3 = 0.
  MatrixScorer scorer(3, 4, {3, 2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 0});
  EvalOptions o;
  o.ks = {1};
  RankingMetrics m = evaluate_ranking(test, scorer, o);
  EXPECT_EQ(m.users_without_targets, 1);
  EXPECT_EQ(m.all.users, 2);
  // user 0: items 0, 1 excluded -> list [2, 3], target 2 first -> hit. user 2: list [0, ...] -> miss.
  EXPECT_DOUBLE_EQ(m.value("recall@1"), 0.5);
  EXPECT_EQ(m.warm_users.users, 1);
  EXPECT_DOUBLE_EQ(m.warm_users.values.at("recall@1"), 1.0);
  EXPECT_EQ(m.cold_users.users, 1);
  EXPECT_DOUBLE_EQ(m.cold_users.values.at("recall@1"), 0.0);
  // History holds items 0 and 1 only: both targets (2 and 3) are cold items; one hit of two.
  EXPECT_EQ(m.cold_item_targets, 2);
  EXPECT_EQ(m.cold_items.users, 2);
  EXPECT_DOUBLE_EQ(m.cold_items.values.at("recall@1"), 0.5);
  // Coverage@1: lists' first items are 2 (user 0) and 0 (user 2) -> 2 of 4.
  EXPECT_DOUBLE_EQ(m.value("coverage@1"), 0.5);

  // On valid, user 0's target is item 1 and only item 0 is excluded: list [1, ...] -> hit.
  RankingMetrics mv = evaluate_ranking(valid, scorer, o);
  EXPECT_EQ(mv.all.users, 1);
  EXPECT_DOUBLE_EQ(mv.value("recall@1"), 1.0);
}

// Every item scored the same: the target ranks below every candidate, so Recall@K <= K/|I|;
// likewise a collapsed model (every user and item embedding equal) through the dot product.
TEST(Evaluator, ConstantAndCollapsedModelsGetNoFreeHits) {
  const int64_t U = 40, I = 30;
  std::mt19937_64 rng(5);
  Interactions in;
  for (int64_t u = 0; u < U; ++u) {
    add(in, u, static_cast<int64_t>(rng() % I), Split::kTrain);
    add(in, u, static_cast<int64_t>(rng() % I), Split::kTest);
  }
  EvalData d = make_eval_data(in, U, I, Split::kTest);
  EvalOptions o;
  o.ks = {1, 5, 10, 28, 29, 30};
  MatrixScorer constant(U, I, std::vector<float>(U * I, 0.25f));
  std::vector<float> same_user(U * 8, 0.5f), same_item(I * 8, -0.5f);
  DotProductScorer collapsed({same_user.data(), U, 8}, {same_item.data(), I, 8});
  for (const Scorer* s : {static_cast<const Scorer*>(&constant), static_cast<const Scorer*>(&collapsed)}) {
    RankingMetrics m = evaluate_ranking(d, *s, o);
    // Below the candidate count (29: one excluded item each) the bound holds; at K >= 29 every
    // candidate is listed, whatever the model.
    for (int64_t K : {1, 5, 10, 28}) {
      EXPECT_LE(m.value(str_cat("recall@", K)), static_cast<double>(K) / I) << s->name() << " K " << K;
    }
    // The target is last of the 29 candidates, position 28.
    EXPECT_EQ(m.value("recall@10"), 0.0);
    EXPECT_EQ(m.value("recall@29"), 1.0);
  }
}

// K beyond the catalogue: the list holds every candidate; precision divides by K.
TEST(Evaluator, KLargerThanCatalogue) {
  Interactions in;
  add(in, 0, 0, Split::kTrain);
  add(in, 0, 2, Split::kTest);
  EvalData d = make_eval_data(in, 1, 3, Split::kTest);
  MatrixScorer scorer(1, 3, {0.0f, 0.2f, 0.1f});
  EvalOptions o;
  o.ks = {100, 1000000000};
  RankingMetrics m = evaluate_ranking(d, scorer, o);
  // list = [1, 2]: target at position 1. (K = 1e9 allocates nothing of that size.)
  EXPECT_DOUBLE_EQ(m.value("recall@100"), 1.0);
  EXPECT_DOUBLE_EQ(m.value("precision@100"), 0.01);
  EXPECT_DOUBLE_EQ(m.value("precision@1000000000"), 1e-9);
  EXPECT_NEAR(m.value("ndcg@100"), 1.0 / std::log2(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(m.value("coverage@100"), 2.0 / 3.0);
}

// Diversity and novelty from the evaluator equal the pure functions on the user's list.
TEST(Evaluator, DiversityAndNoveltyOfTheList) {
  Interactions in;
  add(in, 0, 0, Split::kTrain);
  add(in, 1, 0, Split::kTrain);
  add(in, 0, 3, Split::kTest);
  EvalData d = make_eval_data(in, 2, 4, Split::kTest);
  MatrixScorer scorer(2, 4, {9, 3, 2, 1, 0, 0, 0, 0});
  // Item vectors: 1 = (1, 0), 2 = (2, 0) (same direction), 3 = (0, 5).
  const std::vector<float> vec{1, 1, 1, 0, 2, 0, 0, 5};
  MatrixView view{vec.data(), 4, 2};
  EvalOptions o;
  o.ks = {2, 3};
  RankingMetrics m = evaluate_ranking(d, scorer, o, &view);
  // list = [1, 2, 3]; @2: cos(1,2) = 1 -> diversity 0. @3: cosines 1, 0, 0 -> 1 - 1/3.
  EXPECT_NEAR(m.value("diversity@2"), 0.0, 1e-7);
  EXPECT_NEAR(m.value("diversity@3"), 2.0 / 3.0, 1e-7);
  // degrees: items 1..3 have 0 history interactions, 2 users -> p = 1/3 -> log2(3) bits each.
  EXPECT_NEAR(m.value("novelty@3"), std::log2(3.0), 1e-12);
  // Without vectors diversity is absent, and value() names what exists.
  RankingMetrics no_vec = evaluate_ranking(d, scorer, o);
  EXPECT_EQ(no_vec.all.values.count("diversity@2"), 0u);
  testing::expect_error([&] { no_vec.value("diversity@2"); },
                        "metric \"diversity@2\" was not computed; computed: coverage@2");
}

TEST(Evaluator, ErrorPaths) {
  Interactions in;
  add(in, 0, 1, Split::kTest);
  EvalData d = make_eval_data(in, 1, 2, Split::kTest);
  MatrixScorer ok(1, 2, {0.0f, 1.0f});
  auto message = [&](const Scorer& s, const EvalOptions& o) -> std::string {
    try {
      evaluate_ranking(d, s, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EvalOptions bad_k;
  bad_k.ks = {10, 0};
  EXPECT_EQ(message(ok, bad_k), "evaluation: field \"k\": got 0, expected cutoffs >= 1");
  EvalOptions bad_chunk;
  bad_chunk.chunk_users = 0;
  EXPECT_EQ(message(ok, bad_chunk), "evaluation: field \"chunk_users\": got 0, expected >= 1");
  MatrixScorer wrong(1, 3, {0, 0, 0});
  EXPECT_EQ(message(wrong, EvalOptions{}),
            "evaluation: scorer \"matrix\" covers 1 users x 3 items, expected the data's 1 x 2");
  MatrixScorer nan(1, 2, {NAN, 1.0f});
  EXPECT_EQ(message(nan, EvalOptions{}), "scorer returned NaN for item 0: a NaN score cannot be ranked");
  const std::vector<float> vec{1, 2, 3};
  MatrixView bad_vectors{vec.data(), 3, 1};
  testing::expect_exact_error([&] { evaluate_ranking(d, ok, EvalOptions{}, &bad_vectors); },
                              "evaluation: item vectors for diversity: got [3, 1], expected [2, D > 0]");
}

// The dot-product scorer equals explicit dot products, for whole rows and pairs.
TEST(DotProductScorer, MatchesExplicitDotProducts) {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> g;
  const int64_t U = 5, I = 7, D = 3;
  std::vector<float> u(U * D), v(I * D);
  for (float& x : u) x = g(rng);
  for (float& x : v) x = g(rng);
  DotProductScorer s({u.data(), U, D}, {v.data(), I, D});
  const Ids users{4, 0, 2};
  std::vector<float> out(users.size() * I);
  s.score_users(users, out.data());
  for (size_t r = 0; r < users.size(); ++r) {
    for (int64_t i = 0; i < I; ++i) {
      float want = 0;
      for (int64_t k = 0; k < D; ++k) want += u[users[r] * D + k] * v[i * D + k];
      EXPECT_NEAR(out[r * I + i], want, 1e-5);
      float pair = 0;
      s.score_pairs(Ids{users[r]}, Ids{i}, &pair);
      EXPECT_NEAR(pair, want, 1e-5);
    }
  }
  testing::expect_exact_error(
      [&] { DotProductScorer({u.data(), U, D}, {v.data(), I, D + 1}); },
      "dot-product scorer: got user embeddings [5, 3] and item embeddings [7, 4], expected the same width D > 0");
}

// score_queries scores any rows (here 1, 6 and 7: a partial, a whole and a whole + partial tile)
// as explicit dot products, without a user matrix; a width mismatch names both widths.
TEST(DotProductScorer, ScoreQueriesMatchesExplicitDotProducts) {
  std::mt19937_64 rng(2);
  std::normal_distribution<float> g;
  const int64_t I = 40, D = 5;
  std::vector<float> q(7 * D), v(I * D);
  for (float& x : q) x = g(rng);
  for (float& x : v) x = g(rng);
  DotProductScorer s({nullptr, 0, D}, {v.data(), I, D}, "queries", 1);
  for (int64_t n : {1, 6, 7}) {
    std::vector<float> out(static_cast<size_t>(n * I));
    s.score_queries({q.data(), n, D}, out.data());
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t i = 0; i < I; ++i) {
        float want = 0;
        for (int64_t k = 0; k < D; ++k) want += q[r * D + k] * v[i * D + k];
        EXPECT_NEAR(out[r * I + i], want, 1e-5) << n << " queries, row " << r << ", item " << i;
      }
    }
  }
  std::vector<float> out(I);
  testing::expect_exact_error([&] { s.score_queries({q.data(), 1, D - 1}, out.data()); },
                              "dot-product scorer: got queries of width 4, expected 5");
}

// Partial register tiles (13 users = 6 + 6 + 1 rows; 37 items = 16 + 16 + 5 columns), an odd
// width, and 1 or 2 threads: every score equals the explicit dot product.
TEST(DotProductScorer, PartialTilesAndThreads) {
  std::mt19937_64 rng(2);
  std::normal_distribution<float> g;
  const int64_t U = 20, I = 37, D = 7;
  std::vector<float> u(U * D), v(I * D);
  for (float& x : u) x = g(rng);
  for (float& x : v) x = g(rng);
  Ids users(13);
  for (size_t r = 0; r < users.size(); ++r) users[r] = static_cast<int64_t>((r * 7) % U);
  for (int threads : {1, 2}) {
    DotProductScorer s({u.data(), U, D}, {v.data(), I, D}, "t", threads);
    std::vector<float> out(users.size() * I, NAN);
    s.score_users(users, out.data());
    for (size_t r = 0; r < users.size(); ++r) {
      for (int64_t i = 0; i < I; ++i) {
        double want = 0;
        for (int64_t k = 0; k < D; ++k) want += static_cast<double>(u[users[r] * D + k]) * v[i * D + k];
        EXPECT_NEAR(out[r * I + i], want, 1e-5) << "threads " << threads << " row " << r << " item " << i;
      }
    }
  }
}

}  // namespace
}  // namespace twotower
