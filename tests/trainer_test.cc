#include "twotower/train/trainer.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include <cmath>
#include <fstream>
#include <iostream>
#include <set>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/parquet_io.h"
#include "twotower/model/linear.h"
#include "twotower/train/checkpoint.h"
#include "twotower/train/validation_metrics.h"

namespace twotower {
namespace {

using testing::grouped_dataset;
using testing::prepare_generated;
using testing::TempDir;
using testing::tiny_config;
namespace fs = std::filesystem;

// A run writes every output, and the loss falls on data with a learnable structure.
TEST(Trainer, WritesOutputsAndLearns) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = tiny_config(dir / "data", dir / "run");
  c.training.num_epochs = 8;
  c.training.scheduler = SchedulerKind::kNone;
  c.training.learning_rate = 0.03;
  c.training.logit_scale = 5;
  c.model.dropout = 0;
  c.model.embedding_init_std = 0.1;
  TrainSummary s = run_training(c);
  for (const char* f : {"config.yaml", "train.log", "history.json", "training_history.png", "checkpoints/last.pt",
                        "checkpoints/best.pt", "user_embeddings.npy", "item_embeddings.npy"}) {
    EXPECT_TRUE(fs::exists(dir / "run" / f)) << f;
  }
  EXPECT_EQ(s.epochs_done, 8);
  ASSERT_EQ(s.history.size(), 8u);
  double first = s.history[0]["train_loss"], last = s.history[7]["train_loss"];
  EXPECT_LT(last, first - 0.1) << s.history.dump();
  Matrix users = read_npy(dir / "run" / "user_embeddings.npy");
  Matrix items = read_npy(dir / "run" / "item_embeddings.npy");
  EXPECT_EQ(users.rows, 24);
  EXPECT_EQ(users.cols, 8);
  EXPECT_EQ(items.rows, 16);
  // The resolved config reads back as the one that ran, with the data path made absolute.
  Config saved = load_config(dir / "run" / "config.yaml");
  EXPECT_TRUE(fs::path(saved.data.data_path).is_absolute());
  EXPECT_EQ(fs::canonical(saved.data.data_path), fs::canonical(dir / "data"));
  saved.data.data_path = c.data.data_path;
  EXPECT_EQ(config_to_yaml(saved), config_to_yaml(c));
  // Each (epoch, pairs/s) record is present: 144 training positives * 3 pairs per epoch.
  EXPECT_GT(s.history[0]["pairs_per_s"].get<double>(), 0.0);
  EXPECT_EQ(s.history[0]["steps"].get<int64_t>(), 9);  // ceil(144 / 16)
}

// Two epochs in one run equal one epoch, then --resume for the second, bit for bit.
TEST(Trainer, ResumeIsExact) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config whole = tiny_config(dir / "data", dir / "whole");
  run_training(whole);

  Config half = tiny_config(dir / "data", dir / "half");
  half.training.num_epochs = 1;
  run_training(half);
  half.training.num_epochs = 2;
  TrainOptions resume;
  resume.resume = true;
  TrainSummary s = run_training(half, resume);
  EXPECT_EQ(s.epochs_done, 2);
  ASSERT_EQ(s.history.size(), 2u);

