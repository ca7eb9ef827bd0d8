#include "twotower/eval/ease.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "eval_test_util.h"
#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/eval/baselines.h"
#include "twotower/eval/evaluate_run.h"
#include "twotower/eval/report.h"

namespace twotower {
namespace {

using testing::add;
using Ids = std::vector<int64_t>;

// History (train): u0 {0, 1}, u1 {0, 1, 2}, u2 {1, 2}; item 3 only in valid (u0) and test (u1).
Interactions tiny_interactions() {
  Interactions in;
  for (auto [u, i] : {std::pair{0, 0}, {0, 1}, {1, 0}, {1, 1}, {1, 2}, {2, 1}, {2, 2}}) add(in, u, i, Split::kTrain);
  add(in, 0, 3, Split::kValid);
  add(in, 1, 3, Split::kTest);
  return in;
}

// Seeded random leave-last-out data: each user has 2 to 6 train items, then one valid and one
// test item, drawn from a skewed catalogue so that items co-occur unevenly.
Interactions random_interactions(int64_t users, int64_t items, uint32_t seed) {
  std::mt19937 rng(seed);
  Interactions in;
  for (int64_t u = 0; u < users; ++u) {
    std::vector<int64_t> seq;
    const auto length = static_cast<size_t>(4 + rng() % 5);
    while (seq.size() < length) {
      const auto a = static_cast<int64_t>(rng() % items), b = static_cast<int64_t>(rng() % items);
      const int64_t i = std::min(a, b);  // low ids are more popular
      if (std::find(seq.begin(), seq.end(), i) == seq.end()) seq.push_back(i);
    }
    for (size_t p = 0; p < seq.size(); ++p) {
      add(in, u, seq[p], p + 2 < seq.size() ? Split::kTrain : p + 2 == seq.size() ? Split::kValid : Split::kTest);
    }
  }
  return in;
}

// B computed by another route: X dense in float64, P = inv(X^T X + lambda I) by
// torch::linalg::inv, B = I - P diag(1 / diag(P)) as a matrix product.
at::Tensor reference_weights(const EvalData& d, double lambda) {
  at::Tensor x = at::zeros({d.num_users, d.num_items}, at::kDouble);
  for (int64_t u = 0; u < d.num_users; ++u) {
    for (int64_t i : d.history(u)) x[u][i] = 1.0;
  }
  const at::Tensor eye = at::eye(d.num_items, at::kDouble);
  const at::Tensor p = at::linalg_inv(x.t().mm(x) + lambda * eye);
  return eye - p.mm(at::diag(1.0 / p.diagonal()));
}

// G = X^T X on the tiny history: [[2,2,1,0],[2,3,2,0],[1,2,2,0],[0,0,0,0]]; lambda 1 adds 1 on
// the diagonal. The 3x3 block [[3,2,1],[2,4,2],[1,2,3]] has determinant 16 and cofactors
// 8, -4, 0 / 8, -4 / 8, so P = [[.5,-.25,0],[-.25,.5,-.25],[0,-.25,.5]] and P[3,3] = 1.
// B[i,j] = -P[i,j] / P[j,j]: B[0,1] = B[1,0] = B[1,2] = B[2,1] = 0.5, everything else 0.
TEST(Ease, HandComputedWeightsAndScores) {
  const EvalData d = make_eval_data(tiny_interactions(), 3, 4, Split::kValid);
  EaseFit fit;
  EaseScorer ease(d, ease_weights(d, 1.0, &fit));
  const std::vector<float> expected{0, 0.5f, 0, 0, 0.5f, 0, 0.5f, 0, 0, 0.5f, 0, 0, 0, 0, 0, 0};
  ASSERT_EQ(ease.weights().size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) EXPECT_NEAR(ease.weights()[k], expected[k], 1e-6) << "entry " << k;
  // Max row sum of G is 7 (item 1): the bound 1 + 7 / 1 = 8 keeps the fit in float32.
  EXPECT_DOUBLE_EQ(fit.condition_bound, 8.0);
  EXPECT_EQ(fit.dtype, "float32");
  // u2 (history {1, 2}) scores B[1,:] + B[2,:] = [0.5, 0.5, 0.5, 0]; pairs agree with rows.
  std::vector<float> row(4), pairs(2);
  ease.score_users(Ids{2}, row.data());
  for (size_t j = 0; j < 4; ++j) EXPECT_NEAR(row[j], j < 3 ? 0.5 : 0.0, 1e-6) << "item " << j;
  ease.score_pairs(Ids{2, 2}, Ids{0, 3}, pairs.data());
  EXPECT_EQ(pairs, (std::vector<float>{row[0], row[3]}));
}

// The closed form by Cholesky (float32) equals the float64 inverse, the diagonal is exactly 0,
// and the lists the evaluator ranks from EASE's scores are the brute-force order of the
// reference scores (every seen item left out, score descending).
TEST(Ease, MatchesABruteForceReference) {
  const EvalData d = make_eval_data(random_interactions(60, 25, 7), 60, 25, Split::kTest);
  const double lambda = 3.0;
  EaseFit fit;
  EaseScorer ease(d, ease_weights(d, lambda, &fit));
  EXPECT_EQ(fit.dtype, "float32");
  const at::Tensor ref = reference_weights(d, lambda);
  const int64_t n = d.num_items;
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(ease.weights()[static_cast<size_t>(i * n + i)], 0.0f);
    for (int64_t j = 0; j < n; ++j) {
      ASSERT_NEAR(ease.weights()[static_cast<size_t>(i * n + j)], ref[i][j].item<double>(), 1e-5) << i << ", " << j;
    }
  }
  const at::Tensor ref_scores = [&] {
    at::Tensor x = at::zeros({d.num_users, n}, at::kDouble);
    for (int64_t u = 0; u < d.num_users; ++u) {
      for (int64_t i : d.history(u)) x[u][i] = 1.0;
    }
    return x.mm(ref);
  }();
  constexpr int64_t kTop = 5;
  int64_t compared = 0;
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t u = 0; u < d.num_users; ++u) {
    ease.score_users(Ids{u}, row.data());
    const auto seen = d.history(u);
    std::vector<std::pair<double, int64_t>> order;
    for (int64_t j = 0; j < n; ++j) {
      if (!std::binary_search(seen.begin(), seen.end(), j)) order.emplace_back(-ref_scores[u][j].item<double>(), j);
    }
    std::sort(order.begin(), order.end());
    // Users whose reference top kTop + 1 has a near-tie could order either way in float32.
    bool clear = true;
    for (int64_t p = 0; p < kTop; ++p) clear = clear && order[p + 1].first - order[p].first > 1e-4;
    if (!clear) continue;
    ++compared;
    Ids expected;
    for (int64_t p = 0; p < kTop; ++p) expected.push_back(order[static_cast<size_t>(p)].second);
    EXPECT_EQ(ranked_list(row.data(), n, seen, d.targets(u), kTop), expected) << "user " << u;
  }
  EXPECT_GT(compared, d.num_users / 2);
}

