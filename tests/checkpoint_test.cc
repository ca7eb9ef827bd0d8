#include "twotower/train/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/model/two_tower.h"

namespace twotower {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

// A checkpoint restores parameters, optimizer moments, counters and strings exactly.
TEST(Checkpoint, RoundTrip) {
  TempDir dir;
  ModelConfig mc;
  mc.embedding_dim = 4;
  mc.user_mlp_hidden = mc.item_mlp_hidden = {8};
  mc.dropout = 0;  // the steps below must not draw dropout masks
  ModelSizes sizes{3, 5, 1, 1, 6};
  torch::manual_seed(1);
  TwoTowerModel a(mc, sizes);
  torch::optim::Adam opt_a(a->parameters(), torch::optim::AdamOptions(0.1));
  torch::Tensor loss = a->pair_scores(torch::tensor({0, 1}, torch::kLong), torch::tensor({2, 3}, torch::kLong)).sum();
  loss.backward();
  opt_a.step();
  TrainState state;
  state.epoch = 3;
  state.step = 17;
  state.scheduler_step = 3;
  state.best_epoch = 2;
  state.best_value = 0.25;
  state.config_yaml = "data: {}\n";
  state.history_json = "[1,2]";
  state.sampler_state = "42 43";
  capture_rng_state(state);
  save_checkpoint(dir / "c.pt", a, opt_a, state);
  EXPECT_FALSE(fs::exists(dir / "c.pt.tmp"));

  torch::manual_seed(2);
  TwoTowerModel b(mc, sizes);
  torch::optim::Adam opt_b(b->parameters(), torch::optim::AdamOptions(0.1));
  TrainState back = load_checkpoint(dir / "c.pt", b, &opt_b);
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  EXPECT_EQ(back.epoch, 3);
  EXPECT_EQ(back.step, 17);
  EXPECT_EQ(back.best_epoch, 2);
  EXPECT_DOUBLE_EQ(back.best_value, 0.25);
  EXPECT_EQ(back.config_yaml, state.config_yaml);
  EXPECT_EQ(back.history_json, "[1,2]");
  EXPECT_EQ(back.sampler_state, "42 43");
  EXPECT_TRUE(torch::equal(back.cpu_rng_state, state.cpu_rng_state));
  // Equal optimizer state: one more identical step keeps the parameters identical.
  opt_a.zero_grad();
  opt_b.zero_grad();
  for (auto* pair : {&a, &b}) {
    auto& m = *pair;
    m->pair_scores(torch::tensor({0, 1}, torch::kLong), torch::tensor({2, 3}, torch::kLong)).sum().backward();
  }
  opt_a.step();
  opt_b.step();
  pb = b->named_parameters();
  for (const auto& p : a->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  EXPECT_THROW(load_checkpoint(dir / "missing.pt", b, nullptr), Error);
}

}  // namespace
}  // namespace twotower
