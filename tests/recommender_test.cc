#include "twotower/serve/recommender.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/data/dataset.h"
#include "twotower/data/model_inputs.h"
#include "twotower/data/npy.h"
#include "twotower/serve/export/export_catalogue.h"
#include "twotower/serve/export/export_writer.h"
#include "twotower/train/checkpoint.h"
#include "twotower/train/trainer.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;

// Two tiny trained exports of the same generated data: one with user-id dropout (a trained cold
// vector) and one without (cold requests get popularity); both pool 3 history items and read
// category, brand and (zero) text.
class RecommenderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    testing::prepare_generated(dir_->path(), 120, 80, 2400);
    for (double dropout : {0.3, 0.0}) {
      const std::string name = dropout > 0 ? "cold" : "popular";
      Config c = testing::tiny_config(*dir_ / "data", *dir_ / ("run_" + name));
      c.model.user_history = 3;
      c.model.user_id_dropout = dropout;
      c.training.num_epochs = 1;
      run_training(c, {});
      write_export(*dir_ / ("run_" + name), *dir_ / ("export_" + name));
    }
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path export_dir(const char* name) { return *dir_ / (std::string("export_") + name) / "v000001"; }

  static testing::TempDir* dir_;
};
testing::TempDir* RecommenderTest::dir_ = nullptr;

