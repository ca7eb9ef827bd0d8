// Built only against a CUDA LibTorch, run only where a GPU is present: the validation ranking a
// GPU run does (eval/tensor_ranking.h) gives there the numbers it gives on the CPU, which
// tests/tensor_ranking_test.cc checks against the evaluator.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <random>

#include "eval_test_util.h"
#include "twotower/eval/tensor_ranking.h"

namespace twotower {
namespace {

TEST(TensorRankingCuda, EqualsTheCpuRanking) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: this check needs one";
  std::mt19937_64 rng(3);
  Interactions in;
  for (int64_t u = 0; u < 500; ++u) {
    for (int j = 0; j < 5; ++j) testing::add(in, u, static_cast<int64_t>(rng() % 300), Split::kTrain);
    testing::add(in, u, static_cast<int64_t>(rng() % 300), Split::kValid);
  }
  const EvalData data = make_eval_data(in, 500, 300, Split::kValid);
  // Scores in multiples of 1/4, exact on either device: ties decided by the rules, not rounding.
  torch::manual_seed(2);
  const torch::Tensor users = torch::randint(-2, 3, {500, 4}).to(torch::kFloat) / 2;
  const torch::Tensor items = torch::randint(-2, 3, {300, 4}).to(torch::kFloat) / 2;
  const auto cpu = tensor_ranking_metrics(data, users, items, {1, 10, 50}, 128);
  const auto gpu = tensor_ranking_metrics(data, users.cuda(), items.cuda(), {1, 10, 50}, 128);
  for (const auto& [key, value] : cpu) EXPECT_NEAR(gpu.at(key), value, 1e-12) << key;
}

}  // namespace
}  // namespace twotower