  ModelConfig mc = whole.model;
  ModelSizes sizes{24, 16, 3, 1, 4};
  TwoTowerModel a(mc, sizes), b(mc, sizes);
  TrainState sa = load_checkpoint(dir / "whole" / "checkpoints" / "last.pt", a, nullptr);
  TrainState sb = load_checkpoint(dir / "half" / "checkpoints" / "last.pt", b, nullptr);
  auto pb = b->named_parameters();
  for (const auto& p : a->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
  EXPECT_EQ(sa.step, sb.step);
  EXPECT_EQ(sa.sampler_state, sb.sampler_state);
  EXPECT_TRUE(torch::equal(sa.cpu_rng_state, sb.cpu_rng_state));
  auto ha = nlohmann::json::parse(sa.history_json), hb = nlohmann::json::parse(sb.history_json);
  EXPECT_EQ(ha[1]["train_loss"], hb[1]["train_loss"]);
  EXPECT_EQ(ha[1]["learning_rate"], hb[1]["learning_rate"]);  // StepLR halved it after epoch 1
  EXPECT_DOUBLE_EQ(ha[1]["learning_rate"].get<double>(), 0.005);
}

// The reference for the resume tests: `epochs` epochs in one run into `dir`/whole.
void train_unbroken(const fs::path& dir, int64_t epochs) {
  Config whole = tiny_config(dir / "data", dir / "whole");
  whole.training.num_epochs = epochs;
  run_training(whole);
}

// The after_epoch hook runs after each epoch's checkpoint is written; an exception it throws ends
// the run there, and a resumed run ends as an unbroken one (the Python module's Ctrl-C).
TEST(Trainer, AfterEpochHookThrowingLeavesAResumableRun) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  train_unbroken(dir.path(), 3);

  Config stopped = tiny_config(dir / "data", dir / "stopped");
  stopped.training.num_epochs = 3;
  TrainOptions options;
  std::vector<int64_t> seen;
  options.after_epoch = [&](int64_t epoch) {
    seen.push_back(epoch);
    EXPECT_TRUE(fs::exists(dir / "stopped" / "checkpoints" / "last.pt")) << epoch;
    if (epoch == 2) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(run_training(stopped, options), std::runtime_error);
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(fs::exists(dir / "stopped" / "user_embeddings.npy"));

  options.resume = true;
  seen.clear();
  TrainSummary s = run_training(stopped, options);
  EXPECT_EQ(seen, (std::vector<int64_t>{3}));
  EXPECT_EQ(s.epochs_done, 3);
  for (const char* f : {"user_embeddings.npy", "item_embeddings.npy"}) {
    EXPECT_TRUE(testing::read_file(dir / "stopped" / f) == testing::read_file(dir / "whole" / f)) << f;
  }
}

// Overwrites 64 bytes in the middle of a file (a damaged disk block, a stray write).
void damage_middle(const fs::path& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
  f << std::string(64, 'X');
}

// A last.pt with 64 bytes overwritten is refused by its checksum, naming the file, and --resume
// falls back to the previous epoch's checkpoint (kept as previous.pt), with a warning naming both:
// the continuation still equals an unbroken run bit for bit.
TEST(Trainer, ResumeFallsBackFromADamagedCheckpoint) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  train_unbroken(dir.path(), 3);

  Config broken = tiny_config(dir / "data", dir / "broken");
  broken.training.num_epochs = 2;
  run_training(broken);
  const fs::path last = dir / "broken" / "checkpoints" / "last.pt";
  ASSERT_TRUE(fs::exists(dir / "broken" / "checkpoints" / "previous.pt"));
  damage_middle(last);
  ModelSizes sizes{24, 16, 3, 1, 4};
  TwoTowerModel probe(broken.model, sizes);
  testing::expect_error([&] { load_checkpoint(last, probe, nullptr); }, last.string() + ": checksum mismatch");

  broken.training.num_epochs = 3;
  TrainOptions resume;
  resume.resume = true;
  TrainSummary s = run_training(broken, resume);
  EXPECT_EQ(s.epochs_done, 3);
  const std::string log = testing::read_file(dir / "broken" / "train.log");
  EXPECT_NE(log.find("resuming from the previous checkpoint " + (dir / "broken" / "checkpoints" / "previous.pt").string() +
                     " instead of " + last.string()),
            std::string::npos)
      << log;
  TwoTowerModel a(broken.model, sizes), b(broken.model, sizes);
  load_checkpoint(dir / "whole" / "checkpoints" / "last.pt", a, nullptr);
  load_checkpoint(last, b, nullptr);
  auto pb = b->named_parameters();
  for (const auto& p : a->named_parameters()) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
}