// Brute force: every item's score <query, item>, excluded ones dropped, by score then lower index.
std::vector<std::string> ranking(const Matrix& items, const std::vector<float>& q, const std::set<int64_t>& exclude,
                                 const ExportCatalogue& c, int64_t k) {
  std::vector<std::pair<float, int64_t>> all;
  for (int64_t i = 0; i < items.rows; ++i) {
    if (exclude.contains(i)) continue;
    float s = 0;
    for (int64_t j = 0; j < items.cols; ++j) s += items.row(i)[j] * q[static_cast<size_t>(j)];
    all.push_back({-s, i});
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> out;
  for (int64_t r = 0; r < k && r < static_cast<int64_t>(all.size()); ++r) {
    out.push_back(c.item_ids[static_cast<size_t>(all[static_cast<size_t>(r)].second)]);
  }
  return out;
}

std::vector<std::string> ids_of(const std::vector<Recommendation>& recs) {
  std::vector<std::string> out;
  for (const Recommendation& r : recs) out.push_back(r.item_id);
  return out;
}

// The user tower computed here by hand from the export's weights: zero id embedding + the mean
// of the history items' id embeddings, through the MLP, L2-normalized.
// The model of an export version, read back from its config, manifest and weights, in eval mode.
TwoTowerModel export_model(const fs::path& dir) {
  const Config c = load_config(dir / "config.yaml");
  const nlohmann::json m = read_json_file(dir / "manifest.json");
  TwoTowerModel model(c.model, ModelSizes{m["num_users"], m["num_items"], m["num_categories"], m["num_brands"],
                                          m["text_dim"]});
  load_checkpoint(dir / "model.pt", model, nullptr);
  model->eval();
  return model;
}

std::vector<float> tower_by_hand(const fs::path& dir, const std::vector<int64_t>& history) {
  const Config c = load_config(dir / "config.yaml");
  TwoTowerModel model = export_model(dir);
  torch::NoGradGuard no_grad;
  torch::Tensor x = torch::zeros({1, c.model.embedding_dim});
  if (!history.empty()) {
    x = model->item_tower->embedding->weight.index_select(0, torch::tensor(history)).mean(0, true);
  }
  torch::Tensor v = model->user_tower->mlp->forward(x);
  v = v / v.norm();
  return {v.data_ptr<float>(), v.data_ptr<float>() + v.numel()};
}

// A known user's list is the brute-force ranking of their stored vector, seen items left out
// (or kept with exclude_seen false), `exclude` left out too; titles come with the ids.
TEST_F(RecommenderTest, KnownUserRanksTheStoredVector) {
  const fs::path dir = export_dir("cold");
  Recommender r(dir);
  const ExportCatalogue c = read_export_catalogue(dir);
  const Matrix items = read_npy(dir / "item_embeddings.npy"), users = read_npy(dir / "user_embeddings.npy");
  for (int64_t u : {0, 7, 50}) {
    const std::vector<float> q(users.row(u), users.row(u) + users.cols);
    const std::span<const int64_t> seen = c.seen(u);
    std::set<int64_t> exclude(seen.begin(), seen.end());
    RecommendRequest req;
    req.user_id = c.user_ids[static_cast<size_t>(u)];
    req.k = 10;
    RecommendResult got = r.recommend(req);
    EXPECT_EQ(got.source, QuerySource::kKnownUser);
    EXPECT_EQ(ids_of(got.items), ranking(items, q, exclude, c, 10)) << "user " << u;
    const int64_t first = c.find_item(got.items[0].item_id);
    EXPECT_EQ(got.items[0].title, c.titles[static_cast<size_t>(first)]);
    req.exclude_seen = false;
    req.exclude = {got.items[0].item_id, "no such item"};
    EXPECT_EQ(ids_of(r.recommend(req).items), ranking(items, q, {first}, c, 10)) << "user " << u;
  }
}

// A history goes through the user tower: its last 3 (model.user_history) items pooled with a zero
// id, as computed by hand; the history's items are left out of the list.
TEST_F(RecommenderTest, HistoryGoesThroughTheUserTower) {
  const fs::path dir = export_dir("cold");
  Recommender r(dir);
  const ExportCatalogue c = read_export_catalogue(dir);
  const Matrix items = read_npy(dir / "item_embeddings.npy");
  RecommendRequest req;
  req.history = {c.item_ids[3], c.item_ids[9], c.item_ids[4], c.item_ids[20], c.item_ids[11]};
  req.k = 5;
  const RecommendResult got = r.recommend(req);
  EXPECT_EQ(got.source, QuerySource::kHistory);
  const std::vector<float> q = tower_by_hand(dir, {4, 20, 11});
  EXPECT_EQ(ids_of(got.items), ranking(items, q, {3, 9, 4, 20, 11}, c, 5));
  for (const Recommendation& rec : got.items) {
    const int64_t i = c.find_item(rec.item_id);
    float s = 0;
    for (int64_t j = 0; j < items.cols; ++j) s += items.row(i)[j] * q[static_cast<size_t>(j)];
    EXPECT_NEAR(rec.score, s, 1e-4);
  }
}

// The attention tower serves as it trained: a request's history (its last model.user_history
// items) gives the vector TwoTowerModel gives that history, a known user's stored vector is the
// tower on their train + valid history, and a user with nothing gets the trained start token.
TEST(RecommenderAttention, HistoriesGoThroughTheSequenceEncoder) {
  testing::TempDir dir;
  testing::prepare_generated(dir.path(), 120, 80, 2400);
  Config c = testing::tiny_config(dir / "data", dir / "run");
  c.model.user_mlp_hidden = c.model.item_mlp_hidden = {};
  c.model.output_layer = c.model.last_layer_activation = false;
  c.model.use_category = c.model.use_brand = c.model.use_text = false;
  c.model.user_history = 4;
  c.model.user_history_mode = UserHistoryMode::kBefore;
  c.model.user_history_pooling = HistoryPooling::kAttention;
  c.model.use_user_id = false;
  c.training.loss = LossKind::kFull;
  c.training.num_epochs = 1;
  run_training(c, {});
  write_export(dir / "run", dir / "export");
  const fs::path v1 = dir / "export" / "v000001";
  Recommender r(v1);
  const ExportCatalogue cat = read_export_catalogue(v1);
  const Matrix items = read_npy(v1 / "item_embeddings.npy"), users = read_npy(v1 / "user_embeddings.npy");
  TwoTowerModel model = export_model(v1);
  torch::NoGradGuard no_grad;
  auto vector_of = [&](const std::vector<int64_t>& history) {
    torch::Tensor h = torch::full({1, 4}, -1, torch::kLong);
    for (size_t k = 0; k < history.size(); ++k) h[0][static_cast<int64_t>(k)] = history[k];
    torch::Tensor v = model->new_user_embeddings(h)[0];
    return std::vector<float>(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
  };
  RecommendRequest req;
  req.history = {cat.item_ids[3], cat.item_ids[9], cat.item_ids[4], cat.item_ids[20], cat.item_ids[11]};
  req.k = 5;
  RecommendResult got = r.recommend(req);
  EXPECT_EQ(got.source, QuerySource::kHistory);
  EXPECT_EQ(ids_of(got.items), ranking(items, vector_of({9, 4, 20, 11}), {3, 9, 4, 20, 11}, cat, 5));
  // A known user: the stored vector is the tower on the user's last 4 train + valid items.
  const Dataset data = load_dataset(dir / "data", ItemText::kSkip);
  const PaddedTable recent = recent_items(data.interactions, rows_in_splits(data.interactions, {"train", "valid"}),
                                          data.num_users(), 4);
  std::vector<int64_t> last4;
  for (int64_t k = 0; k < 4; ++k) {
    if (recent.row(7)[k] >= 0) last4.push_back(recent.row(7)[k]);
  }
  ASSERT_FALSE(last4.empty());
  const std::vector<float> expected = vector_of(last4);
  for (int64_t j = 0; j < users.cols; ++j) EXPECT_NEAR(users.row(7)[j], expected[static_cast<size_t>(j)], 1e-5) << j;
  RecommendRequest cold;
  cold.k = 5;
  got = r.recommend(cold);
  EXPECT_EQ(got.source, QuerySource::kColdUser);
  EXPECT_EQ(ids_of(got.items), ranking(items, vector_of({}), {}, cat, 5));
}

// Without user and history: the cold vector (the tower on a zero input) where user-id dropout
// trained it, else the most popular train + valid items, scored by their counts.
TEST_F(RecommenderTest, ColdUserVectorOrPopularity) {
  RecommendRequest req;
  req.k = 8;
  const fs::path cold_dir = export_dir("cold");
  Recommender cold(cold_dir);
  const ExportCatalogue c = read_export_catalogue(cold_dir);
  EXPECT_TRUE(cold.has_cold_user_vector());
  const RecommendResult a = cold.recommend(req);
  EXPECT_EQ(a.source, QuerySource::kColdUser);
  const Matrix items = read_npy(cold_dir / "item_embeddings.npy");
  EXPECT_EQ(ids_of(a.items), ranking(items, tower_by_hand(cold_dir, {}), {}, c, 8));

  Recommender popular(export_dir("popular"));
  EXPECT_FALSE(popular.has_cold_user_vector());
  req.exclude = {c.item_ids[0]};
  const RecommendResult b = popular.recommend(req);
  EXPECT_EQ(b.source, QuerySource::kPopularity);
  std::vector<int64_t> order;
  for (int64_t i = 1; i < static_cast<int64_t>(c.item_ids.size()); ++i) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    return c.popularity[static_cast<size_t>(x)] > c.popularity[static_cast<size_t>(y)];
  });
  ASSERT_EQ(b.items.size(), 8u);
  for (size_t r = 0; r < 8; ++r) {
    EXPECT_EQ(b.items[r].item_id, c.item_ids[static_cast<size_t>(order[r])]);
    EXPECT_EQ(b.items[r].score, static_cast<float>(c.popularity[static_cast<size_t>(order[r])]));
  }
}

