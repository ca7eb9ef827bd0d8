#include "twotower/train/init_from.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <set>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/config/config.h"
#include "twotower/data/model_inputs.h"
#include "twotower/data/parquet_io.h"
#include "twotower/model/linear.h"
#include "twotower/serve/export/export_writer.h"
#include "twotower/serve/http/http_server.h"
#include "twotower/serve/service_factory.h"
#include "twotower/train/checkpoint.h"
#include "twotower/train/run_setup.h"
#include "twotower/train/trainer.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;
using testing::grouped_dataset;
using testing::TempDir;
using testing::tiny_config;

constexpr int kOldUsers = 24, kOldItems = 16, kOldRows = 24 * 8;

// grouped_dataset() extended as prepare --extend would: users u24, u25 and items i16, i17 (in
// the new category "new", index 3) appended; 8 interactions per new user, the first two with
// the new items, appended after the old rows (6 train, 1 valid, 1 test each).
Dataset extended_grouped() {
  Dataset d = grouped_dataset();
  d.user_ids.insert(d.user_ids.end(), {"u24", "u25"});
  d.item_ids.insert(d.item_ids.end(), {"i16", "i17"});
  d.items.resize(d.item_ids.size());
  d.items.category_vocab.push_back("new");
  d.items.category_idx[16] = d.items.category_idx[17] = 3;
  auto& in = d.interactions;
  for (int u = kOldUsers; u < kOldUsers + 2; ++u) {
    for (int k = 0; k < 8; ++k) {
      in.user.push_back(u);
      in.item.push_back(k < 2 ? kOldItems + k : 2 * ((u + 3 * k) % 8) + u % 2);
      in.rating.push_back(NAN);
      in.timestamp.push_back(10 + k);
      in.split.push_back(k == 0 || (k >= 2 && k < 7) ? Split::kTrain : k == 1 ? Split::kValid : Split::kTest);
    }
  }
  return d;
}

fs::path save(const Dataset& data, const fs::path& dir) {
  fs::create_directories(dir);
  save_dataset(data, dir);
  return dir;
}

// An old run trained one epoch on grouped_dataset() in dir/old, and the config of a run that
// continues it on extended_grouped() (dir/new_data) into dir/continued.
struct Fixture {
  TempDir dir;
  Config old_config, config;
  explicit Fixture(EmbeddingOptimizerKind rows = EmbeddingOptimizerKind::kDense) {
    old_config = tiny_config(testing::save_grouped_data(dir.path()), dir / "old");
    old_config.training.num_epochs = 1;
    old_config.training.embedding_optimizer = rows;
    run_training(old_config);
    config = tiny_config(save(extended_grouped(), dir / "new_data"), dir / "continued");
    config.training.embedding_optimizer = rows;
    config.training.init_from = (dir / "old").string();
  }
};

struct Grown {
  Dataset data;
  TwoTowerModel model{nullptr};
  Optimizers optimizers;
  nlohmann::json report;
};

// The model and optimizers a continued run builds, with the old run loaded into them.
Grown grow(const Config& config) {
  Grown g;
  g.data = load_dataset(config.data.data_path, ItemText::kSkip);
  g.model = build_model(config, g.data, rows_in_splits(g.data.interactions, config.data.train_splits), torch::kCPU);
  g.optimizers = make_optimizers(g.model, config.training);
  ContinuedRun run(config, g.data);
  g.report = run.load_into(g.model, g.optimizers, g.data, torch::kCPU);
  return g;
}

// The old run's last checkpoint in a model (and optimizers) of the old sizes.
TwoTowerModel old_model(const Config& config, Optimizers* optimizers) {
  ModelSizes sizes;
  sizes.num_users = kOldUsers;
  sizes.num_items = kOldItems;
  sizes.num_categories = 3;
  sizes.text_dim = config.data.emb_dim;
  TwoTowerModel old(config.model, sizes, matmul_options(config.training));
  *optimizers = make_optimizers(old, config.training);
  load_checkpoint(fs::path(config.training.init_from) / "checkpoints" / "last.pt", old, optimizers->dense.get(),
                  optimizers->rows.get());
  return old;
}

