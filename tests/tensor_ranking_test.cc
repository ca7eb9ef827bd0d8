#include "twotower/eval/tensor_ranking.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "eval_test_util.h"
#include "twotower/common/error.h"
#include "twotower/eval/evaluator.h"

namespace twotower {
namespace {

using testing::add;

// 60 users over 25 items: 2-6 history items and 0-3 held-out targets each (some users have none).
EvalData several_targets_data() {
  std::mt19937_64 rng(11);
  Interactions in;
  for (int64_t u = 0; u < 60; ++u) {
    for (uint64_t j = 0, n = 2 + rng() % 5; j < n; ++j) add(in, u, static_cast<int64_t>(rng() % 25), Split::kTrain);
    for (uint64_t j = 0, n = rng() % 4; j < n; ++j) add(in, u, static_cast<int64_t>(rng() % 25), Split::kTest);
  }
  return make_eval_data(in, 60, 25, Split::kTest);
}

// [rows, d] with entries drawn from {-1, 0, 1}: the dot products are small integers, exact in
// any summation order, so many scores tie exactly and the tie rules decide the places.
torch::Tensor small_integers(int64_t rows, int64_t d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<float> v(static_cast<size_t>(rows * d));
  for (float& x : v) x = static_cast<float>(static_cast<int64_t>(rng() % 3) - 1);
  return torch::tensor(v).view({rows, d});
}

// The evaluator's recall@K and ndcg@K, the reference the tensor ranking must equal.
void expect_equal_to_evaluator(const EvalData& data, const torch::Tensor& users, const torch::Tensor& items,
                               int64_t chunk) {
  const std::vector<int64_t> ks = {1, 3, 5, 10, 25};
  EvalOptions o;
  o.ks = ks;
  const torch::Tensor u = users.contiguous(), i = items.contiguous();
  const RankingMetrics expected = evaluate_embeddings(
      data, {u.data_ptr<float>(), u.size(0), u.size(1)}, {i.data_ptr<float>(), i.size(0), i.size(1)}, o);
  const auto got = tensor_ranking_metrics(data, users, items, ks, chunk);
  for (int64_t k : ks) {
    for (const char* name : {"recall@", "ndcg@"}) {
      const std::string key = name + std::to_string(k);
      EXPECT_NEAR(got.at(key), expected.value(key), 1e-12) << key << ", chunks of " << chunk;
    }
  }
}

TEST(TensorRanking, EqualsTheEvaluatorWithExactTies) {
  const EvalData data = several_targets_data();
  ASSERT_GT(data.users_with_targets, 20);
  for (int64_t chunk : {1, 7, 1024}) {
    expect_equal_to_evaluator(data, small_integers(60, 3, 1), small_integers(25, 3, 2), chunk);
  }
}

TEST(TensorRanking, EqualsTheEvaluatorWithoutTies) {
  torch::manual_seed(4);
  expect_equal_to_evaluator(several_targets_data(), torch::randn({60, 8}), torch::randn({25, 8}), 16);
}

// Every score equal: a target comes after every non-target candidate and after the lower-id
// targets of its user, so recall@1 is 0 and everything is found at K = 25.
TEST(TensorRanking, ConstantScoresGiveNoFreeHits) {
  const EvalData data = several_targets_data();
  const auto got = tensor_ranking_metrics(data, torch::ones({60, 2}), torch::ones({25, 2}), {1, 25});
  EXPECT_EQ(got.at("recall@1"), 0.0);
  EXPECT_DOUBLE_EQ(got.at("recall@25"), 1.0);
}

TEST(TensorRanking, RefusesBadInputs) {
  const EvalData data = several_targets_data();
  EXPECT_THROW(tensor_ranking_metrics(data, torch::ones({59, 2}), torch::ones({25, 2}), {10}), Error);
  EXPECT_THROW(tensor_ranking_metrics(data, torch::ones({60, 2}), torch::ones({25, 3}), {10}), Error);
  EXPECT_THROW(tensor_ranking_metrics(data, torch::ones({60, 2}), torch::ones({25, 2}), {0}), Error);
  EXPECT_THROW(tensor_ranking_metrics(data, torch::ones({60, 2}), torch::ones({25, 2}), {10}, 0), Error);
  EXPECT_THROW(tensor_ranking_metrics(data, torch::full({60, 2}, NAN), torch::ones({25, 2}), {10}), Error);
}

}  // namespace
}  // namespace twotower