// A loss that stops being finite ends the run at that step with a message; last.pt keeps the last
// good epoch (SGD at a learning rate of 1e30 without clipping overflows the weights).
TEST(Trainer, NonFiniteLossStopsTheRun) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = tiny_config(dir / "data", dir / "run");
  c.training.optimizer = OptimizerKind::kSgd;
  c.training.momentum = 0;
  c.training.learning_rate = 1e30;
  c.training.clip_grad_norm = 0;
  c.training.num_epochs = 3;
  testing::expect_error([&] { run_training(c); }, "training: the loss is ");
  testing::expect_error([&] { run_training(c); }, "checkpoints/last.pt still holds the last good epoch");
}

// With widths and batches large enough for oneDNN's products (the default cpu_matmul), in fp32
// and in bf16, a resumed run still equals an unbroken one bit for bit.
TEST(Trainer, ResumeIsExactWithOneDnnProducts) {
  TempDir dir;
  prepare_generated(dir.path(), 300, 200, 3000);
  std::vector<MatmulPrecision> precisions{MatmulPrecision::kFp32};
  if (onednn_bf16_available()) precisions.push_back(MatmulPrecision::kBf16);
  for (MatmulPrecision precision : precisions) {
    auto config = [&](const char* name, int64_t epochs) {
      Config c = tiny_config(dir / "data", dir / str_cat(to_string(precision), "-", name));
      c.data.emb_dim = 64;
      c.model.embedding_dim = 64;
      c.model.user_mlp_hidden = c.model.item_mlp_hidden = {128};
      c.training.batch_size = 128;
      c.training.num_epochs = epochs;
      c.training.threads = 2;
      c.training.matmul_precision = precision;
      return c;
    };
    run_training(config("whole", 2));
    run_training(config("half", 1));
    TrainOptions resume;
    resume.resume = true;
    run_training(config("half", 2), resume);
    TrainState sa, sb;
    Config whole = config("whole", 2);
    auto read = [&](const char* name, TrainState& state) {
      Dataset d = load_dataset(dir / "data", ItemText::kSkip);
      ModelSizes sizes{d.num_users(), d.num_items(), static_cast<int64_t>(d.items.category_vocab.size()),
                       static_cast<int64_t>(d.items.brand_vocab.size()), 64};
      TwoTowerModel m(whole.model, sizes);
      state = load_checkpoint(dir / str_cat(to_string(precision), "-", name) / "checkpoints" / "last.pt", m, nullptr);
      return m;
    };
    TwoTowerModel a = read("whole", sa), b = read("half", sb);
    auto pb = b->named_parameters();
    for (const auto& q : a->named_parameters()) {
      EXPECT_TRUE(torch::equal(q.value(), pb[q.key()])) << to_string(precision) << " " << q.key();
    }
    auto ha = nlohmann::json::parse(sa.history_json), hb = nlohmann::json::parse(sb.history_json);
    EXPECT_EQ(ha[1]["train_loss"], hb[1]["train_loss"]) << to_string(precision);
  }
}

// With row-wise embedding optimizers (their state in the checkpoint), a shared user tower and
// prefetching, a resumed run still equals an unbroken one bit for bit, and it learns.
TEST(Trainer, ResumeIsExactWithRowWiseEmbeddings) {
  for (EmbeddingOptimizerKind kind : {EmbeddingOptimizerKind::kLazyAdam, EmbeddingOptimizerKind::kAdagrad}) {
    TempDir dir;
    testing::save_grouped_data(dir.path());
    auto config = [&](const char* name) {
      Config c = tiny_config(dir / "data", dir / name);
      c.training.embedding_optimizer = kind;
      c.training.shared_user_tower = true;
      c.training.logit_scale = 5;
      return c;
    };
    TrainSummary whole = run_training(config("whole"));
    Config half = config("half");
    half.training.num_epochs = 1;
    run_training(half);
    half.training.num_epochs = 2;
    TrainOptions resume;
    resume.resume = true;
    run_training(half, resume);

    ModelSizes sizes{24, 16, 3, 1, 4};
    TwoTowerModel a(half.model, sizes), b(half.model, sizes);
    TrainState sa = load_checkpoint(dir / "whole" / "checkpoints" / "last.pt", a, nullptr);
    TrainState sb = load_checkpoint(dir / "half" / "checkpoints" / "last.pt", b, nullptr);
    auto pb = b->named_parameters();
    for (const auto& p : a->named_parameters()) {
      EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << to_string(kind) << " " << p.key();
    }
    auto ha = nlohmann::json::parse(sa.history_json), hb = nlohmann::json::parse(sb.history_json);
    EXPECT_EQ(ha[1]["train_loss"], hb[1]["train_loss"]) << to_string(kind);
    EXPECT_LT(whole.history[1]["train_loss"].get<double>(), whole.history[0]["train_loss"].get<double>())
        << to_string(kind);
  }
}

