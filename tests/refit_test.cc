// training.refit (train/refit.h), training.batch_size 0 (train/batch_size.h) and a run of the
// attention user tower through the trainer.
#include "twotower/train/refit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/data/npy.h"
#include "twotower/train/batch_size.h"
#include "twotower/train/checkpoint.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// The sequence model of configs/best.yaml, shrunk to the grouped data set.
Config sequence_config(const fs::path& data, const fs::path& out) {
  Config c = testing::tiny_config(data, out);
  c.model.user_mlp_hidden = c.model.item_mlp_hidden = {};
  c.model.output_layer = c.model.last_layer_activation = false;
  c.model.use_category = c.model.use_brand = c.model.use_text = false;
  c.model.embedding_init_std = 0.1;
  c.model.user_history = 6;
  c.model.user_history_mode = UserHistoryMode::kBefore;
  c.model.user_history_pooling = HistoryPooling::kAttention;
  c.model.use_user_id = false;
  c.training.loss = LossKind::kFull;
  c.training.scheduler = SchedulerKind::kNone;
  c.training.learning_rate = 0.01;
  c.training.num_epochs = 6;
  return c;
}

// The grouped data's tiny config with refit on: at most 6 epochs, patience 2, selected by `metric`.
Config refit_config(const fs::path& dir, const std::string& metric) {
  Config c = testing::tiny_config(dir / "data", dir / "run");
  c.training.refit = true;
  c.training.num_epochs = 6;
  c.training.best_metric = metric;
  c.training.early_stopping_patience = 2;
  return c;
}

// A metrics hook that gives `metric` 0.1, 0.3, 0.4, 0.2, 0.25, 0.9 at epochs 1 to 6 (so the
// selection keeps epoch 3 and stops after 5 with patience 2), counting its calls in `calls`.
MetricsHook scripted_metric(const std::string& metric, int64_t& calls) {
  return [metric, &calls](const EpochEmbeddings& e) {
    ++calls;
    const double by_epoch[] = {0.1, 0.3, 0.4, 0.2, 0.25, 0.9};
    return std::map<std::string, double>{{metric, by_epoch[e.epoch - 1]}};
  };
}

TEST(AutoBatchSize, NearestPowerOfTwoOfPairsOver256) {
  EXPECT_EQ(auto_batch_size(0), 64);
  EXPECT_EQ(auto_batch_size(2000), 64);      // Gift Cards' size: 2000 / 256 = 8
  EXPECT_EQ(auto_batch_size(54000), 256);    // 211 -> 256
  EXPECT_EQ(auto_batch_size(40000), 128);    // 156 -> 128 (log2 7.29)
  EXPECT_EQ(auto_batch_size(339172), 1024);  // Games: 1325, capped
}

// The attention tower trains by histories: the loss falls, the history's prefixes give 144
// pairs an epoch (24 users x 6), the run resumes bit for bit and the exported users read the
// train + valid history.
TEST(SequenceTraining, LearnsAndResumesExactly) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config whole = sequence_config(dir / "data", dir / "whole");
  TrainSummary s = train(whole);
  ASSERT_EQ(s.history.size(), 6u);
  EXPECT_LT(s.history[5]["train_loss"].get<double>(), s.history[0]["train_loss"].get<double>() - 0.1) << s.history.dump();
  EXPECT_EQ(s.history[0]["steps"].get<int64_t>(), 12);  // histories of 6 pairs, two to a batch of 16
  Config half = sequence_config(dir / "data", dir / "half");
  half.training.num_epochs = 3;
  train(half);
  half.training.num_epochs = 6;
  TrainOptions resume;
  resume.resume = true;
  train(half, resume);
  const Matrix a = read_npy(dir / "whole" / "user_embeddings.npy"), b = read_npy(dir / "half" / "user_embeddings.npy");
  ASSERT_EQ(a.rows, 24);
  EXPECT_EQ(a.data, b.data);
}