// The search ranks the validation users once per lambda with the evaluator and keeps the grid
// value with the highest metric; each trial's value is what evaluate_ranking gives for a model
// fit on the train split alone.
TEST(Ease, SelectsTheLambdaWithTheBestValidationMetric) {
  const EvalData valid = make_eval_data(random_interactions(200, 40, 3), 200, 40, Split::kValid);
  const std::vector<double> grid{0.1, 3, 30, 3000};
  EvalOptions options;
  options.num_threads = 1;
  const EaseSelection s = select_ease_lambda(valid, grid, "ndcg@10", options);
  ASSERT_EQ(s.trials.size(), grid.size());
  std::vector<double> values;
  for (size_t k = 0; k < grid.size(); ++k) {
    EXPECT_EQ(s.trials[k].fit.lambda, grid[k]);
    EvalOptions eo = options;
    eo.ks = {10};
    EaseScorer scorer(valid, ease_weights(valid, grid[k]));
    values.push_back(evaluate_ranking(valid, scorer, eo).value("ndcg@10"));
    EXPECT_DOUBLE_EQ(s.trials[k].value, values.back());
  }
  // The grid must matter here, or the choice would not be tested.
  ASSERT_NE(*std::min_element(values.begin(), values.end()), *std::max_element(values.begin(), values.end()));
  const auto best = std::max_element(values.begin(), values.end()) - values.begin();
  EXPECT_EQ(s.lambda, grid[static_cast<size_t>(best)]);
}