// The run's exported user_embeddings.npy as a [users, D] tensor.
torch::Tensor exported_users(const fs::path& run) {
  Matrix m = read_npy(run / "user_embeddings.npy");
  return torch::from_blob(m.data.data(), {m.rows, m.cols}, torch::kFloat).clone();
}

// Every user's vector of `model` in eval mode.
torch::Tensor eval_users(TwoTowerModel& model, int64_t users) {
  torch::NoGradGuard no_grad;
  model->eval();
  return model->user_embeddings(torch::arange(users, torch::kLong));
}

// The metrics hook's values enter the history; best epoch and early stopping follow them.
TEST(Trainer, BestEpochAndEarlyStoppingFromHook) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = tiny_config(dir / "data", dir / "run");
  c.training.num_epochs = 6;
  c.training.best_metric = "fake@10";
  c.training.early_stopping_patience = 2;
  TrainOptions options;
  std::set<int64_t> seen_users;
  options.metrics = [&](const EpochEmbeddings& e) {
    seen_users.insert(e.users.rows);
    const double by_epoch[] = {0.1, 0.3, 0.2, 0.25, 0.9, 0.9};
    return std::map<std::string, double>{{"fake@10", by_epoch[e.epoch - 1]}};
  };
  TrainSummary s = run_training(c, options);
  EXPECT_TRUE(s.stopped_early);
  EXPECT_EQ(s.epochs_done, 4);  // epochs 3 and 4 do not beat epoch 2
  EXPECT_EQ(s.best_epoch, 2);
  EXPECT_DOUBLE_EQ(s.best_value, 0.3);
  EXPECT_EQ(seen_users, std::set<int64_t>{24});
  EXPECT_DOUBLE_EQ(s.history[3]["fake@10"].get<double>(), 0.25);
  ModelSizes sizes{24, 16, 3, 1, 4};
  TwoTowerModel best(c.model, sizes);
  EXPECT_EQ(load_checkpoint(dir / "run" / "checkpoints" / "best.pt", best, nullptr).epoch, 2);
  // best.pt holds no optimizer state (a resume reads last.pt): asking it for one is an error.
  torch::optim::Adam adam(best->parameters());
  EXPECT_THROW(load_checkpoint(dir / "run" / "checkpoints" / "best.pt", best, &adam), Error);
  // The exported user vectors are the best epoch's (read back after epoch 4), not the last's.
  TwoTowerModel last(c.model, sizes);
  load_checkpoint(dir / "run" / "checkpoints" / "last.pt", last, nullptr);
  torch::Tensor got = exported_users(dir / "run");
  EXPECT_TRUE(torch::allclose(got, eval_users(best, 24), 1e-6, 1e-6));
  EXPECT_FALSE(torch::allclose(got, eval_users(last, 24), 1e-6, 1e-6));
}