// similar() ranks the item's own vector, itself left out.
TEST_F(RecommenderTest, SimilarItemsRankTheItemVector) {
  const fs::path dir = export_dir("cold");
  Recommender r(dir);
  const ExportCatalogue c = read_export_catalogue(dir);
  const Matrix items = read_npy(dir / "item_embeddings.npy");
  const std::vector<float> q(items.row(5), items.row(5) + items.cols);
  EXPECT_EQ(ids_of(r.similar(c.item_ids[5], 6)), ranking(items, q, {5}, c, 6));
}

// Unknown ids are NotFoundError naming them; a k outside [1, max_k] is an Error naming it.
TEST_F(RecommenderTest, Errors) {
  RecommenderOptions o;
  o.max_k = 50;
  Recommender r(export_dir("cold"), o);
  RecommendRequest req;
  req.user_id = "nobody";
  EXPECT_THROW(r.recommend(req), NotFoundError);
  testing::expect_exact_error([&] { r.recommend(req); }, "user \"nobody\": not in the export (v000001)");
  req.user_id = "";
  req.history = {"nothing"};
  testing::expect_exact_error([&] { r.recommend(req); }, "history item \"nothing\": not in the export (v000001)");
  EXPECT_THROW(r.similar("nothing", 3), NotFoundError);
  req.history = {};
  req.k = 51;
  testing::expect_exact_error([&] { r.recommend(req); }, "k: got 51, expected an integer in [1, 50]");
  testing::expect_exact_error([&] { r.similar("x", 0); }, "k: got 0, expected an integer in [1, 50]");
  testing::expect_error([&] { Recommender(*dir_ / "data"); }, "not an export");
}