TEST(Ease, Errors) {
  const EvalData valid = make_eval_data(tiny_interactions(), 3, 4, Split::kValid);
  const EvalData test = make_eval_data(tiny_interactions(), 3, 4, Split::kTest);
  EvalOptions o;
  testing::expect_exact_error([&] { ease_weights(valid, 0.0); }, "EASE: lambda: got 0, expected a finite number > 0");
  testing::expect_exact_error([&] { EaseScorer(valid, std::vector<float>(15)); },
                              "EASE: got 15 weights, expected items^2 = 4^2 = 16");
  testing::expect_exact_error([&] { select_ease_lambda(valid, {}, "ndcg@10", o); },
                              "EASE: lambda grid: got no values, expected at least one lambda > 0");
  testing::expect_exact_error([&] { select_ease_lambda(valid, {1.0, -2.0}, "ndcg@10", o); },
                              "EASE: lambda: got -2, expected a finite number > 0");
  testing::expect_exact_error([&] { select_ease_lambda(test, {1.0}, "ndcg@10", o); },
                              "EASE: lambda selection: got the test split, expected valid");
  const EvalData no_valid = make_eval_data(Interactions{}, 3, 4, Split::kValid);
  testing::expect_exact_error([&] { select_ease_lambda(no_valid, {1.0}, "ndcg@10", o); },
                              "EASE: lambda selection: the valid split has no user with a target, expected at "
                              "least one (give one lambda to skip the search)");
  for (const char* metric : {"ndcg", "ndcg@", "ndcg@0", "@10", "ndcg@1x"}) {
    testing::expect_exact_error([&] { select_ease_lambda(valid, {1.0}, metric, o); },
                                str_cat("EASE: selection metric: got \"", metric,
                                        "\", expected <name>@K with K >= 1, e.g. ndcg@10"));
  }
  testing::expect_error([&] { select_ease_lambda(valid, {1.0}, "speed@10", o); }, "metric \"speed@10\" was not computed");
}

// Above the limit EASE is not fit: the reason names the catalogue, the limit and the memory.
TEST(Ease, SkipsLargeCataloguesWithAMessage) {
  EXPECT_FALSE(ease_skip_reason(20000, 20000).has_value());
  EXPECT_EQ(ease_skip_reason(25000, 20000).value(),
            "EASE skipped: the catalogue has 25000 items, above the limit of 20000 (--ease-max-items); its item x "
            "item weights would take 25000^2 x 4 bytes = 2.5 GB and the fit about twice that");
}

// 3 users, 4 items, every user with a train, a valid and a test item, for run_evaluate.
Dataset tiny_dataset() {
  Dataset d;
  d.user_ids = {"u0", "u1", "u2"};
  d.item_ids = {"i0", "i1", "i2", "i3"};
  d.interactions = tiny_interactions();
  add(d.interactions, 2, 0, Split::kValid);
  add(d.interactions, 2, 3, Split::kTest);
  d.items.resize(4);
  d.splits = {{"method", "leave_last_out"}};
  return d;
}

// `evaluate` reports EASE beside the other baselines (lambda chosen on valid, the trials listed),
// and above --ease-max-items writes the reason instead, in the JSON and the table.
TEST(Ease, EvaluateReportsOrSkipsIt) {
  testing::TempDir data;
  save_dataset(tiny_dataset(), data.path());
  EvaluateOptions o;
  o.data_dir = data.path();
  o.baselines_only = true;
  o.ks = {1, 2};
  o.progress = false;
  o.threads = 1;
  o.ease_lambdas = {0.5, 50};
  nlohmann::json r = run_evaluate(o);
  const nlohmann::json& ease = r["baselines"]["ease"];
  ASSERT_TRUE(ease.contains("recall@2")) << r.dump(1);
  EXPECT_EQ(ease["selection"]["trials"].size(), 2u);
  EXPECT_EQ(ease["selection"]["metric"], "ndcg@10");
  EXPECT_TRUE(ease["lambda"] == 0.5 || ease["lambda"] == 50.0) << ease["lambda"];
  EXPECT_NE(format_table(r).find("ease"), std::string::npos);

  // A data set without validation targets cannot choose lambda: the reason, the others still out.
  Dataset no_valid = tiny_dataset();
  for (Split& split : no_valid.interactions.split) split = split == Split::kValid ? Split::kTrain : split;
  testing::TempDir data2;
  save_dataset(no_valid, data2.path());
  EvaluateOptions o2 = o;
  o2.data_dir = data2.path();
  r = run_evaluate(o2);
  EXPECT_TRUE(r["baselines"]["itemknn"].contains("recall@2"));
  EXPECT_EQ(r["baselines"]["ease_skipped"],
            "EASE failed: EASE: lambda selection: the valid split has no user with a target, expected at least one "
            "(give one lambda to skip the search)");

  o.ease_max_items = 3;
  r = run_evaluate(o);
  EXPECT_FALSE(r["baselines"].contains("ease"));
  const std::string reason = ease_skip_reason(4, 3).value();
  EXPECT_EQ(r["baselines"]["ease_skipped"], reason);
  EXPECT_NE(format_table(r).find(reason), std::string::npos);
}

}  // namespace
}  // namespace twotower
