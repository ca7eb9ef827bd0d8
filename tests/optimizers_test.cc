#include "twotower/train/optim/optimizers.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "twotower/model/linear.h"

namespace twotower {
namespace {

TwoTowerModel small_model(const TrainingConfig& t) {
  ModelSizes sizes;
  sizes.num_users = 30;
  sizes.num_items = 20;
  sizes.text_dim = 8;
  return TwoTowerModel(ModelConfig{}, sizes, matmul_options(t));
}

bool tables_sparse(TwoTowerModel& model) {
  return model->user_tower->embedding->options.sparse() && model->item_tower->embedding->options.sparse();
}

// Dense Adam with fused_adam on the CPU (the default) takes the tables' gradients sparse; torch's
// Adam and SGD take them dense; a row-wise optimizer sparse.
TEST(Optimizers, TablesGetSparseGradientsWhereTheOptimizerTakesThem) {
  TrainingConfig t;
  ASSERT_EQ(t.embedding_optimizer, EmbeddingOptimizerKind::kDense);
  ASSERT_TRUE(t.fused_adam);
  TwoTowerModel fused = small_model(t);
  EXPECT_TRUE(make_optimizers(fused, t).sparse_tables);
  EXPECT_TRUE(tables_sparse(fused));

  t.fused_adam = false;
  TwoTowerModel plain = small_model(t);
  EXPECT_FALSE(make_optimizers(plain, t).sparse_tables);
  EXPECT_FALSE(tables_sparse(plain));

  t.fused_adam = true;
  t.optimizer = OptimizerKind::kSgd;
  TwoTowerModel sgd = small_model(t);
  EXPECT_FALSE(make_optimizers(sgd, t).sparse_tables);
  EXPECT_FALSE(tables_sparse(sgd));

  t.optimizer = OptimizerKind::kAdam;
  t.embedding_optimizer = EmbeddingOptimizerKind::kLazyAdam;
  TwoTowerModel rows = small_model(t);
  Optimizers o = make_optimizers(rows, t);
  EXPECT_TRUE(o.sparse_tables && o.rows);
  EXPECT_TRUE(tables_sparse(rows));
}

// Clipping over a sparse (uncoalesced, repeated rows) and a dense gradient scales both as torch's
// clip_grad_norm_ scales the same gradients made dense.
TEST(Optimizers, ClipsSparseGradientsAsTorchClipsDenseOnes) {
  torch::manual_seed(5);
  torch::Tensor table = torch::zeros({10, 3}).requires_grad_(true), layer = torch::zeros({4}).requires_grad_(true);
  torch::Tensor dense_table = torch::zeros({10, 3}).requires_grad_(true), dense_layer = torch::zeros({4}).requires_grad_(true);
  const torch::Tensor rows = torch::tensor({{2, 7, 2, 9}}, torch::kLong);
  table.mutable_grad() = torch::sparse_coo_tensor(rows, torch::randn({4, 3}) * 3, {10, 3});
  layer.mutable_grad() = torch::randn({4}) * 3;
  dense_table.mutable_grad() = table.grad().to_dense();
  dense_layer.mutable_grad() = layer.grad().clone();
  clip_gradients({table, layer}, nullptr, 1.0);
  torch::nn::utils::clip_grad_norm_(std::vector<torch::Tensor>{dense_table, dense_layer}, 1.0);
  ASSERT_TRUE(table.grad().is_sparse() && table.grad().is_coalesced());
  EXPECT_TRUE(torch::allclose(table.grad().to_dense(), dense_table.grad(), 1e-5, 1e-7));
  EXPECT_TRUE(torch::allclose(layer.grad(), dense_layer.grad(), 1e-5, 1e-7));
  const double norm = std::sqrt(table.grad()._values().pow(2).sum().item<double>() + layer.grad().pow(2).sum().item<double>());
  EXPECT_NEAR(norm, 1.0, 1e-4) << "the gradients were not clipped to the norm asked for";
}

}  // namespace
}  // namespace twotower