// New items go through the item tower: two with the same features get the same vector (each is
// the other's nearest, score 1), they are searchable and counted; a bad batch adds nothing.
TEST_F(RecommenderTest, AddItemsEmbedsThroughTheItemTower) {
  const fs::path dir = export_dir("cold");
  Recommender r(dir);
  const ExportCatalogue c = read_export_catalogue(dir);
  const int64_t before = r.info().num_items;
  std::string category;
  for (const auto& [name, idx] : c.category_index) {
    if (idx == 1) category = name;
  }
  NewItem a{"new-a", "A new thing", category, "", {}}, b = a;
  b.item_id = "new-b";
  EXPECT_EQ(r.add_items({a, b}), 2);
  EXPECT_EQ(r.info().num_items, before + 2);
  const std::vector<Recommendation> near = r.similar("new-a", 1);
  ASSERT_EQ(near.size(), 1u);
  EXPECT_EQ(near[0].item_id, "new-b");
  EXPECT_NEAR(near[0].score, 1.0f, 1e-5);
  EXPECT_EQ(r.similar("new-b", 1)[0].title, "A new thing");
  NewItem bad = a;
  bad.item_id = "new-c";
  bad.brand = "no such brand";
  testing::expect_exact_error([&] { r.add_items({bad}); },
                              "new item 0 (\"new-c\"): field \"brand\": got \"no such brand\", expected a brand of "
                              "the export or \"\"");
  testing::expect_exact_error([&] { r.add_items({b}); },
                              "new item 0 (\"new-b\"): field \"item_id\": got an id the export already has, expected "
                              "a new one");
  NewItem wide = a;
  wide.item_id = "new-d";
  wide.text_embedding = {1, 2, 3};
  testing::expect_error([&] { r.add_items({wide}); }, "field \"text_embedding\": got 3 values, expected 4 or none");
  EXPECT_EQ(r.info().num_items, before + 2);
}

// Readers on four threads while items are added: every answer is whole (k items, known ids), and
// the added items are all there at the end.
TEST_F(RecommenderTest, ConcurrentReadsWhileAddingItems) {
  Recommender r(export_dir("cold"));
  const ExportCatalogue c = read_export_catalogue(export_dir("cold"));
  const int64_t before = r.info().num_items;
  std::atomic<int64_t> answers{0}, bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int n = 0; n < 150; ++n) {
        RecommendRequest req;
        req.user_id = c.user_ids[static_cast<size_t>((t * 150 + n) % 120)];
        req.k = 5;
        const RecommendResult got = r.recommend(req);
        const std::vector<Recommendation> near = r.similar(c.item_ids[static_cast<size_t>(n % 80)], 3);
        bad += got.items.size() == 5 && near.size() == 3 ? 0 : 1;
        ++answers;
      }
    });
  }
  for (int b = 0; b < 30; ++b) r.add_items({NewItem{str_cat("added-", b), "", "", "", {}}});
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(answers.load(), 600);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(r.info().num_items, before + 30);
  EXPECT_EQ(r.similar("added-29", 1).size(), 1u);
}

// The parent folder loads its latest version; an export with a stored HNSW graph (export --hnsw)
// records its recall, the service reads the graph, reports its recall and ranks a known user like
// exact on this tiny catalogue; info() describes the export.
TEST_F(RecommenderTest, LatestVersionAndHnsw) {
  ExportOptions with_graph;
  with_graph.hnsw = true;
  write_export(*dir_ / "run_cold", *dir_ / "export_cold", with_graph);
  const nlohmann::json manifest = read_json_file(*dir_ / "export_cold/v000002/manifest.json");
  EXPECT_EQ(manifest["hnsw"]["m"], 32);
  EXPECT_GE(manifest["hnsw"]["recall_at_10"].get<double>(), 0.95);
  EXPECT_TRUE(manifest["files"].contains("item_index_hnsw.faiss"));
  RecommenderOptions o;
  o.index.kind = IndexKind::kHnsw;
  Recommender r(*dir_ / "export_cold", o);
  const ExportInfo info = r.info();
  EXPECT_EQ(info.version, "v000002");
  EXPECT_EQ(info.index_kind, "hnsw");
  EXPECT_EQ(info.num_users, 120);
  EXPECT_EQ(info.dim, 8);
  EXPECT_GE(r.index_recall_at_10(), 0.95);
  Recommender exact(*dir_ / "export_cold");
  RecommendRequest req;
  req.user_id = read_export_catalogue(export_dir("cold")).user_ids[3];
  EXPECT_EQ(ids_of(r.recommend(req).items), ids_of(exact.recommend(req).items));
}

}  // namespace
}  // namespace twotower
