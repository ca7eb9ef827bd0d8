// The sharding of data-parallel training (every row of every batch on exactly one rank) and the
// one-process DataParallel, whose members leave everything as it is. The collectives themselves
// run under torchrun in tests/distributed.
#include "twotower/train/data_parallel.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "twotower/common/error.h"

namespace twotower {
namespace {

TEST(DataParallel, LocalRowsSplitEveryBatchIntoDisjointCoveringRanges) {
  for (int world = 1; world <= 8; ++world) {
    for (int64_t m = 0; m <= 50; ++m) {
      int64_t next = 0, smallest = m, largest = 0;
      for (int rank = 0; rank < world; ++rank) {
        const RowRange r = local_rows(m, rank, world);
        EXPECT_EQ(r.begin, next) << "m " << m << " rank " << rank << " of " << world;
        EXPECT_GE(r.size(), 0);
        next = r.end;
        smallest = std::min(smallest, r.size());
        largest = std::max(largest, r.size());
      }
      EXPECT_EQ(next, m) << "world " << world;
      EXPECT_LE(largest - smallest, 1) << "m " << m << " world " << world;
    }
  }
}

TEST(DataParallel, AnEpochsBatchesShardEveryPairOnceOverTheRanks) {
  // 103 pairs in batches of 16 over 3 ranks: the epoch runner's slicing, then each rank's rows.
  const int64_t n = 103, batch = 16;
  const int world = 3;
  std::multiset<int64_t> seen;
  for (int64_t s = 0; s < n; s += batch) {
    const int64_t m = std::min(n, s + batch) - s;
    for (int rank = 0; rank < world; ++rank) {
      const RowRange r = local_rows(m, rank, world);
      for (int64_t j = r.begin; j < r.end; ++j) seen.insert(s + j);
    }
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen.count(i), 1u) << "pair " << i;
}

TEST(DataParallel, LocalRowsRejectARankOutsideTheWorld) {
  EXPECT_THROW(local_rows(10, 2, 2), Error);
  EXPECT_THROW(local_rows(10, -1, 2), Error);
  EXPECT_THROW(local_rows(10, 0, 0), Error);
}

TEST(DataParallel, OneProcessLeavesTensorsAsTheyAre) {
  DataParallel dp;
  EXPECT_FALSE(dp.active());
  EXPECT_TRUE(dp.is_root());
  EXPECT_EQ(dp.world_size(), 1);
  torch::Tensor local = torch::randn({4, 3});
  EXPECT_TRUE(dp.gather_rows(local, {4}).is_same(local));
  EXPECT_THROW(dp.gather_rows(local, {3}), Error);
  EXPECT_EQ(dp.sum(2.5), 2.5);
  EXPECT_TRUE(dp.rank_zero_says(true));
  EXPECT_FALSE(dp.rank_zero_says(false));
  torch::Tensor w = torch::randn({5, 2}, torch::requires_grad());
  (w * w).sum().backward();
  const torch::Tensor before = w.grad().clone();
  double loss = 1.25;
  dp.reduce_gradients({w}, {}, true, loss);
  EXPECT_TRUE(torch::equal(w.grad(), before));
  EXPECT_EQ(loss, 1.25);
  EXPECT_EQ(dp.stats().steps, 0);
}

TEST(DataParallel, RankSeedsDifferAcrossEpochsAndRepeatOnARerun) {
  DataParallel dp;
  std::set<uint64_t> seeds;
  for (int64_t epoch = 1; epoch <= 100; ++epoch) seeds.insert(dp.rank_seed(42, epoch));
  EXPECT_EQ(seeds.size(), 100u);
  EXPECT_EQ(dp.rank_seed(42, 7), DataParallel().rank_seed(42, 7));
  EXPECT_NE(dp.rank_seed(42, 7), dp.rank_seed(43, 7));
}

}  // namespace
}  // namespace twotower
