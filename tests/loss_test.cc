#include "twotower/train/loss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "twotower/data/model_inputs.h"

namespace twotower {
namespace {

torch::Tensor longs(std::vector<int64_t> v) { return torch::tensor(v, torch::kLong); }
double value(const torch::Tensor& t) { return t.item<double>(); }

// In-batch softmax, T = 1, scores [[1, 0], [0, 1]]: each row is log(e + 1) - 1 = log(1 + e^-1).
TEST(Loss, InBatchSoftmaxByHand) {
  torch::Tensor s = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f}).view({2, 2});
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({3, 4}), longs({3, 4}), {}, 1.0, true)),
              std::log1p(std::exp(-1.0)), 1e-6);
  // Temperature 0.1 on scores divided by 10 gives the same logits.
  EXPECT_NEAR(value(sampled_softmax_loss(s / 10, longs({3, 4}), longs({3, 4}), {}, 0.1, true)),
              std::log1p(std::exp(-1.0)), 1e-6);
}

// Log-Q: equal scores, p = (0.75, 0.25). Logits -log p = (log 4/3, log 4) in both rows:
// row 0: log(4/3 + 4) - log(4/3) = log 4; row 1: log(16/3) - log 4 = log(4/3); mean log(16/3)/2.
// Adding a constant to every log q changes nothing.
TEST(Loss, LogQCorrectionByHand) {
  torch::Tensor s = torch::zeros({2, 2});
  torch::Tensor log_q = torch::tensor({std::log(0.75f), std::log(0.25f)});
  const double expected = std::log(16.0 / 3.0) / 2;
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({0, 1}), longs({0, 1}), log_q, 1.0, true)), expected, 1e-6);
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({0, 1}), longs({0, 1}), log_q + 7.0f, 1.0, true)), expected, 1e-6);
  // Without correction both rows are log 2.
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({0, 1}), longs({0, 1}), {}, 1.0, true)), std::log(2.0), 1e-6);
}

// The same item twice in a batch: masked, each row's only candidate is its own positive (loss
// 0); unmasked, the copy is a negative with an equal score (log 2).
TEST(Loss, AccidentalHitsMasked) {
  torch::Tensor s = torch::ones({2, 2});
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({5, 5}), longs({5, 5}), {}, 1.0, true)), 0.0, 1e-6);
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({5, 5}), longs({5, 5}), {}, 1.0, false)), std::log(2.0), 1e-6);
}

// Mixed negatives: one row, its positive 3 and one extra uniform column. Extra item 7 with an
// equal score: log 2; extra item 3 (the positive drawn again) is masked: 0.
TEST(Loss, MixedNegativesByHand) {
  torch::Tensor s = torch::zeros({1, 2});
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({3}), longs({3, 7}), {}, 1.0, true)), std::log(2.0), 1e-6);
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({3}), longs({3, 3}), {}, 1.0, true)), 0.0, 1e-6);
  // log q of the uniform column log 2 higher: its logit falls by log 2, loss log(1 + 1/2).
  torch::Tensor log_q = torch::tensor({0.0f, std::log(2.0f)});
  EXPECT_NEAR(value(sampled_softmax_loss(s, longs({3}), longs({3, 7}), log_q, 1.0, true)), std::log(1.5), 1e-6);
}

// The fused CPU softmax equals the composed one in value and in the gradient of the scores, with
// repeated items (accidental hits), log-Q, extra columns and a temperature, masked or not.
TEST(Loss, FusedSoftmaxEqualsComposed) {
  torch::manual_seed(3);
  const int64_t b = 37, c = 45;
  torch::Tensor rows = torch::randint(0, 20, {b}, torch::kLong);
  torch::Tensor cols = torch::cat({rows, torch::randint(0, 20, {c - b}, torch::kLong)});
  torch::Tensor log_q = torch::randn({c});
  for (bool mask : {true, false}) {
    for (bool with_q : {true, false}) {
      torch::Tensor base = torch::randn({b, c});
      torch::Tensor s1 = base.clone().requires_grad_(true), s2 = base.clone().requires_grad_(true);
      torch::Tensor q = with_q ? log_q : torch::Tensor();
      torch::Tensor fused = sampled_softmax_loss(s1, rows, cols, q, 0.2, mask);
      torch::Tensor composed = sampled_softmax_loss_composed(s2, rows, cols, q, 0.2, mask);
      EXPECT_NEAR(value(fused), value(composed), 1e-5) << mask << with_q;
      (fused * 3).backward();
      (composed * 3).backward();
      EXPECT_TRUE(torch::allclose(s1.grad(), s2.grad(), 1e-5, 1e-6)) << mask << with_q;
      EXPECT_GT(s1.grad().abs().sum().item<double>(), 0.0);
    }
  }
}