// Before the first step every parameter's old rows equal the old run's last checkpoint bit for
// bit, and the rows of new ids are zero.
TEST(ContinuedRun, OldRowsEqualTheOldRunBeforeTheFirstStep) {
  Fixture f;
  Grown g = grow(f.config);
  Optimizers old_optimizers;
  TwoTowerModel old = old_model(f.config, &old_optimizers);
  std::map<std::string, torch::Tensor> old_params;
  for (const auto& p : old->named_parameters()) old_params.emplace(p.key(), p.value());
  int grown = 0;
  for (const auto& p : g.model->named_parameters()) {
    const torch::Tensor& before = old_params.at(p.key());
    const int64_t rows = before.dim() > 0 ? before.size(0) : 0;
    EXPECT_TRUE(torch::equal(rows > 0 ? p.value().narrow(0, 0, rows) : p.value(), before)) << p.key();
    if (rows > 0 && p.value().size(0) > rows) {
      ++grown;
      EXPECT_EQ(p.value().narrow(0, rows, p.value().size(0) - rows).abs().max().item<float>(), 0.0f) << p.key();
    }
  }
  EXPECT_EQ(grown, 3);  // user, item and category embeddings; the brand table keeps its 1 row
}

// The grown model has the parameters its sizes give: the old count plus one embedding_dim (8)
// row per new user (2), item (2) and category (1): 5 * 8 = 40, as a model built fresh at the new
// sizes has.
TEST(ContinuedRun, GrownParameterCountIsWhatTheNewSizesGive) {
  Fixture f;
  Grown g = grow(f.config);
  const int64_t old_count = g.report["old"]["parameters"], new_count = g.report["new"]["parameters"];
  EXPECT_EQ(new_count - old_count, 5 * 8);
  TwoTowerModel fresh(f.config.model, g.model->sizes(), matmul_options(f.config.training));
  EXPECT_EQ(new_count, count_parameters(*fresh));
  EXPECT_EQ(g.report["new"]["users"], kOldUsers + 2);
  EXPECT_EQ(g.report["new_item_ranks"]["new"]["targets"], 2);  // one valid row with a new item per new user
}

// The dense Adam state of the old rows is the old run's; new rows start with zero moments, and
// the step count continues.
TEST(ContinuedRun, KeepsAdamStateOfOldRows) {
  Fixture f;
  Grown g = grow(f.config);
  Optimizers old_optimizers;
  TwoTowerModel old = old_model(f.config, &old_optimizers);
  auto state_of = [](torch::optim::Optimizer& o, const torch::Tensor& p) -> torch::optim::AdamParamState& {
    return static_cast<torch::optim::AdamParamState&>(*o.state().at(p.unsafeGetTensorImpl()));
  };
  auto& before = state_of(*old_optimizers.dense, old->user_tower->embedding->weight);
  auto& after = state_of(*g.optimizers.dense, g.model->user_tower->embedding->weight);
  EXPECT_GT(before.step(), 0);
  EXPECT_EQ(after.step(), before.step());
  EXPECT_TRUE(torch::equal(after.exp_avg_sq().narrow(0, 0, kOldUsers), before.exp_avg_sq()));
  EXPECT_EQ(after.exp_avg().narrow(0, kOldUsers, 2).abs().max().item<float>(), 0.0f);
}

// With a row-wise embedding optimizer its step count continues from the old run's.
TEST(ContinuedRun, KeepsRowWiseOptimizerState) {
  Fixture f(EmbeddingOptimizerKind::kLazyAdam);
  Grown g = grow(f.config);
  Optimizers old_optimizers;
  old_model(f.config, &old_optimizers);
  EXPECT_GT(old_optimizers.rows->steps(), 0);
  EXPECT_EQ(g.optimizers.rows->steps(), old_optimizers.rows->steps());
}

// new+replay: every new training row (those beyond the old data's 192) and round(0.5 * 12) = 6
// distinct old training rows, ascending; full: every training row.
TEST(ContinuedRun, NewPlusReplayRows) {
  Fixture f;
  Dataset data = load_dataset(f.config.data.data_path, ItemText::kSkip);
  const std::vector<int64_t> train = rows_in_splits(data.interactions, {"train"});
  EXPECT_EQ(ContinuedRun(f.config, data).pair_rows(train), train);
  f.config.training.incremental = IncrementalMode::kNewReplay;
  f.config.training.replay_ratio = 0.5;
  const std::vector<int64_t> rows = ContinuedRun(f.config, data).pair_rows(train);
  ASSERT_EQ(rows.size(), 12u + 6u);
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end()));
  EXPECT_EQ(std::set<int64_t>(rows.begin(), rows.end()).size(), rows.size());
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(), [](int64_t r) { return r >= kOldRows; }), 12);
}