// When the last epoch is the best one, the model in memory is exported as it is (no read of
// best.pt): the vectors equal those of the last checkpoint.
TEST(Trainer, BestIsLastExportsModelInMemory) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = tiny_config(dir / "data", dir / "run");
  c.training.num_epochs = 3;
  c.training.best_metric = "fake@10";
  TrainOptions options;
  options.metrics = [&](const EpochEmbeddings& e) {
    return std::map<std::string, double>{{"fake@10", 0.1 * static_cast<double>(e.epoch)}};
  };
  TrainSummary s = run_training(c, options);
  EXPECT_EQ(s.best_epoch, 3);
  TwoTowerModel last(c.model, ModelSizes{24, 16, 3, 1, 4});
  load_checkpoint(dir / "run" / "checkpoints" / "last.pt", last, nullptr);
  EXPECT_TRUE(torch::allclose(exported_users(dir / "run"), eval_users(last, 24), 1e-6, 1e-6));
}

// SGD with momentum and the cosine schedule: epoch 2 of 2 runs at (0.02 + 0.002) / 2 = 0.011,
// and the embeddings' own rate does not change the dense group's rate that history reports.
TEST(Trainer, SgdCosineAndEmbeddingRate) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = tiny_config(dir / "data", dir / "run");
  c.training.optimizer = OptimizerKind::kSgd;
  c.training.scheduler = SchedulerKind::kCosine;
  c.training.learning_rate = 0.02;
  c.training.min_learning_rate = 0.002;
  c.training.embedding_learning_rate = 0.5;
  c.model.use_text = false;
  TrainSummary s = run_training(c);
  ASSERT_EQ(s.history.size(), 2u);
  EXPECT_DOUBLE_EQ(s.history[0]["learning_rate"].get<double>(), 0.02);
  EXPECT_NEAR(s.history[1]["learning_rate"].get<double>(), 0.011, 1e-12);
  EXPECT_TRUE(std::isfinite(s.history[1]["train_loss"].get<double>()));
}

// Every loss trains with the model options on (the BCE and mixed runs pooling each pair's earlier
// items, BCE through the shared user tower), and the validation hook puts Recall/NDCG@10 in the
// history and selects the best epoch by recall@10.
TEST(Trainer, EveryLossWithOptionsAndValidationMetrics) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  for (LossKind loss : {LossKind::kBce, LossKind::kSoftmax, LossKind::kMixed, LossKind::kBpr}) {
    Config c = tiny_config(dir / "data", dir / to_string(loss));
    c.training.loss = loss;
    c.training.mixed_negatives = 4;
    c.training.learn_logit_scale = loss == LossKind::kBce;
    c.training.best_metric = "recall@10";
    c.model.user_history = 3;
    const bool before = loss == LossKind::kBce || loss == LossKind::kMixed;
    c.model.user_history_mode = before ? UserHistoryMode::kBefore : UserHistoryMode::kLast;
    c.training.shared_user_tower = loss == LossKind::kBce;
    c.model.item_id_dropout = 0.2;
    c.model.user_id_dropout = 0.2;
    c.model.pool_categories = true;
    c.model.use_text = false;
    TrainOptions options;
    options.metrics = make_validation_metrics({10});
    TrainSummary s = run_training(c, options);
    ASSERT_EQ(s.history.size(), 2u) << to_string(loss);
    for (const auto& e : s.history) {
      EXPECT_TRUE(std::isfinite(e["train_loss"].get<double>())) << to_string(loss);
      double recall = e["recall@10"].get<double>();
      EXPECT_GE(recall, 0.0);
      EXPECT_LE(recall, 1.0);
      EXPECT_TRUE(e.contains("ndcg@10"));
      EXPECT_TRUE(e.contains("val_loss"));
    }
    EXPECT_DOUBLE_EQ(s.best_value, s.history[s.best_epoch - 1]["recall@10"].get<double>());
  }
}

