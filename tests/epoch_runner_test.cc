#include "twotower/train/epoch_runner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "train_test_util.h"
#include "twotower/common/error.h"
#include "twotower/config/config.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/data_parallel.h"
#include "twotower/train/negative_sampler.h"
#include "twotower/train/objective.h"
#include "twotower/train/optim/optimizers.h"

namespace twotower {
namespace {

// 6 users, 9 items, 50 pairs in batches of 8 (the last one of 2), clipping on: what a device run
// does differently (losses read back in groups) can be run on the CPU and compared.
Config small_config() {
  Config c;
  c.model.embedding_dim = 4;
  c.model.user_mlp_hidden = c.model.item_mlp_hidden = {8};
  c.model.dropout = 0.0;
  c.data.neg_ratio = 2;
  c.training.loss = LossKind::kBce;
  c.training.batch_size = 8;
  c.training.clip_grad_norm = 0.5;
  c.training.learning_rate = 0.05;
  return c;
}

PairColumns small_pairs() {
  torch::manual_seed(3);
  PairColumns p;
  p.users = torch::randint(0, 6, {50}, torch::kLong);
  p.items = torch::randint(0, 9, {50}, torch::kLong);
  return p;
}

struct Trained {
  double loss = 0;
  std::vector<torch::Tensor> parameters;
};

// The same users as histories for attention pooling (history of 3, softmax): users 0-4 hold 4
// items each (one row of 4 targets), user 5 holds 2 (targets 2, the rest padding).
Config attention_config() {
  Config c = small_config();
  testing::use_attention_pooling(c, 3);
  c.training.loss = LossKind::kSoftmax;
  return c;
}

PairColumns history_pairs() {
  torch::manual_seed(4);
  const torch::Tensor items = torch::randint(0, 9, {6, 4}, torch::kLong);
  items[5].slice(0, 2).fill_(-1);
  PairColumns p;
  SequenceColumns& s = p.sequences;
  s.users = torch::arange(6, torch::kLong);
  s.targets = items;
  s.history = items.slice(1, 0, 3).clone();
  s.history[5][1] = -1;  // a history holds the targets but the last
  s.counts = (items >= 0).sum(1);
  const torch::Tensor real = items >= 0;
  p.items = items.masked_select(real);
  p.users = s.users.unsqueeze(1).expand({6, 4}).masked_select(real);
  return p;
}

// One epoch from a fixed start with losses read back every `readback` steps; `between` runs after
// each step with the model and the step's number (1-based).
Trained train_epoch(int64_t readback, const std::function<void(TwoTowerModel&, int64_t)>& between = {},
                    const Config& c = small_config(), const PairColumns& pairs = small_pairs(), int64_t batches = 7) {
  torch::manual_seed(0);
  TwoTowerModel model(c.model, ModelSizes{6, 9, 2, 3, 6});
  Optimizers optimizers = make_optimizers(model, c.training);
  NegativeSampler sampler(9, 7);
  DataParallel one_process;
  std::vector<int64_t> items(pairs.items.data_ptr<int64_t>(), pairs.items.data_ptr<int64_t>() + pairs.size());
  Objective objective(c, items, 9, torch::kCPU);
  int64_t step = 0;
  EpochRunner runner(model, optimizers, sampler, objective, c, one_process, [&] {
    ++step;
    if (between) between(model, step);
  });
  runner.set_readback_steps(readback);
  int64_t steps = 0, scored = 0;
  Trained out;
  out.loss = runner.run(pairs, 1, steps, scored);
  EXPECT_EQ(steps, batches);
  for (const auto& p : model->parameters()) out.parameters.push_back(p.detach().clone());
  return out;
}

TEST(EpochRunner, ReadingLossesBackInGroupsChangesNothing) {
  const Trained each = train_epoch(1);
  ASSERT_TRUE(std::isfinite(each.loss));
  for (int64_t readback : {3, 32}) {  // a group cut by the epoch's end; one group for the epoch
    const Trained grouped = train_epoch(readback);
    EXPECT_EQ(grouped.loss, each.loss) << "read back every " << readback;
    ASSERT_EQ(grouped.parameters.size(), each.parameters.size());
    for (size_t j = 0; j < each.parameters.size(); ++j) {
      EXPECT_TRUE(torch::equal(grouped.parameters[j], each.parameters[j])) << "parameter " << j << ", read back every " << readback;
    }
  }
}

// So with batches of histories (attention pooling), whose columns are checked once when read
// back in groups (a device run's id checks per batch would each wait for the device).
TEST(EpochRunner, BatchesOfHistoriesReadBackInGroupsChangeNothing) {
  const auto checks_on = [](bool expected) {
    return [expected](TwoTowerModel& model, int64_t step) { EXPECT_EQ(model->id_checks(), expected) << "step " << step; };
  };
  const Config c = attention_config();
  const PairColumns pairs = history_pairs();
  const int64_t batches = 3;  // 22 pairs in whole histories of at most 8 pairs: 4 + 4 a batch
  const Trained each = train_epoch(1, checks_on(true), c, pairs, batches);
  ASSERT_TRUE(std::isfinite(each.loss));
  const Trained grouped = train_epoch(32, checks_on(false), c, pairs, batches);
  EXPECT_EQ(grouped.loss, each.loss);
  ASSERT_EQ(grouped.parameters.size(), each.parameters.size());
  for (size_t j = 0; j < each.parameters.size(); ++j) {
    EXPECT_TRUE(torch::equal(grouped.parameters[j], each.parameters[j])) << "parameter " << j;
  }
}

// The item tower's first layer turned NaN after step 2 makes step 3's loss NaN: read back each
// step, the run stops there before updating from it; read back every 4 steps, at step 4, naming
// step 3 and the steps that updated the model from it.
TEST(EpochRunner, ANonFiniteLossStopsTheEpochAtItsReadBack) {
  const auto poison = [](TwoTowerModel& model, int64_t step) {
    if (step != 2) return;
    torch::NoGradGuard no_grad;
    model->item_tower->mlp->parameters().front().fill_(NAN);
  };
  for (int64_t readback : {1, 4}) {
    try {
      train_epoch(readback, poison);
      ADD_FAILURE() << "read back every " << readback << ": a NaN loss trained on";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("at epoch 1, step 3 of 7"), std::string::npos) << what;
      const char* told = readback == 1 ? "no update was made from it" : "so steps 3 to 4 updated the model";
      EXPECT_NE(what.find(told), std::string::npos) << what;
    }
  }
}

TEST(EpochRunner, RefusesAReadBackOfNoSteps) {
  const Config c = small_config();
  TwoTowerModel model(c.model, ModelSizes{6, 9, 2, 3, 6});
  Optimizers optimizers = make_optimizers(model, c.training);
  NegativeSampler sampler(9, 7);
  DataParallel one_process;
  Objective objective(c, {0}, 9, torch::kCPU);
  EpochRunner runner(model, optimizers, sampler, objective, c, one_process);
  EXPECT_THROW(runner.set_readback_steps(0), Error);
}

}  // namespace
}  // namespace twotower
