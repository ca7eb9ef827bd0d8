#include "twotower/model/two_tower.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/npy.h"
#include "twotower/train/loss.h"

namespace twotower {
namespace {

ModelConfig small_config() {
  ModelConfig c;
  c.embedding_dim = 4;
  c.user_mlp_hidden = {8};
  c.item_mlp_hidden = {8};
  c.dropout = 0.0;
  return c;
}

ModelSizes small_sizes() {
  ModelSizes s;
  s.num_users = 3;
  s.num_items = 5;
  s.num_categories = 2;
  s.num_brands = 3;
  s.text_dim = 6;
  return s;
}

// Both towers give [B, D] rows of unit norm; similarity is [U, I] and equals the dot products.
TEST(TwoTowerModel, ShapesAndUnitNorm) {
  torch::manual_seed(0);
  TwoTowerModel model(small_config(), small_sizes());
  model->eval();
  torch::Tensor users = torch::tensor({0, 2, 1, 2}, torch::kLong);
  torch::Tensor items = torch::tensor({4, 0, 3}, torch::kLong);
  torch::Tensor u = model->user_embeddings(users), v = model->item_embeddings(items);
  EXPECT_EQ(u.sizes(), (std::vector<int64_t>{4, 4}));
  EXPECT_EQ(v.sizes(), (std::vector<int64_t>{3, 4}));
  EXPECT_TRUE(torch::allclose(u.norm(2, -1), torch::ones({4}), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(v.norm(2, -1), torch::ones({3}), 1e-5, 1e-5));
  torch::Tensor sim = model->compute_similarity(users, items);
  EXPECT_EQ(sim.sizes(), (std::vector<int64_t>{4, 3}));
  EXPECT_TRUE(torch::allclose(sim, u.matmul(v.t()), 1e-6, 1e-6));
  torch::Tensor pairs = model->pair_scores(users.slice(0, 0, 3), items);
  EXPECT_NEAR(pairs[1].item<double>(), sim[1][1].item<double>(), 1e-6);
}

// Repeated items run the tower's head once: item_embeddings equals the tower applied row by
// row to the gathered features, in value and in every parameter's gradient, with dropout on
// (the tail's masks are per row, drawn in the same order).
TEST(TwoTowerModel, RepeatedItemsShareTheHeadExactly) {
  ModelConfig c = small_config();
  c.item_mlp_hidden = {8, 6};
  c.dropout = 0.3;
  ModelSizes s = small_sizes();
  torch::manual_seed(1);
  TwoTowerModel model(c, s);
  ItemFeatureTable f;
  f.category = torch::tensor({0, 1, 1, 0, 1}, torch::kLong);
  f.brand = torch::tensor({2, 0, 1, 1, 2}, torch::kLong);
  f.text = torch::randn({5, 6});
  model->set_item_features(f);
  model->train();
  torch::Tensor items = torch::tensor({3, 1, 3, 3, 0, 1, 4}, torch::kLong);
  torch::Tensor upstream = torch::randn({7, 4});

  torch::manual_seed(9);
  torch::Tensor shared = model->item_embeddings(items);
  (shared * upstream).sum().backward();
  std::vector<torch::Tensor> shared_grads;
  for (const auto& p : model->parameters()) shared_grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  model->zero_grad();

  torch::manual_seed(9);
  torch::Tensor plain = model->item_tower(items, f.category.index_select(0, items), f.brand.index_select(0, items),
                                          f.text.index_select(0, items));
  (plain * upstream).sum().backward();
  EXPECT_TRUE(torch::allclose(shared, plain, 1e-6, 1e-6));
  size_t k = 0;
  for (const auto& p : model->parameters()) {
    ASSERT_EQ(p.grad().defined(), shared_grads[k].defined());
    if (p.grad().defined()) {
      EXPECT_TRUE(torch::allclose(p.grad(), shared_grads[k], 1e-5, 1e-6)) << k;
    }
    ++k;
  }
  // Rows of the same item differ after the tail's dropout: the masks are not shared.
  EXPECT_FALSE(torch::equal(shared[0], shared[2]));
}

// d=4, hidden [8], 3 users, 5 items, 2 categories, 3 brands, text 6:
// user: 3*4 + (4*8+8) + (8*4+4) = 12 + 40 + 36 = 88
// item: (5+2+3)*4 + (6*4+4) + (16*8+8) + (8*4+4) = 40 + 28 + 136 + 36 = 240
TEST(TwoTowerModel, ParameterCountByHand) {
  TwoTowerModel model(small_config(), small_sizes());
  EXPECT_EQ(count_parameters(*model->user_tower), 88);
  EXPECT_EQ(count_parameters(*model->item_tower), 240);
  EXPECT_EQ(count_parameters(*model), 328);
  EXPECT_NE(model->describe_parameters().find("total 328"), std::string::npos) << model->describe_parameters();
}

// The reference's sizes give its reported 32,723,072 parameters:
// user 93,543*128 + (128*256+256) + (256*128+128) + (128*128+128) = 11,973,504 + 82,432
// item (159,279+1+1)*128 + (768*128+128) + (512*256+256) + 32,896 + 16,512 = 20,387,968 + 98,432 + 180,736
TEST(TwoTowerModel, ReferenceParameterCount) {
  ModelSizes s{93543, 159279, 1, 1, 768};
  TwoTowerModel model(ModelConfig{}, s);
  EXPECT_EQ(count_parameters(*model->user_tower), 11973504 + 82432);
  EXPECT_EQ(count_parameters(*model->item_tower), 20387968 + 98432 + 180736);
  EXPECT_EQ(count_parameters(*model), 32723072);
}

// Without the last activation and the output layer the mlp is Linear, ReLU, Dropout, Linear.
TEST(TwoTowerModel, ArchitectureKeys) {
  ModelConfig c = small_config();
  c.user_mlp_hidden = c.item_mlp_hidden = {8, 4};
  c.last_layer_activation = false;
  c.output_layer = false;
  c.use_brand = false;
  TwoTowerModel model(c, small_sizes());
  EXPECT_EQ(model->user_tower->mlp->size(), 4u);
  EXPECT_FALSE(model->item_tower->brand_embedding);
  EXPECT_EQ(model->embedding_parameters().size(), 3u);  // user, item, category
  EXPECT_EQ(model->item_embeddings(torch::tensor({1}, torch::kLong)).sizes(), (std::vector<int64_t>{1, 4}));
}

// Id embeddings start at N(0, init_std^2).
TEST(TwoTowerModel, EmbeddingInitStd) {
  ModelConfig c = small_config();
  c.embedding_init_std = 0.1;
  torch::manual_seed(3);
  TwoTowerModel model(c, ModelSizes{2000, 10, 1, 1, 6});
  double std = model->user_tower->embedding->weight.std().item<double>();
  EXPECT_NEAR(std, 0.1, 0.005);
}

// By default an out-of-range id is an error naming the id and the vocabulary size.
TEST(TwoTowerModel, OutOfRangeIdIsAnError) {
  TwoTowerModel model(small_config(), small_sizes());
  testing::expect_error([&] { model->item_embeddings(torch::tensor({1, 7}, torch::kLong)); },
                        "item id 7 is outside the vocabulary of 5 items");
  EXPECT_THROW(model->user_embeddings(torch::tensor({-1}, torch::kLong)), Error);
}

// With out_of_range_ids: clamp, bad ids map to the nearest valid id and are counted.
TEST(TwoTowerModel, OutOfRangeIdsClampedAndCounted) {
  ModelConfig c = small_config();
  c.out_of_range_ids = IdPolicy::kClamp;
  TwoTowerModel model(c, small_sizes());
  model->eval();
  torch::Tensor clamped = model->user_embeddings(torch::tensor({5, -2, 1}, torch::kLong));
  torch::Tensor direct = model->user_embeddings(torch::tensor({2, 0, 1}, torch::kLong));
  EXPECT_TRUE(torch::equal(clamped, direct));
  EXPECT_EQ(model->clamped_user_ids(), 2);
  EXPECT_EQ(model->clamped_item_ids(), 0);
}

// Item features with the wrong number of rows are rejected naming both counts.
TEST(TwoTowerModel, ItemFeatureRowsChecked) {
  TwoTowerModel model(small_config(), small_sizes());
  ItemFeatureTable f{torch::zeros({4}, torch::kLong), torch::zeros({5}, torch::kLong), torch::zeros({5, 6})};
  testing::expect_error([&] { model->set_item_features(f); }, "got 4 rows, expected one per item (5)");
}

// bce_loss on hand values: scores (1, -1), labels (1, 0), scale 1 -> both terms log(1 + e^-1).
TEST(Loss, BceByHand) {
  torch::Tensor loss = bce_loss(torch::tensor({1.0f, -1.0f}), torch::tensor({1.0f, 0.0f}), 1.0);
  EXPECT_NEAR(loss.item<double>(), std::log1p(std::exp(-1.0)), 1e-6);
  // scale 2 on score 0.5 with label 0: log(1 + e^1)
  EXPECT_NEAR(bce_loss(torch::tensor({0.5f}), torch::tensor({0.0f}), 2.0).item<double>(), std::log1p(std::exp(1.0)),
              1e-6);
}

// At initialization, positives and random negatives score alike, so BCE with neg_ratio 1 is
// near ln 2 (any common score c gives ln 2 + c^2/8 + ...).
TEST(Loss, NearLn2AtInitialization) {
  torch::manual_seed(1);
  TwoTowerModel model(ModelConfig{}, ModelSizes{500, 800, 1, 1, 32});
  model->eval();
  torch::Tensor users = torch::randint(500, {2048}, torch::kLong);
  torch::Tensor items = torch::randint(800, {2048}, torch::kLong);
  torch::Tensor labels = torch::cat({torch::ones({1024}), torch::zeros({1024})});
  double loss = bce_loss(model->pair_scores(users, items), labels, 1.0).item<double>();
  EXPECT_NEAR(loss, std::log(2.0), 0.02);
}

// On a GPU the model gives the CPU's embeddings; skipped where LibTorch sees no CUDA device.
TEST(TwoTowerModel, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device available to LibTorch";
  torch::manual_seed(0);
  TwoTowerModel model(small_config(), small_sizes());
  model->eval();
  torch::Tensor items = torch::tensor({0, 1, 2, 3, 4}, torch::kLong);
  torch::Tensor cpu = model->item_embeddings(items);
  model->move_to(torch::Device(torch::kCUDA, 0));
  torch::Tensor gpu = model->item_embeddings(items.cuda()).cpu();
  EXPECT_TRUE(torch::allclose(cpu, gpu, 1e-5, 1e-5));
}

torch::Tensor tensor_of(const Matrix& m) {
  return torch::from_blob(const_cast<float*>(m.data.data()), {m.rows, m.cols}, torch::kFloat).clone();
}

Matrix matrix_of(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  Matrix m;
  m.rows = c.dim() == 1 ? c.size(0) : c.size(0);
  m.cols = c.dim() == 1 ? 1 : c.size(1);
  m.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return m;
}

// Run by tests/python/test_model_interop.py, skipped unless it sets TWOTOWER_INTEROP_DIR. That
// folder holds meta.json (sizes), a batch (users/items/labels.npy), text.npy,
// python_params/<name>.npy (the PyTorch reference's weights under twotower's parameter names) and
// what the reference computes from them: expected.json (the batch's BCE loss) and
// expected_user_emb.npy / expected_item_emb.npy. With those weights twotower's model has exactly
// the reference's parameters and gives its loss and embeddings to float32 precision. It also
// exports a freshly initialized model's weights to cpp_params/ with their loss (cpp_result.json),
// which the Python side loads into the reference and compares.
TEST(ModelInterop, ReferenceWeightsGiveTheReferenceLoss) {
  const char* dir_env = std::getenv("TWOTOWER_INTEROP_DIR");
  if (dir_env == nullptr) GTEST_SKIP() << "run by tests/python/test_model_interop.py";
  std::filesystem::path dir = dir_env;
  nlohmann::json meta = nlohmann::json::parse(std::ifstream(dir / "meta.json"));
  nlohmann::json expected = nlohmann::json::parse(std::ifstream(dir / "expected.json"));
  ModelConfig c;
  c.embedding_dim = meta["d"];
  c.user_mlp_hidden = c.item_mlp_hidden = meta["hidden"].get<std::vector<int64_t>>();
  c.dropout = 0.1;
  ModelSizes s{meta["num_users"], meta["num_items"], 1, 1, meta["text_dim"]};
  double scale = meta["logit_scale"];
  torch::Tensor users = tensor_of(read_npy(dir / "users.npy")).view({-1}).to(torch::kLong);
  torch::Tensor items = tensor_of(read_npy(dir / "items.npy")).view({-1}).to(torch::kLong);
  torch::Tensor labels = tensor_of(read_npy(dir / "labels.npy")).view({-1});
  ItemFeatureTable features{torch::zeros({s.num_items}, torch::kLong), torch::zeros({s.num_items}, torch::kLong),
                            tensor_of(read_npy(dir / "text.npy"))};
  nlohmann::json result;

  TwoTowerModel imported(c, s);
  imported->set_item_features(features);
  // The same parameter set: every one of ours has a reference weight, and no reference weight is left over.
  const auto params = imported->named_parameters();
  ASSERT_EQ(static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir / "python_params"),
                                              std::filesystem::directory_iterator())),
            params.size());
  {
    torch::NoGradGuard no_grad;
    for (const auto& p : params) {
      ASSERT_TRUE(std::filesystem::exists(dir / "python_params" / (p.key() + ".npy"))) << p.key();
      torch::Tensor value = tensor_of(read_npy(dir / "python_params" / (p.key() + ".npy")));
      ASSERT_EQ(value.numel(), p.value().numel()) << p.key();
      p.value().copy_(value.view(p.value().sizes()));
    }
  }
  imported->eval();
  {
    torch::NoGradGuard no_grad;
    EXPECT_NEAR(bce_loss(imported->pair_scores(users, items), labels, scale).item<double>(),
                expected["imported_loss"].get<double>(), 1e-5);
    // np.testing.assert_allclose(actual, desired, atol=1e-5): |a - d| <= 1e-5 + 1e-7 |d|.
    EXPECT_TRUE(torch::allclose(imported->user_embeddings(users), tensor_of(read_npy(dir / "expected_user_emb.npy")),
                                1e-7, 1e-5));
    EXPECT_TRUE(torch::allclose(imported->item_embeddings(items), tensor_of(read_npy(dir / "expected_item_emb.npy")),
                                1e-7, 1e-5));
  }

