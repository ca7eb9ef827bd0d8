#include "twotower/model/history_rows.h"

#include <gtest/gtest.h>

namespace twotower {
namespace {

// Histories with padding at the end, in the middle and filling a row, item 0 among the real
// items (the row the padding reads by_mask) and an item twice.
torch::Tensor padded_histories() {
  return torch::tensor({3, -1, 5, 0, -1, -1, -1, -1, 0, 7, 7, -1}, torch::kLong).view({3, 4});
}

// The two ways give the same rows, and the same dense gradient of the table bit for bit: the
// padding's exact zeros leave row 0's sum as it is.
TEST(HistoryRows, ByMaskEqualsBySelectionInRowsAndDenseGradient) {
  torch::manual_seed(3);
  torch::nn::Embedding selection(torch::nn::EmbeddingOptions(10, 6));
  torch::nn::Embedding mask(torch::nn::EmbeddingOptions(10, 6));
  {
    torch::NoGradGuard no_grad;
    mask->weight.copy_(selection->weight);
  }
  const torch::Tensor history = padded_histories();
  const torch::Tensor a = history_rows_by_selection(selection, history), b = history_rows_by_mask(mask, history);
  ASSERT_EQ(a.sizes(), (std::vector<int64_t>{3, 4, 6}));
  EXPECT_TRUE(torch::equal(a, b));
  const torch::Tensor padding = b.index({history < 0});
  EXPECT_EQ(padding.size(0), 6);
  EXPECT_TRUE(torch::equal(padding, torch::zeros({6, 6}))) << "the padding's rows are zero";
  const torch::Tensor upstream = torch::randn({3, 4, 6});
  (a * upstream).sum().backward();
  (b * upstream).sum().backward();
  EXPECT_TRUE(torch::equal(selection->weight.grad(), mask->weight.grad()));
  EXPECT_FALSE(torch::equal(mask->weight.grad()[0], torch::zeros({6}))) << "item 0's own gradient";
}

// A sparse gradient by_selection holds the real items' rows alone; by_mask adds row 0 (why
// history_rows keeps by_selection for a sparse table, which a row-wise optimizer updates row by row).
TEST(HistoryRows, SparseGradientRowsAreTheRealItemsBySelection) {
  torch::nn::Embedding table(torch::nn::EmbeddingOptions(10, 4).sparse(true));
  const torch::Tensor history = torch::tensor({3, -1, 5, -1}, torch::kLong).view({2, 2});
  const auto rows_of = [&](const torch::Tensor& out) {
    table->weight.mutable_grad().reset();
    out.sum().backward();
    return table->weight.grad().coalesce()._indices()[0];  // sorted, each row once
  };
  EXPECT_TRUE(torch::equal(rows_of(history_rows_by_selection(table, history)), torch::tensor({3, 5}, torch::kLong)));
  EXPECT_TRUE(torch::equal(rows_of(history_rows_by_mask(table, history)), torch::tensor({0, 3, 5}, torch::kLong)));
  EXPECT_TRUE(torch::equal(rows_of(history_rows(table, history)), torch::tensor({3, 5}, torch::kLong)));
}

}  // namespace
}  // namespace twotower