// BPR, one positive of score 1 and k = 2 negatives of scores 0 and 1, scale 1:
// (softplus(-1) + softplus(0)) / 2 = (log(1 + e^-1) + log 2) / 2.
TEST(Loss, BprByHand) {
  torch::Tensor loss = bpr_loss(torch::tensor({1.0f}), torch::tensor({0.0f, 1.0f}), torch::tensor(1.0f));
  EXPECT_NEAR(value(loss), (std::log1p(std::exp(-1.0)) + std::log(2.0)) / 2, 1e-6);
  // Scale 2 doubles the margin: (softplus(-2) + log 2) / 2.
  loss = bpr_loss(torch::tensor({1.0f}), torch::tensor({0.0f, 1.0f}), torch::tensor(2.0f));
  EXPECT_NEAR(value(loss), (std::log1p(std::exp(-2.0)) + std::log(2.0)) / 2, 1e-6);
}

// A learned scale receives a gradient through BCE: d/ds of -log sigmoid(s * 1) at s = 1 is
// -(1 - sigmoid(1)) = -0.2689.
TEST(Loss, BceScaleGradient) {
  torch::Tensor scale = torch::tensor(1.0f).requires_grad_(true);
  bce_loss(torch::tensor({1.0f}), torch::tensor({1.0f}), scale).backward();
  EXPECT_NEAR(scale.grad().item<double>(), -(1.0 - 1.0 / (1.0 + std::exp(-1.0))), 1e-6);
}

// Empty batches have loss 0.
TEST(Loss, EmptyBatchIsZero) {
  EXPECT_EQ(value(sampled_softmax_loss(torch::zeros({0, 0}), longs({}), longs({}), {}, 0.05, true)), 0.0);
  EXPECT_EQ(value(bpr_loss(torch::zeros({0}), torch::zeros({0}), torch::tensor(1.0f))), 0.0);
  EXPECT_EQ(value(bce_loss(torch::zeros({0}), torch::zeros({0}), 1.0)), 0.0);
}

// Recent items: user 0 has items 10 (t=3), 11 (t=1), 12 (t=2); user 1 has 13; user 2 none.
// With n = 2: user 0's last two by time are 12, 10 (oldest first); user 1: 13, -1.
TEST(ModelInputs, RecentItemsByTime) {
  Interactions in;
  in.user = {0, 0, 0, 1};
  in.item = {10, 11, 12, 13};
  in.timestamp = {3, 1, 2, 5};
  PaddedTable t = recent_items(in, {0, 1, 2, 3}, 3, 2);
  EXPECT_EQ(t.data, (std::vector<int64_t>{12, 10, 13, -1, -1, -1}));
  // Only the rows given count: without row 0, user 0 keeps 11, 12.
  EXPECT_EQ(recent_items(in, {1, 2, 3}, 3, 2).data, (std::vector<int64_t>{11, 12, 13, -1, -1, -1}));
}

// Each row gets the items its user had strictly before it (by time, ties by row), in row order.
TEST(ModelInputs, ItemsBefore) {
  Interactions in;
  in.user = {0, 1, 0, 0, 1, 0};
  in.item = {10, 20, 11, 12, 21, 13};
  in.timestamp = {3, 7, 1, 2, 5, 2};
  // User 0 in time order: row 2 (11, t1), row 3 (12, t2), row 5 (13, t2, a later row), row 0 (10, t3).
  // User 1: row 4 (21, t5), row 1 (20, t7).
  PaddedTable t = items_before(in, {0, 1, 2, 3, 4, 5}, 2);
  EXPECT_EQ(t.rows, 6);
  EXPECT_EQ(t.cols, 2);
  EXPECT_EQ(t.data, (std::vector<int64_t>{12, 13,    // row 0: the last two before it
                                            21, -1,    // row 1
                                            -1, -1,    // row 2: user 0's first
                                            11, -1,    // row 3
                                            -1, -1,    // row 4: user 1's first
                                            11, 12}));  // row 5
  // Only the rows given count, and the output follows their order: rows 5, 0 without rows 2, 3.
  EXPECT_EQ(items_before(in, {5, 0}, 3).data, (std::vector<int64_t>{-1, -1, -1, 13, -1, -1}));
  EXPECT_EQ(items_before(in, {0}, 0).data.size(), 0u);
}

// Category paths pad to the longest path; an item without a path keeps its category_idx.
TEST(ModelInputs, CategoryPaths) {
  ItemFeatures f;
  f.resize(3);
  f.category_ids = {{1, 2, 3}, {}, {1, 4}};
  f.category_idx = {3, 0, 4};
  PaddedTable t = category_paths(f, 3);
  EXPECT_EQ(t.cols, 3);
  EXPECT_EQ(t.data, (std::vector<int64_t>{1, 2, 3, 0, -1, -1, 1, 4, -1}));
}

}  // namespace
}  // namespace twotower
