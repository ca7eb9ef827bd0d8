// The attention user tower (model/sequence_encoder.h) and the training by histories it uses:
// every prefix in one pass equals one history at a time, and the batches of histories hold the
// pairs and histories that pair batches hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <vector>

#include "test_util.h"
#include "twotower/data/dataset.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/loss.h"
#include "twotower/train/negative_sampler.h"
#include "twotower/train/objective.h"
#include "twotower/train/training_pairs.h"

namespace twotower {
namespace {

Config sequence_config(HistoryPooling pooling) {
  Config c;
  c.model.embedding_dim = 8;
  c.model.user_mlp_hidden = c.model.item_mlp_hidden = {};
  c.model.output_layer = false;
  c.model.last_layer_activation = false;
  c.model.use_category = c.model.use_brand = c.model.use_text = false;
  c.model.user_history = 4;
  c.model.user_history_mode = UserHistoryMode::kBefore;
  c.model.user_history_pooling = pooling;
  c.model.attention_heads = 2;
  c.training.loss = LossKind::kSoftmax;
  c.training.temperature = 0.5;
  return c;
}

TwoTowerModel sequence_model(const Config& c) {
  torch::manual_seed(3);
  TwoTowerModel model(c.model, ModelSizes{3, 9, 1, 1, 4});
  model->eval();
  return model;
}

class PrefixTest : public ::testing::TestWithParam<HistoryPooling> {};

// One pass over S histories gives, at prefix p, the vector user_embeddings gives the first p
// items alone (p = 0: no history), for the attention and the mean pooling alike.
TEST_P(PrefixTest, EveryPrefixEqualsThatHistoryAlone) {
  Config c = sequence_config(GetParam());
  TwoTowerModel model = sequence_model(c);
  torch::NoGradGuard no_grad;
  const torch::Tensor users = torch::tensor({2, 0}, torch::kLong);
  const torch::Tensor history = torch::tensor({{5, 1, 7, 3}, {4, 8, -1, -1}}, torch::kLong);
  const torch::Tensor where = torch::arange(10, torch::kLong);  // every prefix of both
  const torch::Tensor all = model->prefix_user_embeddings(users, history, where);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{10, 8}));
  for (int64_t s = 0; s < 2; ++s) {
    for (int64_t p = 0; p <= 2 + 2 * (1 - s); ++p) {
      torch::Tensor prefix = torch::full({1, 4}, -1, torch::kLong);
      prefix.slice(1, 0, p).copy_(history.slice(0, s, s + 1).slice(1, 0, p));
      const torch::Tensor one = model->user_embeddings(users.slice(0, s, s + 1), {}, prefix);
      EXPECT_TRUE(torch::allclose(all[s * 5 + p], one[0], 1e-5, 1e-6)) << "history " << s << ", prefix " << p;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Pooling, PrefixTest, ::testing::Values(HistoryPooling::kMean, HistoryPooling::kAttention));

// Position p reads positions <= p only: items after it change nothing there; padding may sit
// anywhere in a served history (it is moved after the items).
TEST(AttentionPooling, CausalAndPaddingAnywhere) {
  TwoTowerModel model = sequence_model(sequence_config(HistoryPooling::kAttention));
  torch::NoGradGuard no_grad;
  const torch::Tensor users = torch::tensor({1, 1}, torch::kLong);
  const torch::Tensor a = model->prefix_user_embeddings(users, torch::tensor({{5, 1, 7, 3}, {5, 1, 2, 6}}), torch::tensor({2, 7}));
  EXPECT_TRUE(torch::allclose(a[0], a[1], 1e-6, 1e-6));
  const torch::Tensor b = model->user_embeddings(users, {}, torch::tensor({{-1, 5, -1, 1}, {5, 1, -1, -1}}));
  EXPECT_TRUE(torch::allclose(b[0], b[1], 1e-6, 1e-6));
  // Different histories give different users.
  const torch::Tensor c = model->user_embeddings(users, {}, torch::tensor({{1, 5, -1, -1}, {5, 1, -1, -1}}));
  EXPECT_GT((c[0] - c[1]).abs().max().item<double>(), 1e-4);
  // A new user with an empty history reads the start token: the same vector as a known user's
  // empty prefix when the tower has no user ids.
  Config no_ids = sequence_config(HistoryPooling::kAttention);
  no_ids.model.use_user_id = false;
  TwoTowerModel anonymous = sequence_model(no_ids);
  EXPECT_TRUE(torch::allclose(anonymous->new_user_embeddings(torch::full({1, 4}, -1, torch::kLong))[0],
                              anonymous->prefix_user_embeddings(torch::tensor({0}), torch::tensor({{3, 4}}),
                                                                torch::tensor({0}))[0],
                              1e-6, 1e-6));
  EXPECT_FALSE(anonymous->user_tower->embedding);
}

// Interactions of users with 1, 3 and 7 items (N = 4), one tie in time.
Dataset three_users() {
  Dataset d;
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> rows = {
      {0, 3, 10}, {1, 2, 5}, {1, 4, 1}, {1, 6, 9}, {2, 1, 1}, {2, 2, 2}, {2, 3, 3},
      {2, 5, 3},  {2, 6, 4}, {2, 7, 5}, {2, 8, 6}};
  for (const auto& [u, i, t] : rows) {
    d.interactions.user.push_back(u);
    d.interactions.item.push_back(i);
    d.interactions.rating.push_back(1.0f);
    d.interactions.timestamp.push_back(t);
    d.interactions.split.push_back(Split::kTrain);
  }
  d.user_ids = {"a", "b", "c"};
  for (int i = 0; i < 9; ++i) d.item_ids.push_back(std::to_string(i));
  return d;
}

// The (user, item, history) of every training pair: from the pair columns of mean pooling, or
// from the targets of the histories of attention pooling.
using PairKey = std::tuple<int64_t, int64_t, std::vector<int64_t>>;

std::vector<PairKey> pair_keys(const PairColumns& p) {
  std::vector<PairKey> out;
  for (int64_t j = 0; j < p.size(); ++j) {
    std::vector<int64_t> h;
    for (int64_t k = 0; k < p.history.size(1); ++k) {
      if (p.history[j][k].item<int64_t>() >= 0) h.push_back(p.history[j][k].item<int64_t>());
    }
    out.emplace_back(p.users[j].item<int64_t>(), p.items[j].item<int64_t>(), h);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<PairKey> sequence_keys(const SequenceColumns& s) {
  std::vector<PairKey> out;
  for (int64_t r = 0; r < s.size(); ++r) {
    int64_t count = 0;
    for (int64_t p = 0; p < s.targets.size(1); ++p) {
      const int64_t item = s.targets[r][p].item<int64_t>();
      if (item < 0) continue;
      ++count;
      std::vector<int64_t> h;
      for (int64_t k = 0; k < p; ++k) h.push_back(s.history[r][k].item<int64_t>());
      out.emplace_back(s.users[r].item<int64_t>(), item, h);
    }
    EXPECT_EQ(count, s.counts[r].item<int64_t>()) << "row " << r;
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(TrainingSequences, EveryPairOnceAfterItsHistory) {
  const Dataset d = three_users();
  std::vector<int64_t> rows(d.interactions.size());
  for (size_t k = 0; k < rows.size(); ++k) rows[k] = static_cast<int64_t>(k);
  const PairColumns mean = training_pairs(d, sequence_config(HistoryPooling::kMean), rows);
  const PairColumns attention = training_pairs(d, sequence_config(HistoryPooling::kAttention), rows);
  EXPECT_FALSE(attention.history.defined());
  // User 2's 7 items: one row for the first 5 targets, one each for the last 2.
  EXPECT_EQ(attention.sequences.size(), 1 + 1 + 3);
  EXPECT_EQ(attention.sequences.counts.sum().item<int64_t>(), 11);
  EXPECT_EQ(sequence_keys(attention.sequences), pair_keys(mean));
}

// The loss of a batch of histories equals the loss of the same pairs, each with its history,
// for the in-batch and the full softmax.
TEST(TrainingSequences, HistoryBatchLossEqualsPairBatchLoss) {
  const Dataset d = three_users();
  std::vector<int64_t> rows(d.interactions.size());
  for (size_t k = 0; k < rows.size(); ++k) rows[k] = static_cast<int64_t>(k);
  for (LossKind loss : {LossKind::kSoftmax, LossKind::kFull}) {
    Config c = sequence_config(HistoryPooling::kAttention);
    c.training.loss = loss;
    c.model.attention_dropout = 0.0;
    TwoTowerModel model = sequence_model(c);
    const SequenceColumns s = training_pairs(d, c, rows).sequences;
    PrefixBatch batch{s.users, s.history, {}, {0}};
    std::vector<int64_t> users, items, where;
    std::vector<int64_t> history;
    for (int64_t r = 0; r < s.size(); ++r) {
      for (int64_t p = 0; p <= 4; ++p) {
        const int64_t item = s.targets[r][p].item<int64_t>();
        if (item < 0) continue;
        users.push_back(s.users[r].item<int64_t>());
        items.push_back(item);
        where.push_back(r * 5 + p);
        for (int64_t k = 0; k < 4; ++k) history.push_back(k < p ? s.history[r][k].item<int64_t>() : -1);
      }
      batch.first.push_back(static_cast<int64_t>(users.size()));
    }
    batch.where = torch::tensor(where);
    const auto m = static_cast<int64_t>(users.size());
    NegativeSampler sampler(9, 1);
    Objective objective(c, items, 9, torch::kCPU);
    torch::NoGradGuard no_grad;
    const double by_history = objective.loss(model, sampler, torch::tensor(users), torch::tensor(items), {}, &batch).item<double>();
    const double by_pair = objective.loss(model, sampler, torch::tensor(users), torch::tensor(items),
                                          torch::tensor(history).view({m, 4})).item<double>();
    EXPECT_NEAR(by_history, by_pair, 1e-5) << to_string(loss);
    EXPECT_GT(by_history, 0.1);
  }
}

// The blocked loss of users @ items^T (150 rows: three blocks, the last partial) equals the
// composed one, computed in double, in value and in both gradients: for unit vectors (logits
// within 1 / T, taken unshifted) and for long ones (logits up to about 100, each row's maximum
// subtracted). Float rounding of logits near 100 leaves errors of about 1e-6 in either loss.
TEST(Loss, BlockedFullSoftmaxEqualsComposed) {
  for (const double length : {1.0, 4.0}) {
    torch::manual_seed(5);
    const torch::Tensor users = torch::nn::functional::normalize(torch::randn({150, 8})) * length;
    const torch::Tensor items = torch::nn::functional::normalize(torch::randn({40, 8})) * length;
    const torch::Tensor targets = torch::randint(0, 40, {150}, torch::kLong);
    torch::Tensor u1 = users.clone().requires_grad_(true), i1 = items.clone().requires_grad_(true);
    torch::Tensor u2 = users.to(torch::kDouble).requires_grad_(true), i2 = items.to(torch::kDouble).requires_grad_(true);
    torch::Tensor blocked = full_softmax_loss_of(u1, i1, targets, 0.15);
    torch::Tensor composed = torch::nn::functional::cross_entropy(torch::mm(u2, i2.t()) / 0.15, targets);
    (blocked * 3).backward();
    (composed * 3).backward();
    EXPECT_NEAR(blocked.item<double>(), composed.item<double>(), 1e-5) << length;
    const double user_error = (u1.grad().to(torch::kDouble) - u2.grad()).abs().max().item<double>();
    const double item_error = (i1.grad().to(torch::kDouble) - i2.grad()).abs().max().item<double>();
    EXPECT_LT(user_error, 1e-5) << length << ", largest gradient " << u2.grad().abs().max().item<double>();
    EXPECT_LT(item_error, 1e-5) << length << ", largest gradient " << i2.grad().abs().max().item<double>();
  }
}

}  // namespace
}  // namespace twotower