// Refit: the selection run picks the best epoch on validation and the final run trains that
// many epochs on train + valid into the output folder, keeping its last.
TEST(Refit, SelectsEpochsThenTrainsOnTrainAndValid) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = refit_config(dir.path(), "fake@10");
  TrainOptions options;
  int64_t hook_calls = 0;
  options.metrics = scripted_metric("fake@10", hook_calls);
  TrainSummary s = train(c, options);
  EXPECT_EQ(hook_calls, 5);  // the selection stops after epoch 5; the final run has no hook
  const nlohmann::json record = read_json(dir / "run" / "refit.json");
  EXPECT_EQ(record["selected_epochs"].get<int64_t>(), 3);
  EXPECT_DOUBLE_EQ(record["best_value"].get<double>(), 0.4);
  EXPECT_EQ(s.epochs_done, 3);
  EXPECT_EQ(s.best_epoch, 3);
  const Config final_config = load_config(dir / "run" / "config.yaml");
  EXPECT_FALSE(final_config.training.refit);
  EXPECT_EQ(final_config.data.train_splits, (std::vector<std::string>{"train", "valid"}));
  EXPECT_EQ(final_config.training.best_metric, "last");
  EXPECT_EQ(final_config.training.num_epochs, 3);
  // 24 users x 7 train + valid pairs, batches of 16: 11 steps an epoch (the selection: 9).
  EXPECT_EQ(s.history[0]["steps"].get<int64_t>(), 11);
  // No validation loss where the validation split is trained on.
  EXPECT_TRUE(s.history[0]["val_loss"].is_null() || std::isnan(s.history[0]["val_loss"].get<double>()));
  EXPECT_EQ(read_json(dir / "run" / "selection" / "history.json")["epochs"][0]["steps"].get<int64_t>(), 9);
  for (const char* f : {"user_embeddings.npy", "item_embeddings.npy", "checkpoints/last.pt", "selection/checkpoints/best.pt"}) {
    EXPECT_TRUE(fs::exists(dir / "run" / f)) << f;
  }
  // A resume after both finished reruns neither: the record gives the epochs, the final run is whole.
  TrainOptions again = options;
  again.resume = true;
  hook_calls = 0;
  TrainSummary resumed = train(c, again);
  EXPECT_EQ(hook_calls, 0);
  EXPECT_EQ(resumed.epochs_done, 3);
}

// refit_mode continue: the selection's final state (epoch 5 here, where patience stops it)
// trains refit_epochs more epochs on train + valid, with its optimizer state, instead of a fresh
// model for the selected 3.
TEST(Refit, ContinueTrainsTheSelectionsFinalState) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = refit_config(dir.path(), "recall@10");  // a real name: the continued run reads it back
  c.training.refit_mode = RefitMode::kContinue;
  c.training.refit_epochs = 2;
  TrainOptions options;
  int64_t hook_calls = 0;
  options.metrics = scripted_metric("recall@10", hook_calls);
  TrainSummary s = train(c, options);
  EXPECT_EQ(hook_calls, 5);
  const nlohmann::json record = read_json(dir / "run" / "refit.json");
  EXPECT_EQ(record["selected_epochs"].get<int64_t>(), 3);
  EXPECT_EQ(record["refit_mode"], "continue");
  EXPECT_EQ(s.epochs_done, 2);
  ASSERT_EQ(s.history.size(), 2u);
  EXPECT_EQ(s.history[0]["steps"].get<int64_t>(), 11);  // train + valid pairs, as a fresh refit's
  const Config final_config = load_config(dir / "run" / "config.yaml");
  EXPECT_EQ(final_config.training.num_epochs, 2);
  EXPECT_EQ(fs::path(final_config.training.init_from).filename(), "selection");
  EXPECT_EQ(final_config.data.train_splits, (std::vector<std::string>{"train", "valid"}));
  const nlohmann::json continued = read_json(dir / "run" / "init_from.json");
  EXPECT_EQ(continued["run_epochs"].get<int64_t>(), 5);  // the selection's last epoch, not its best
  EXPECT_EQ(continued["new_item_ranks"]["skipped"], "no new items");
  // The final model moved on from the selection's last state.
  const Matrix selection = read_npy(dir / "run" / "selection" / "item_embeddings.npy");
  const Matrix final_items = read_npy(dir / "run" / "item_embeddings.npy");
  EXPECT_NE(selection.data, final_items.data);
  TrainOptions again = options;
  again.resume = true;
  hook_calls = 0;
  EXPECT_EQ(train(c, again).epochs_done, 2);
  EXPECT_EQ(hook_calls, 0);
}

TEST(Refit, ConfigErrors) {
  testing::expect_error([] { parse_config("data: {data_path: d}\ntraining: {refit: true, best_metric: train_loss}\n", "c.yaml"); },
                        "training.best_metric");
  testing::expect_error(
      [] { parse_config("data: {data_path: d, train_splits: [train, valid]}\ntraining: {refit: true}\n", "c.yaml"); },
      "data.train_splits");
  testing::expect_error(
      [] { parse_config("data: {data_path: d}\nmodel: {user_history_pooling: attention, user_history: 5}\n", "c.yaml"); },
      "model.user_history_mode");
  testing::expect_error([] {
    parse_config("data: {data_path: d}\nmodel: {user_history_pooling: attention, user_history: 5, user_history_mode: before}\n"
                 "training: {loss: bce}\n", "c.yaml");
  }, "training.loss");
  testing::expect_error([] {
    parse_config("data: {data_path: d}\nmodel: {user_history_pooling: attention, user_history: 5, user_history_mode: before,"
                 " embedding_dim: 10, attention_heads: 3}\ntraining: {loss: full}\n", "c.yaml");
  }, "model.attention_heads");
  testing::expect_error([] { parse_config("data: {data_path: d}\nmodel: {use_user_id: false}\n", "c.yaml"); },
                        "model.use_user_id");
}

}  // namespace
}  // namespace twotower
