#include "twotower/train/objective.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "twotower/config/config.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/negative_sampler.h"

namespace twotower {
namespace {

constexpr uint64_t kSeed = 7;

// 3 users, 5 items, no dropout: the towers are deterministic, so the objective's loss can be
// recomputed from the model's embeddings.
Config small_config(LossKind loss) {
  Config c;
  c.model.embedding_dim = 4;
  c.model.user_mlp_hidden = c.model.item_mlp_hidden = {8};
  c.model.dropout = 0.0;
  c.data.neg_ratio = 2;
  c.training.loss = loss;
  c.training.temperature = 0.5;
  c.training.logit_scale = 3;
  return c;
}

TwoTowerModel small_model(const Config& c) {
  torch::manual_seed(0);
  TwoTowerModel model(c.model, ModelSizes{3, 5, 2, 3, 6});
  model->eval();
  return model;
}

// The loss of train/loss.h written out: mean_b [log sum_c exp(l_bc) - l_bb].
double softmax_by_hand(const torch::Tensor& logits) {  // [B, C]
  return (torch::logsumexp(logits, 1) - logits.diagonal()).mean().item<double>();
}

// In-batch softmax with log-Q: train items {0, 0, 0, 1} of 5 give q = (3/4, 1/4, 1/4, 1/4, 1/4)
// (an item absent from training counts once); each column's correction is log(B q_c) with B = 3,
// so with batch items (0, 1, 2): l_bc = s_bc / 0.5 - log(3 q_c), log(3 q) = (log 9/4, log 3/4, log 3/4).
TEST(Objective, SoftmaxIsInBatchWithLogQ) {
  Config c = small_config(LossKind::kSoftmax);
  c.training.mask_accidental_hits = false;
  TwoTowerModel model = small_model(c);
  NegativeSampler sampler(5, kSeed);
  const torch::Tensor users = torch::tensor({0, 1, 2}, torch::kLong), items = torch::tensor({0, 1, 2}, torch::kLong);
  torch::NoGradGuard no_grad;
  const torch::Tensor s = model->user_embeddings(users).matmul(model->item_embeddings(items).t());  // [3, 3]
  const torch::Tensor log_bq = torch::tensor({std::log(9.0 / 4), std::log(3.0 / 4), std::log(3.0 / 4)}, torch::kFloat);

  Objective with_q(c, {0, 0, 0, 1}, 5, torch::kCPU);
  EXPECT_NEAR(with_q.loss(model, sampler, users, items).item<double>(), softmax_by_hand(s / 0.5 - log_bq), 1e-5);
  c.training.logq_correction = false;
  Objective without_q(c, {0, 0, 0, 1}, 5, torch::kCPU);
  EXPECT_NEAR(without_q.loss(model, sampler, users, items).item<double>(), softmax_by_hand(s / 0.5), 1e-5);
}

// Two rows with the same positive item: each is an accidental hit in the other's row and is left
// out of it (l = -inf there) when masked, counted when not.
TEST(Objective, SoftmaxMasksAccidentalHits) {
  Config c = small_config(LossKind::kSoftmax);
  c.training.logq_correction = false;
  TwoTowerModel model = small_model(c);
  NegativeSampler sampler(5, kSeed);
  const torch::Tensor users = torch::tensor({0, 1, 2}, torch::kLong), items = torch::tensor({4, 4, 3}, torch::kLong);
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = model->user_embeddings(users).matmul(model->item_embeddings(items).t()) / 0.5;
  torch::Tensor masked = logits.clone();
  masked.index_put_({0, 1}, -INFINITY);
  masked.index_put_({1, 0}, -INFINITY);
  Objective masking(c, {0}, 5, torch::kCPU);
  EXPECT_NEAR(masking.loss(model, sampler, users, items).item<double>(), softmax_by_hand(masked), 1e-5);
  c.training.mask_accidental_hits = false;
  Objective counting(c, {0}, 5, torch::kCPU);
  EXPECT_NEAR(counting.loss(model, sampler, users, items).item<double>(), softmax_by_hand(logits), 1e-5);
}

// BCE: B = 2 positives, then neg_ratio 2 sampled negatives each (the sampler's layout: negative
// r * B + b belongs to positive b), logits 3 * cosine, labels (1, 1, 0, 0, 0, 0):
// loss = mean [softplus(-z) over the positives, softplus(z) over the negatives].
// BPR on the same pairs: mean over (r, b) of softplus(-3 (s_b - s_{r*B+b})).
TEST(Objective, BceAndBprScoreTheSampledNegatives) {
  const torch::Tensor users = torch::tensor({2, 0}, torch::kLong), items = torch::tensor({1, 3}, torch::kLong);
  for (LossKind loss : {LossKind::kBce, LossKind::kBpr}) {
    Config c = small_config(loss);
    TwoTowerModel model = small_model(c);
    NegativeSampler sampler(5, kSeed), replica(5, kSeed);
    std::vector<int64_t> negatives(4);
    replica.sample(items.data_ptr<int64_t>(), 2, 2, false, negatives.data());
    torch::NoGradGuard no_grad;
    const torch::Tensor candidates = torch::cat({items, torch::tensor(negatives, torch::kLong)});  // [6]
    const torch::Tensor z = 3 * (model->user_embeddings(users.repeat({3})) * model->item_embeddings(candidates)).sum(-1);
    double expected = 0;
    if (loss == LossKind::kBce) {
      expected = torch::cat({torch::softplus(-z.slice(0, 0, 2)), torch::softplus(z.slice(0, 2))}).mean().item<double>();
    } else {
      expected = torch::softplus(-(z.slice(0, 0, 2).repeat({2}) - z.slice(0, 2))).mean().item<double>();
    }
    Objective objective(c, {1, 3}, 5, torch::kCPU);
    EXPECT_NEAR(objective.loss(model, sampler, users, items).item<double>(), expected, 1e-5) << to_string(loss);
    // The objective drew from the sampler passed in: it is now where the replica is.
    EXPECT_EQ(sampler.state(), replica.state()) << to_string(loss);
  }
}

// Mixed: the in-batch columns, then mixed_negatives = 2 uniform items shared by the batch (one
// draw of 2 from the sampler), whose log-Q is log(M / N) = log(2 / 5); in-batch columns as in
// softmax: train items {1, 3} give q_1 = q_3 = 1/2, so log(B q) = log(2 * 1/2) = 0.
TEST(Objective, MixedAddsSharedUniformNegatives) {
  Config c = small_config(LossKind::kMixed);
  c.training.mixed_negatives = 2;
  c.training.mask_accidental_hits = false;
  TwoTowerModel model = small_model(c);
  const torch::Tensor users = torch::tensor({2, 0}, torch::kLong), items = torch::tensor({1, 3}, torch::kLong);
  NegativeSampler sampler(5, kSeed), replica(5, kSeed);
  std::vector<int64_t> uniform(2);
  replica.sample(nullptr, 2, 1, false, uniform.data());
  torch::NoGradGuard no_grad;
  const torch::Tensor columns = torch::cat({items, torch::tensor(uniform, torch::kLong)});  // [4]
  const torch::Tensor s = model->user_embeddings(users).matmul(model->item_embeddings(columns).t());  // [2, 4]
  const float lu = static_cast<float>(std::log(2.0 / 5));
  const torch::Tensor log_q = torch::tensor({0.0f, 0.0f, lu, lu});
  Objective objective(c, {1, 3}, 5, torch::kCPU);
  EXPECT_NEAR(objective.loss(model, sampler, users, items).item<double>(), softmax_by_hand(s / 0.5 - log_q), 1e-5);
}

}  // namespace
}  // namespace twotower
