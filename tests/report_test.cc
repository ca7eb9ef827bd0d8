#include "twotower/eval/report.h"

#include <gtest/gtest.h>

#include <cmath>

#include "eval_test_util.h"
#include "twotower/eval/evaluator.h"

namespace twotower {
namespace {

using testing::add;
using testing::MatrixScorer;

// Train: u0 rates i0 5 (score 2) and i1 3 (score 1) -> rating = 2 * score + 1.
// Test: u1 rates i2 4 (score 1 -> predicted 3) and i1 2 (score 0.5 -> predicted 2).
// y = [4, 2], p = [3, 2]: MSE = 0.5, RMSE = 0.70711, MAE = 0.5, mean y = 3, SS_tot = 2,
// SS_res = 1 -> R2 = 0.5; MAPE = 100 * (1/4 + 0)/2 = 12.5; SMAPE = 100 * (2*1/7 + 0)/2 = 14.2857.
TEST(EvaluateAll, RegressionThroughTheFittedLinearMap) {
  Interactions in;
  add(in, 0, 0, Split::kTrain, 5.0f);
  add(in, 0, 1, Split::kTrain, 3.0f);
  add(in, 1, 2, Split::kTest, 4.0f);
  add(in, 1, 1, Split::kTest, 2.0f);
  EvalData d = make_eval_data(in, 2, 3, Split::kTest);
  MatrixScorer scorer(2, 3, {2.0f, 1.0f, 0.0f, 0.0f, 0.5f, 1.0f});
  EvalOptions o;
  o.ks = {1};
  nlohmann::json r = evaluate_all(d, scorer, o);
  EXPECT_TRUE(r["regression"]["applicable"].get<bool>());
  EXPECT_NEAR(r["regression"]["a"].get<double>(), 2.0, 1e-12);
  EXPECT_NEAR(r["regression"]["b"].get<double>(), 1.0, 1e-12);
  EXPECT_NEAR(r["mse"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(r["rmse"].get<double>(), std::sqrt(0.5), 1e-12);
  EXPECT_NEAR(r["mae"].get<double>(), 0.5, 1e-12);
  EXPECT_NEAR(r["r2"].get<double>(), 0.5, 1e-8);
  EXPECT_NEAR(r["mape"].get<double>(), 12.5, 1e-6);
  EXPECT_NEAR(r["smape"].get<double>(), 100.0 / 7.0, 1e-6);
  // u1 ranks i2 (1.0) above i1 (0.5) and i0 (0): top-1 = i2, a target -> recall 1/2.
  EXPECT_DOUBLE_EQ(r["recall@1"].get<double>(), 0.5);
  EXPECT_TRUE(r["unavailable"].contains("diversity@1"));
}

// Without ratings the regression metrics are null with the reason, not zeros.
TEST(EvaluateAll, NoRatingsMeansNotApplicable) {
  Interactions in;
  add(in, 0, 0, Split::kTrain);
  add(in, 0, 1, Split::kTest);
  EvalData d = make_eval_data(in, 1, 2, Split::kTest);
  MatrixScorer scorer(1, 2, {0.0f, 1.0f});
  nlohmann::json r = evaluate_all(d, scorer, EvalOptions{});
  for (const char* key : {"mse", "rmse", "mae", "r2", "mape", "smape"}) {
    EXPECT_TRUE(r[key].is_null()) << key;
    EXPECT_EQ(r["unavailable"][key], "not applicable: the data set has no ratings") << key;
  }
  EXPECT_FALSE(r["regression"]["applicable"].get<bool>());
  EXPECT_DOUBLE_EQ(r["recall@5"].get<double>(), 1.0);
  EXPECT_EQ(r["counts"]["users_evaluated"], 1);
}

// A failing group (the ranking, here: NaN scores) is null with its reason; regression still
// comes out.
TEST(EvaluateAll, AFailingMetricDoesNotHideTheOthers) {
  Interactions in;
  add(in, 0, 0, Split::kTrain, 4.0f);
  add(in, 1, 1, Split::kTrain, 2.0f);
  add(in, 0, 1, Split::kTest, 3.0f);
  EvalData d = make_eval_data(in, 2, 2, Split::kTest);
  MatrixScorer scorer(2, 2, {1.0f, NAN, 0.0f, 0.0f});
  EvalOptions o;
  o.ks = {10};
  nlohmann::json r = evaluate_all(d, scorer, o);
  EXPECT_TRUE(r["recall@10"].is_null());
  EXPECT_EQ(r["unavailable"]["recall@10"], "scorer returned NaN for item 1: a NaN score cannot be ranked");
  // Fit on (1, 4), (0, 2): a = 2, b = 2; the test pair's score is NaN -> the metrics say so.
  EXPECT_TRUE(r["regression"]["applicable"].get<bool>());
  EXPECT_NEAR(r["regression"]["a"].get<double>(), 2.0, 1e-12);
}

// No user has a target: nothing is averaged, so the ranking metrics are null with the reason and
// the counts say why.
TEST(EvaluateAll, NoEvaluatedUsers) {
  Interactions in;
  add(in, 0, 0, Split::kTrain);
  EvalData d = make_eval_data(in, 1, 2, Split::kTest);
  MatrixScorer scorer(1, 2, {0.0f, 1.0f});
  EvalOptions o;
  o.ks = {10};
  nlohmann::json r = evaluate_all(d, scorer, o);
  EXPECT_TRUE(r["recall@10"].is_null());
  EXPECT_EQ(r["unavailable"]["recall@10"], "no user has a target in the test split");
  EXPECT_EQ(r["counts"]["users_evaluated"], 0);
  EXPECT_EQ(r["counts"]["users_without_targets"], 1);
  // Coverage is defined without users: nothing recommended, 0.
  EXPECT_EQ(r["coverage@10"].get<double>(), 0.0);
}

// The table has one column per model and prints n/a with the reason for nulls.
TEST(FormatTable, ModelAndBaselineColumns) {
  nlohmann::json r = {{"model", "two-tower"}, {"split", "test"}, {"k", {10}}, {"recall@10", 0.25},
                      {"mse", nullptr}, {"unavailable", {{"mse", "not applicable: no ratings"}}}};
  r["baselines"]["popularity"] = {{"recall@10", 0.125}};
  std::string t = format_table(r);
  EXPECT_NE(t.find("two-tower"), std::string::npos) << t;
  EXPECT_NE(t.find("popularity"), std::string::npos) << t;
  EXPECT_NE(t.find("recall@10            0.2500       0.1250"), std::string::npos) << t;
  EXPECT_NE(t.find("n/a (mse): not applicable: no ratings"), std::string::npos) << t;
}

}  // namespace
}  // namespace twotower