// A continued run trains, writes init_from.json, and its export is a new version beside the old
// run's, the old users and items under their old indices.
TEST(ContinuedRun, TrainsAndExportsANewVersion) {
  Fixture f;
  run_training(f.config);
  const nlohmann::json report = read_json_file(f.dir / "continued" / "init_from.json");
  EXPECT_EQ(report["old"]["items"], kOldItems);
  EXPECT_EQ(report["new"]["items"], kOldItems + 2);
  ExportSummary first = write_export(f.dir / "old", f.dir / "export");
  ExportSummary second = write_export(f.dir / "continued", f.dir / "export");
  EXPECT_EQ(first.version, "v000001");
  EXPECT_EQ(second.version, "v000002");
  EXPECT_EQ(second.num_items, kOldItems + 2);
  EXPECT_TRUE(fs::exists(first.dir / "manifest.json"));
  std::vector<std::string> old_ids = ParquetTable(first.dir / "items.parquet").string_column("item_id");
  std::vector<std::string> new_ids = ParquetTable(second.dir / "items.parquet").string_column("item_id");
  new_ids.resize(old_ids.size());
  EXPECT_EQ(new_ids, old_ids);
}

// A running service reloads the continued run's export (the newest version: what SIGHUP and an
// empty POST /reload load) and rolls back to the old run's by naming it; the new user u24 is
// known to the new version only.
TEST(ContinuedRun, ServeReloadsTheNewVersionAndRollsBack) {
  Fixture f;
  run_training(f.config);
  const fs::path exports = f.dir / "export";
  write_export(f.dir / "old", exports);
  const ServiceLoader loader = [&](const std::string& version) {
    return load_recommend_service(exports, version, "exact");
  };
  HttpServer server(loader("v000001"), loader, HttpServerOptions{});
  server.start();
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(std::chrono::seconds(10));
  const auto health = [&] {
    const httplib::Result r = client.Get("/health");
    return r ? nlohmann::json::parse(r->body) : nlohmann::json();
  };
  const auto recommend_status = [&](const std::string& user) {
    const httplib::Result r =
        client.Post("/recommend", nlohmann::json{{"user_id", user}, {"k", 3}}.dump(), "application/json");
    return r ? r->status : 0;
  };
  EXPECT_EQ(health()["version"], "v000001");
  EXPECT_EQ(recommend_status("u24"), 404);
  write_export(f.dir / "continued", exports);  // v000002, written while the service runs
  const httplib::Result reloaded = client.Post("/reload", "", "application/json");
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->status, 200) << reloaded->body;
  EXPECT_EQ(health()["version"], "v000002");
  EXPECT_EQ(health()["num_items"], kOldItems + 2);
  EXPECT_EQ(recommend_status("u24"), 200);
  const httplib::Result back = client.Post("/reload", R"({"version": "v000001"})", "application/json");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, 200) << back->body;
  EXPECT_EQ(health()["version"], "v000001");
  EXPECT_EQ(health()["num_items"], kOldItems);
  EXPECT_EQ(recommend_status("u24"), 404);
  EXPECT_EQ(recommend_status("u3"), 200);
  server.stop();
}

// A model shape other than the run's is refused naming the key, the value got and the one expected.
TEST(ContinuedRun, ShapeMismatchIsAnError) {
  Fixture f;
  Dataset data = load_dataset(f.config.data.data_path, ItemText::kSkip);
  f.config.model.embedding_dim = 16;
  testing::expect_error([&] { ContinuedRun(f.config, data); },
                        "training.init_from: model.embedding_dim: got 16, expected 8 (the value in " +
                            (f.dir / "old" / "config.yaml").string());
}

// Data whose id maps or interactions do not continue the run's are refused naming the file, the
// index and both values; so is a folder that is not a run.
TEST(ContinuedRun, DataThatDoesNotExtendTheRunIsAnError) {
  Fixture f;
  Dataset renamed = extended_grouped();
  renamed.user_ids[3] = "x3";
  save(renamed, f.dir / "renamed");
  f.config.data.data_path = (f.dir / "renamed").string();
  testing::expect_error([&] { ContinuedRun(f.config, renamed); },
                        "renamed/uid2idx.json: user_idx 3: got \"x3\", expected \"u3\" as in ");
  Dataset reordered = extended_grouped();
  std::swap(reordered.interactions.item[0], reordered.interactions.item[1]);
  testing::expect_error([&] { ContinuedRun(f.config, reordered); }, "interactions_mapped.parquet:1: got (user_idx 0, item_idx");
  f.config.training.init_from = (f.dir / "nothing").string();
  testing::expect_error([&] { ContinuedRun(f.config, renamed); }, "expected a run folder (no config.yaml there)");
}

// new+replay needs a run to continue: the config check says so.
TEST(ContinuedRun, NewPlusReplayNeedsInitFrom) {
  testing::expect_error([] { parse_config("data: {data_path: d}\ntraining: {incremental: new+replay}\n", "c.yaml"); },
                        "training.incremental\": got new+replay with training.init_from null");
}

}  // namespace
}  // namespace twotower