// Text embeddings read from a .parquet keyed by raw item id train exactly as the same vectors in a
// .npy in item_idx order.
TEST(Trainer, TextFromParquetEqualsNpy) {
  TempDir dir;
  fs::create_directories(dir / "data");
  Dataset d = grouped_dataset();
  save_dataset(d, dir / "data");
  Matrix text{16, 4, {}};
  std::vector<std::vector<float>> rows;
  std::vector<std::string> ids;
  for (int64_t i = 15; i >= 0; --i) {  // the parquet lists items backwards
    std::vector<float> v{static_cast<float>(i % 2), 0.1f * static_cast<float>(i), -1.0f, 0.5f};
    rows.push_back(v);
    ids.push_back(d.item_ids[static_cast<size_t>(i)]);
  }
  for (int64_t i = 0; i < 16; ++i) {
    const auto& v = rows[static_cast<size_t>(15 - i)];
    text.data.insert(text.data.end(), v.begin(), v.end());
  }
  write_npy(text, dir / "text.npy");
  ParquetWriter w;
  w.add_string("item_id", ids);
  w.add_float_list("vector", rows);
  w.write(dir / "text.parquet");

  Config a = tiny_config(dir / "data", dir / "npy");
  a.data.text_embeddings = (dir / "text.npy").string();
  a.training.num_epochs = 1;
  Config b = a;
  b.training.output_dir = (dir / "parquet").string();
  b.data.text_embeddings = (dir / "text.parquet").string();
  b.data.text_embeddings_column = "vector";
  TrainSummary sa = run_training(a), sb = run_training(b);
  EXPECT_EQ(sa.history[0]["train_loss"].get<double>(), sb.history[0]["train_loss"].get<double>());
  EXPECT_EQ(read_npy(dir / "npy" / "item_embeddings.npy").data, read_npy(dir / "parquet" / "item_embeddings.npy").data);
  // A different text matrix trains differently, so the equality above is not vacuous.
  for (float& x : text.data) x = -x;
  write_npy(text, dir / "neg.npy");
  Config c = a;
  c.training.output_dir = (dir / "neg").string();
  c.data.text_embeddings = (dir / "neg.npy").string();
  run_training(c);
  EXPECT_NE(read_npy(dir / "npy" / "item_embeddings.npy").data, read_npy(dir / "neg" / "item_embeddings.npy").data);
}

// The CLI ranks the validation split after each epoch unless --no-eval (as bench train runs it).
TEST(Trainer, CliNoEvalSkipsRankingMetrics) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  const std::string base = testing::cli_path().string() + " train --config " + testing::source_dir().string() +
                           "/configs/reference.yaml data.data_path=" + (dir / "data").string() +
                           " data.emb_dim=4 model.user_mlp_hidden=[8] model.item_mlp_hidden=[8] training.num_epochs=1"
                           " training.threads=1 training.output_dir=";
  std::string out;
  ASSERT_EQ(testing::run_command(base + (dir / "eval").string(), &out), 0) << out;
  ASSERT_EQ(testing::run_command(base + (dir / "noeval").string() + " --no-eval", &out), 0) << out;
  nlohmann::json with = read_json_file(dir / "eval" / "history.json")["epochs"][0];
  nlohmann::json without = read_json_file(dir / "noeval" / "history.json")["epochs"][0];
  EXPECT_TRUE(with.contains("recall@10"));
  EXPECT_FALSE(without.contains("recall@10"));
  EXPECT_TRUE(without.contains("val_loss"));
}

