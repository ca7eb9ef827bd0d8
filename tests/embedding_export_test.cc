#include "twotower/model/embedding_export.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/data/model_inputs.h"
#include "twotower/model/input_tensors.h"

namespace twotower {
namespace {

torch::Tensor as_tensor(const Matrix& m) {
  return torch::from_blob(const_cast<float*>(m.data.data()), {m.rows, m.cols}, torch::kFloat).clone();
}

torch::Tensor embed_all_users_tensor(TwoTowerModel& model) {
  torch::NoGradGuard no_grad;
  return model->user_embeddings(torch::arange(model->sizes().num_users));
}

// embed_all_* equal the towers' own eval-mode output for every id, in order, across chunk
// boundaries; the model's training mode is restored.
TEST(EmbeddingExport, EmbedAllEqualsTheTowers) {
  Config c = testing::tiny_config("unused", "unused");
  c.model.use_text = false;
  TwoTowerModel model(c.model, ModelSizes{9000, 16, 3, 1, 4});
  model->train();
  const torch::Device cpu(torch::kCPU);
  Matrix users = embed_all_users(model, cpu), items = embed_all_items(model, cpu);
  EXPECT_TRUE(model->is_training());
  ASSERT_EQ(users.rows, 9000);
  ASSERT_EQ(items.rows, 16);
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(as_tensor(users), model->user_embeddings(torch::arange(9000))));
  EXPECT_TRUE(torch::equal(as_tensor(items), model->item_embeddings(torch::arange(16))));
}

// With model.user_history the exported user vectors pool each user's recent items of train + valid
// (everything before the test split), not only the training items the model was fitted with.
TEST(EmbeddingExport, UserVectorsPoolTrainAndValidHistory) {
  testing::TempDir dir;
  Dataset data = testing::grouped_dataset();
  Config c = testing::tiny_config(dir.path(), dir.path());
  c.model.use_text = false;
  c.model.user_history = 3;
  TwoTowerModel model(c.model, ModelSizes{24, 16, 3, 1, 4});
  const std::vector<int64_t> train_rows = rows_in_splits(data.interactions, {"train"});
  model->set_user_history(padded_tensor(recent_items(data.interactions, train_rows, 24, 3)));
  model->eval();
  torch::Tensor train_only = embed_all_users_tensor(model);
  export_embeddings(model, data, c, torch::Device(torch::kCPU), dir.path());
  torch::Tensor exported = as_tensor(read_npy(dir / "user_embeddings.npy"));
  ASSERT_EQ(exported.size(0), 24);
  EXPECT_EQ(read_npy(dir / "item_embeddings.npy").rows, 16);
  // The same tower over the train + valid history, computed here directly.
  const std::vector<int64_t> before_test = rows_in_splits(data.interactions, {"train", "valid"});
  model->set_user_history(padded_tensor(recent_items(data.interactions, before_test, 24, 3)));
  EXPECT_TRUE(torch::equal(exported, embed_all_users_tensor(model)));
  // Each user's valid item is among their 3 most recent: the vectors moved.
  EXPECT_FALSE(torch::allclose(exported, train_only, 1e-4, 1e-4));
}

}  // namespace
}  // namespace twotower
