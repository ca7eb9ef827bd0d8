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

// A checkpoint of another model or data set (LibTorch's load would resize the towers to it) and
// one whose counters or generator state a resume cannot use are refused, naming the file and what
// differs. The files here have no sidecar (as a user's own file), so LibTorch reads them.
TEST(Checkpoint, AnotherModelOrBadCountersAreRefused) {
  TempDir dir;
  ModelConfig mc;
  mc.embedding_dim = 4;
  mc.user_mlp_hidden = mc.item_mlp_hidden = {8};
  TwoTowerModel small(mc, ModelSizes{3, 5, 1, 1, 6});
  TrainState state;
  state.epoch = 2;
  state.best_epoch = 1;
  save_model_checkpoint(dir / "small.pt", small, state);
  fs::remove(dir / "small.pt.crc32");
  TwoTowerModel more_items(mc, ModelSizes{3, 7, 1, 1, 6});
  testing::expect_error([&] { load_checkpoint(dir / "small.pt", more_items, nullptr); },
                        "small.pt: tensor \"item_tower.embedding.weight\": got [5, 4] Float, expected [7, 4] Float");
  TwoTowerModel same(mc, ModelSizes{3, 5, 1, 1, 6});
  EXPECT_EQ(load_checkpoint(dir / "small.pt", same, nullptr).best_epoch, 1);

  state.best_epoch = 3;  // an epoch not yet run
  save_model_checkpoint(dir / "counters.pt", small, state);
  testing::expect_error([&] { load_checkpoint(dir / "counters.pt", same, nullptr); },
                        "counters.pt: counters got epoch 2, step 0, scheduler_step 0, best_epoch 3");
  state.best_epoch = 1;
  state.cpu_rng_state = torch::zeros({7}, torch::kUInt8);
  save_model_checkpoint(dir / "rng.pt", small, state);
  testing::expect_error([&] { load_checkpoint(dir / "rng.pt", same, nullptr); }, "rng.pt: cannot read the checkpoint");
}

// checkpoint_fuzz's first find (tests/fixtures/checkpoint_fuzz_mangled_type.pt: a checkpoint of
// its model with one byte of the archive's code changed, so that it names a type it does not
// hold): LibTorch throws its own torch::jit::ErrorReport, which ended the process; now an Error
// naming the file.
TEST(Checkpoint, MangledTypeNameIsAnErrorNamingTheFile) {
  ModelConfig mc;  // checkpoint_fuzz's model
  mc.embedding_dim = 4;
  mc.user_mlp_hidden = mc.item_mlp_hidden = {8};
  mc.dropout = 0;
  TwoTowerModel model(mc, ModelSizes{3, 5, 2, 2, 6});
  const fs::path file = testing::source_dir() / "tests" / "fixtures" / "checkpoint_fuzz_mangled_type.pt";
  testing::expect_error([&] { load_checkpoint(file, model, nullptr); },
                        "checkpoint_fuzz_mangled_type.pt: cannot read the checkpoint (");
}

}  // namespace
}  // namespace twotower