// Bad inputs are errors naming what was wrong.
TEST(Trainer, ErrorMessages) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  auto message = [](const Config& c, bool resume = false) {
    TrainOptions o;
    o.resume = resume;
    try {
      run_training(c, o);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  Config c = tiny_config(dir / "data", dir / "run");
  c.training.num_epochs = 1;
  c.training.best_metric = "recall@10";
  EXPECT_NE(message(c).find("training.best_metric: got \"recall@10\", expected one of val_loss, train_loss"),
            std::string::npos);

  Matrix text;
  text.rows = 15;
  text.cols = 4;
  text.data.assign(60, 0.5f);
  write_npy(text, dir / "text.npy");
  Config t = tiny_config(dir / "data", dir / "run2");
  t.data.text_embeddings = (dir / "text.npy").string();
  EXPECT_NE(message(t).find("has 15 rows, expected one per item of iid2idx.json (16)"), std::string::npos)
      << message(t);
  EXPECT_NE(message(tiny_config(dir / "data", dir / "fresh"), true).find("--resume: "), std::string::npos);
}

// bf16 products (training.matmul_precision: bf16) train a model as good as fp32's. On generated
// data with planted clusters (1,000 users, 400 items, widths of 64 and 128 so that oneDNN takes
// the products), 4 epochs, with BCE (the layers' products) and with the in-batch softmax (also
// its score product), over kSeeds seeds each: the mean validation Recall@10 and the mean final
// train loss (the loss the optimizer sees) of bf16 lie within kRecallBound / kLossBound of fp32's.
// The bounds are 4 standard deviations of a difference of two such means, from the spread that
// fp32 itself shows across seeds (docs/speed.md, "bf16 quality test"); both precisions must also
// be far above chance (10 of 400 items: 0.025).
TEST(Trainer, Bf16ProductsTrainAsWellAsFp32) {
  if (!onednn_bf16_available()) GTEST_SKIP() << "oneDNN has no bf16 product on this CPU";
  const int kSeeds = std::getenv("TWOTOWER_BF16_SEEDS") ? std::atoi(std::getenv("TWOTOWER_BF16_SEEDS")) : 3;
  constexpr double kRecallBound = 0.035, kLossBound = 0.025;
  TempDir dir;
  prepare_generated(dir.path(), 1000, 400, 12000);
  for (LossKind loss : {LossKind::kBce, LossKind::kSoftmax}) {
    auto train = [&](MatmulPrecision precision, uint64_t seed) {
      Config c;
      c.data.data_path = (dir / "data").string();
      c.data.neg_ratio = 1;
      c.data.seed = seed;
      c.model.embedding_dim = 64;
      c.model.user_mlp_hidden = c.model.item_mlp_hidden = {128};
      c.model.use_text = false;
      c.model.embedding_init_std = 0.1;
      c.training.loss = loss;
      c.training.batch_size = 256;
      c.training.num_epochs = 4;
      c.training.learning_rate = 0.003;
      c.training.logit_scale = 5;
      c.training.threads = 2;
      c.training.device = DeviceKind::kCpu;
      c.training.matmul_precision = precision;
      c.training.best_metric = "train_loss";
      c.training.output_dir = (dir / str_cat(to_string(loss), "-", to_string(precision), "-", seed)).string();
      TrainOptions o;
      o.metrics = make_validation_metrics({10});
      return run_training(c, o).history.back();
    };
    double recall[2] = {0, 0}, train_loss[2] = {0, 0};
    bool differs = false;
    for (int seed = 1; seed <= kSeeds; ++seed) {
      nlohmann::json fp32 = train(MatmulPrecision::kFp32, seed), bf16 = train(MatmulPrecision::kBf16, seed);
      std::cout << to_string(loss) << " seed " << seed << " fp32 recall@10 " << fp32["recall@10"] << " train_loss "
                << fp32["train_loss"] << "; bf16 recall@10 " << bf16["recall@10"] << " train_loss "
                << bf16["train_loss"] << "\n";
      recall[0] += fp32["recall@10"].get<double>() / kSeeds;
      recall[1] += bf16["recall@10"].get<double>() / kSeeds;
      train_loss[0] += fp32["train_loss"].get<double>() / kSeeds;
      train_loss[1] += bf16["train_loss"].get<double>() / kSeeds;
      differs = differs || fp32["train_loss"] != bf16["train_loss"];
    }
    EXPECT_GT(recall[0], 0.1) << to_string(loss);
    EXPECT_GT(recall[1], 0.1) << to_string(loss);
    EXPECT_NEAR(recall[1], recall[0], kRecallBound) << to_string(loss);
    EXPECT_NEAR(train_loss[1], train_loss[0], kLossBound) << to_string(loss);
    EXPECT_TRUE(differs) << to_string(loss);  // the bf16 products did run
  }
}

}  // namespace
}  // namespace twotower
