#include "twotower/train/optim/sparse_optimizer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "test_util.h"
#include "train/model_flops.h"
#include "twotower/common/error.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/shared_user_scores.h"

namespace twotower {
namespace {

constexpr int64_t kRows = 6, kDim = 4;

// Table rows 1, 3 (twice) and 4 looked up; the loss sum(emb(ids) * G) gives row 3 the sum of
// its two rows of G. Returns the table after one step of `step` on that loss.
struct Lookup {
  torch::Tensor ids = torch::tensor({1, 3, 4, 3}, torch::kLong);
  torch::Tensor weight_grad;  // [4, kDim] G
  torch::Tensor start;        // [kRows, kDim]
  Lookup() {
    torch::manual_seed(3);
    start = torch::randn({kRows, kDim});
    weight_grad = torch::randn({4, kDim});
  }
  // A leaf copy of the table with the gradient of the loss, sparse or dense.
  torch::Tensor table_with_grad(bool sparse) const {
    torch::Tensor w = start.clone().requires_grad_(true);
    torch::Tensor out = torch::embedding(w, ids, -1, false, sparse);
    (out * weight_grad).sum().backward();
    return w;
  }
};

bool is_touched(int64_t row) { return row == 1 || row == 3 || row == 4; }

// One lazy-Adam step equals torch's dense Adam (weight decay included) on the touched rows;
// untouched rows keep their values, where dense Adam moves them by the weight decay alone.
TEST(RowWiseOptimizer, LazyAdamStepEqualsDenseAdamOnTouchedRows) {
  Lookup l;
  torch::Tensor dense = l.table_with_grad(false);
  torch::optim::Adam adam({dense}, torch::optim::AdamOptions(0.01).weight_decay(0.1));
  adam.step();
  torch::Tensor lazy = l.table_with_grad(true);
  ASSERT_TRUE(lazy.grad().is_sparse());
  RowWiseOptions o;
  o.learning_rate = 0.01;
  o.weight_decay = 0.1;
  RowWiseOptimizer rows({lazy}, o);
  rows.step();
  EXPECT_EQ(rows.steps(), 1);
  for (int64_t r = 0; r < kRows; ++r) {
    if (is_touched(r)) {
      EXPECT_TRUE(torch::allclose(lazy[r], dense[r], 1e-5, 1e-7)) << "row " << r;
      EXPECT_FALSE(torch::equal(lazy[r], l.start[r])) << "row " << r;
    } else {
      EXPECT_TRUE(torch::equal(lazy[r], l.start[r])) << "row " << r;
      EXPECT_FALSE(torch::equal(dense[r], l.start[r])) << "row " << r;
    }
  }
}

// One row-wise AdaGrad step equals torch's Adagrad on the touched rows; the others stay.
TEST(RowWiseOptimizer, AdagradStepEqualsDenseAdagradOnTouchedRows) {
  Lookup l;
  torch::Tensor dense = l.table_with_grad(false);
  torch::optim::Adagrad adagrad({dense}, torch::optim::AdagradOptions(0.1));
  adagrad.step();
  torch::Tensor lazy = l.table_with_grad(true);
  RowWiseOptions o;
  o.kind = EmbeddingOptimizerKind::kAdagrad;
  o.learning_rate = 0.1;
  RowWiseOptimizer rows({lazy}, o);
  rows.step();
  for (int64_t r = 0; r < kRows; ++r) {
    if (is_touched(r)) {
      EXPECT_TRUE(torch::allclose(lazy[r], dense[r], 1e-5, 1e-7)) << "row " << r;
    }
    EXPECT_EQ(torch::equal(lazy[r], l.start[r]), !is_touched(r)) << "row " << r;
  }
  // AdaGrad's first step moves each touched element by lr * g / (|g| + eps), i.e. by lr = 0.1.
  torch::Tensor moved = (lazy[1] - l.start[1]).abs();
  EXPECT_TRUE(torch::allclose(moved, torch::full({kDim}, 0.1), 1e-5, 1e-6)) << moved;
}

// The tensor-operations path (the one a GPU table takes) gives the CPU kernel's rows over
// several steps, for both kinds, weight decay included.
TEST(RowWiseOptimizer, TensorOpsPathEqualsTheCpuKernel) {
  for (auto kind : {EmbeddingOptimizerKind::kLazyAdam, EmbeddingOptimizerKind::kAdagrad}) {
    Lookup l;
    RowWiseOptions o;
    o.kind = kind;
    o.learning_rate = 0.05;
    o.weight_decay = 0.01;
    torch::Tensor kernel_table = l.table_with_grad(true), ops_table = l.table_with_grad(true);
    RowWiseOptimizer kernel({kernel_table}, o);
    o.tensor_ops = true;
    RowWiseOptimizer ops({ops_table}, o);
    for (int step = 0; step < 5; ++step) {
      kernel.step();
      ops.step();
      for (torch::Tensor* t : {&kernel_table, &ops_table}) {
        t->mutable_grad().reset();
        (torch::embedding(*t, l.ids, -1, false, true) * l.weight_grad).sum().backward();
      }
    }
    EXPECT_TRUE(torch::allclose(kernel_table, ops_table, 1e-5, 1e-6)) << to_string(kind);
    EXPECT_FALSE(torch::equal(ops_table, l.start)) << to_string(kind);
    EXPECT_TRUE(torch::equal(ops_table[0], l.start[0])) << "an untouched row moved";
  }
}

// Clipping helpers: coalesce sums the duplicate row 3; the squared norm is that of the coalesced
// gradient, and scale_grads multiplies it.
TEST(RowWiseOptimizer, CoalesceAndScale) {
  Lookup l;
  torch::Tensor w = l.table_with_grad(true);
  RowWiseOptimizer rows({w}, RowWiseOptions{});
  torch::Tensor dense_grad = torch::zeros({kRows, kDim});
  dense_grad.index_add_(0, l.ids, l.weight_grad);
  EXPECT_NEAR(rows.coalesce_grads(), dense_grad.pow(2).sum().item<double>(), 1e-4);
  rows.scale_grads(0.5);
  EXPECT_TRUE(torch::allclose(w.grad().to_dense(), dense_grad * 0.5));
  rows.zero_grad();
  EXPECT_FALSE(w.grad().defined());
  EXPECT_DOUBLE_EQ(rows.coalesce_grads(), 0.0);
}

// State saved after one step and loaded into a fresh optimizer continues exactly.
TEST(RowWiseOptimizer, SaveLoadContinuesExactly) {
  for (EmbeddingOptimizerKind kind : {EmbeddingOptimizerKind::kLazyAdam, EmbeddingOptimizerKind::kAdagrad}) {
    Lookup l;
    RowWiseOptions o;
    o.kind = kind;
    torch::Tensor a = l.table_with_grad(true);
    RowWiseOptimizer first({a}, o);
    first.step();
    torch::serialize::OutputArchive out;
    first.save(out);
    std::ostringstream bytes;
    out.save_to(bytes);

    torch::Tensor b = a.detach().clone().requires_grad_(true);
    RowWiseOptimizer second({b}, o);
    std::istringstream in_bytes(bytes.str());
    torch::serialize::InputArchive in;
    in.load_from(in_bytes);
    second.load(in);
    EXPECT_EQ(second.steps(), 1);
    b.mutable_grad() = a.grad().clone();
    first.step();
    second.step();
    EXPECT_TRUE(torch::equal(a, b)) << to_string(kind);
  }
  // A state of another kind is refused by name.
  Lookup l;
  torch::Tensor w = l.table_with_grad(true);
  RowWiseOptimizer adam({w}, RowWiseOptions{});
  torch::serialize::OutputArchive out;
  adam.save(out);
  std::ostringstream bytes;
  out.save_to(bytes);
  RowWiseOptions ada;
  ada.kind = EmbeddingOptimizerKind::kAdagrad;
  RowWiseOptimizer other({w}, ada);
  std::istringstream in_bytes(bytes.str());
  torch::serialize::InputArchive in;
  in.load_from(in_bytes);
  testing::expect_error([&] { other.load(in); }, "got kind lazy_adam, expected adagrad");
}

// Without dropout, computing each user's tower once and repeating it for the k negatives gives
// the same scores and the same gradient on every parameter as the towers on the repeated users.
TEST(SharedUserScores, SameScoresAndGradientsAsPlain) {
  ModelConfig mc;
  mc.embedding_dim = 8;
  mc.user_mlp_hidden = mc.item_mlp_hidden = {16};
  mc.dropout = 0;
  ModelSizes sizes{5, 7, 1, 1, 3};
  torch::manual_seed(1);
  TwoTowerModel plain(mc, sizes), shared(mc, sizes);
  {
    torch::NoGradGuard no_grad;
    auto pp = plain->parameters(), sp = shared->parameters();
    for (size_t i = 0; i < pp.size(); ++i) sp[i].copy_(pp[i]);
  }
  const int64_t k = 2;
  torch::Tensor users = torch::tensor({0, 3, 3, 4}, torch::kLong);     // user 3 twice
  torch::Tensor items = torch::tensor({1, 2, 6, 0, 5, 5, 3, 1, 2, 4, 6, 0}, torch::kLong);  // (1 + k) * 4
  torch::Tensor labels = torch::cat({torch::ones({4}), torch::zeros({8})});
  torch::Tensor a = plain->pair_scores(users.repeat({1 + k}), items);
  torch::Tensor b = shared_user_scores(shared, users, items, k);
  EXPECT_TRUE(torch::allclose(a, b, 1e-6, 1e-6));
  torch::binary_cross_entropy_with_logits(a, labels).backward();
  torch::binary_cross_entropy_with_logits(b, labels).backward();
  auto pa = plain->named_parameters(), pb = shared->named_parameters();
  for (const auto& p : pa) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(torch::allclose(p.value().grad(), pb[p.key()].grad(), 1e-5, 1e-7)) << p.key();
  }
}

// FLOPs and parameters of the reference model, by hand: forward multiply-adds
//   user MLP 128*256 + 256*128 + 128*128 = 81,920; item MLP 512*256 + 256*128 + 128*128 = 180,224;
//   text 768*128 = 98,304; sum 360,448 -> 720,896 FLOPs forward, 3x with backward.
// Parameters at 93,543 users, 159,279 items (1 category, 1 brand): 32,723,072 (the reference's count).
TEST(ModelFlops, ReferenceModel) {
  ModelConfig mc;
  PairFlops f = pair_flops(mc, 768);
  EXPECT_DOUBLE_EQ(f.forward, 720896.0);
  EXPECT_DOUBLE_EQ(f.training, 3 * 720896.0);
  EXPECT_EQ(parameter_count(mc, 93543, 159279, 1, 1, 768), 32723072);
  TwoTowerModel model(mc, ModelSizes{5, 7, 2, 3, 10});
  EXPECT_EQ(parameter_count(mc, 5, 7, 2, 3, 10), count_parameters(*model));
}

}  // namespace
}  // namespace twotower