  torch::manual_seed(7);
  TwoTowerModel fresh(c, s);
  fresh->set_item_features(features);
  fresh->eval();
  std::filesystem::create_directories(dir / "cpp_params");
  for (const auto& p : fresh->named_parameters()) write_npy(matrix_of(p.value().view({p.value().size(0), -1})),
                                                            dir / "cpp_params" / (p.key() + ".npy"));
  result["fresh_loss"] = bce_loss(fresh->pair_scores(users, items), labels, scale).item<double>();
  std::ofstream(dir / "cpp_result.json") << result.dump();
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// user_history: the user tower's input is its id embedding plus the mean id embedding of the
// user's history items, the excluded (target) item left out; padding (-1) is ignored.
TEST(TwoTowerModel, UserHistoryPoolsItemEmbeddings) {
  torch::manual_seed(1);
  ModelConfig c = small_config();
  c.user_history = 2;
  TwoTowerModel model(c, small_sizes());
  model->eval();
  model->set_user_history(torch::tensor({1, 3, 4, -1, -1, -1}, torch::kLong).view({3, 2}));
  torch::NoGradGuard no_grad;
  torch::Tensor user_w = model->user_tower->embedding->weight, item_w = model->item_tower->embedding->weight;
  // user 0: (item 1 + item 3) / 2; user 1: item 4; user 2: nothing.
  torch::Tensor expected0 = model->user_tower->encode((user_w[0] + (item_w[1] + item_w[3]) / 2).unsqueeze(0));
  torch::Tensor expected1 = model->user_tower->encode((user_w[1] + item_w[4]).unsqueeze(0));
  torch::Tensor got = model->user_embeddings(torch::tensor({0, 1, 2}, torch::kLong));
  EXPECT_TRUE(torch::allclose(got[0], expected0[0], 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(got[1], expected1[0], 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(got[2], model->user_tower->encode(user_w[2].unsqueeze(0))[0], 1e-6, 1e-6));
  // Excluding item 3 (user 0's target) leaves item 1 alone.
  torch::Tensor excluded = model->user_embeddings(torch::tensor({0}, torch::kLong), torch::tensor({3}, torch::kLong));
  torch::Tensor expected_ex = model->user_tower->encode((user_w[0] + item_w[1]).unsqueeze(0));
  EXPECT_TRUE(torch::allclose(excluded, expected_ex, 1e-6, 1e-6));
  EXPECT_THROW(model->set_user_history(torch::zeros({2, 2}, torch::kLong)), Error);
  // A history given per row (user_history_mode: before) replaces the stored one: user 0 pooling
  // item 4 alone, user 2 pooling items 1 and 3.
  torch::Tensor rows = model->user_embeddings(torch::tensor({0, 2}, torch::kLong), {},
                                              torch::tensor({4, -1, 1, 3}, torch::kLong).view({2, 2}));
  EXPECT_TRUE(torch::allclose(rows[0], model->user_tower->encode((user_w[0] + item_w[4]).unsqueeze(0))[0], 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(rows[1], model->user_tower->encode((user_w[2] + (item_w[1] + item_w[3]) / 2).unsqueeze(0))[0],
                              1e-6, 1e-6));
  EXPECT_THROW(model->user_embeddings(torch::tensor({0, 2}, torch::kLong), {}, torch::zeros({3, 2}, torch::kLong)), Error);
}

// pool_categories: a [I, L] path table gives the mean of the path's category embeddings.
TEST(TwoTowerModel, PooledCategoriesAreThePathMean) {
  torch::manual_seed(2);
  ModelConfig pooled = small_config();
  pooled.use_item_id = pooled.use_brand = pooled.use_text = false;
  pooled.pool_categories = true;
  ModelSizes s = small_sizes();
  s.num_categories = 3;
  TwoTowerModel model(pooled, s);
  model->eval();
  ItemFeatureTable f;
  f.category = torch::tensor({1, 2, 0, -1, 2, -1, 1, -1, 0, -1}, torch::kLong).view({5, 2});
  f.brand = torch::zeros({5}, torch::kLong);
  model->set_item_features(f);
  torch::NoGradGuard no_grad;
  torch::Tensor w = model->item_tower->category_embedding->weight;
  torch::Tensor x = ((w[1] + w[2]) / 2).unsqueeze(0);
  torch::Tensor expected = torch::nn::functional::normalize(model->item_tower->mlp->forward(x),
                                                            torch::nn::functional::NormalizeFuncOptions().dim(-1));
  EXPECT_TRUE(torch::allclose(model->item_embeddings(torch::tensor({0}, torch::kLong)), expected, 1e-6, 1e-6));
  f.category = torch::tensor({1, 3, 0, -1, 2, -1, 1, -1, 0, -1}, torch::kLong).view({5, 2});
  EXPECT_THROW(model->set_item_features(f), Error);
}

// item_id_dropout zeroes whole id embeddings in training only: with p = 0.5 some of 64 copies of
// one item differ from the eval-mode vector, and in eval mode none do.
TEST(TwoTowerModel, ItemIdDropoutOnlyInTraining) {
  torch::manual_seed(3);
  ModelConfig c = small_config();
  c.item_id_dropout = 0.5;
  TwoTowerModel model(c, small_sizes());
  torch::NoGradGuard no_grad;
  torch::Tensor items = torch::full({64}, 2, torch::kLong);
  model->eval();
  torch::Tensor eval_rows = model->item_embeddings(items);
  EXPECT_TRUE(torch::allclose(eval_rows, eval_rows[0].expand_as(eval_rows)));
  model->train();
  torch::Tensor train_rows = model->item_embeddings(items);
  torch::Tensor same = (train_rows - eval_rows).abs().sum(-1) < 1e-6;
  int64_t kept = same.sum().item<int64_t>();
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 64);
}

// A user or item without an id reads as a zero id embedding: new_user_embeddings equals
// user_embeddings of a user whose id row is zeroed, with the same history pooled (or none when
// the model pools no history); new_item_embeddings equals item_embeddings of an item whose id
// row is zeroed and whose features are the given ones.
TEST(TwoTowerModel, NewUsersAndItemsReadAsZeroIds) {
  torch::manual_seed(3);
  ModelConfig c = small_config();
  c.user_history = 2;
  TwoTowerModel model(c, small_sizes());
  ItemFeatureTable f;
  f.category = torch::tensor({0, 1, 1, 0, 1}, torch::kLong);
  f.brand = torch::tensor({2, 0, 1, 1, 2}, torch::kLong);
  f.text = torch::randn({5, 6});
  model->set_item_features(f);
  model->eval();
  torch::NoGradGuard no_grad;
  model->user_tower->embedding->weight[1].zero_();
  model->item_tower->embedding->weight[3].zero_();
  const torch::Tensor history = torch::tensor({{4, 2}, {-1, -1}}, torch::kLong);
  EXPECT_TRUE(torch::allclose(model->new_user_embeddings(history),
                              model->user_embeddings(torch::tensor({1, 1}), {}, history), 1e-6, 1e-6));
  const torch::Tensor item = model->new_item_embeddings(torch::tensor({0}), torch::tensor({1}), f.text.slice(0, 3, 4));
  EXPECT_TRUE(torch::allclose(item, model->item_embeddings(torch::tensor({3})), 1e-6, 1e-6));
  testing::expect_exact_error([&] { model->new_item_embeddings(torch::tensor({2}), torch::tensor({0}), f.text[0]); },
                              "new item category: got index 2, expected [0, 2)");
  testing::expect_exact_error(
      [&] { model->new_item_embeddings(torch::tensor({0}), torch::tensor({0}), torch::zeros({1, 5})); },
      "new item text: got width 5, expected 6");

  c.user_history = 0;
  TwoTowerModel no_history(c, small_sizes());
  no_history->eval();
  no_history->user_tower->embedding->weight[0].zero_();
  EXPECT_TRUE(torch::allclose(no_history->new_user_embeddings(history),
                              no_history->user_embeddings(torch::tensor({0, 0})), 1e-6, 1e-6));
}

}  // namespace
}  // namespace twotower
