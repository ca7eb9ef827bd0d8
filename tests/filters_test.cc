#include "twotower/data/filters.h"

#include <gtest/gtest.h>

namespace twotower {
namespace {

Interactions make(std::vector<int64_t> user, std::vector<int64_t> item, std::vector<int64_t> ts) {
  Interactions in;
  in.user = std::move(user);
  in.item = std::move(item);
  in.rating.assign(in.user.size(), 1.0f);
  in.timestamp = std::move(ts);
  return in;
}

// Rows: (u0,i0,t5) (u0,i0,t1) (u0,i1,t3) (u1,i0,t2) (u0,i0,t9): pair (u0,i0) occurs 3 times,
// so 2 repeats; first by time is row 1 (t1), last is row 4 (t9).
TEST(Filters, RepeatedPairsAndDuplicatePolicies) {
  Interactions in = make({0, 0, 0, 1, 0}, {0, 0, 1, 0, 0}, {5, 1, 3, 2, 9});
  EXPECT_EQ(count_repeated_pairs(in, 2), 2);
  EXPECT_EQ(duplicate_mask(in, 2, DuplicatePolicy::kKeepAll), (std::vector<uint8_t>{1, 1, 1, 1, 1}));
  EXPECT_EQ(duplicate_mask(in, 2, DuplicatePolicy::kKeepFirst), (std::vector<uint8_t>{0, 1, 1, 1, 0}));
  EXPECT_EQ(duplicate_mask(in, 2, DuplicatePolicy::kKeepLast), (std::vector<uint8_t>{0, 0, 1, 1, 1}));
}

// 2-core: user 2 has one row (removed); that leaves item 2 with one row (removed) and user 1
// with one row (removed) in the next round; what remains is users 0, 3 x items 0, 1.
TEST(Filters, KCoreIterates) {
  Interactions in = make({0, 0, 1, 1, 2, 3, 3}, {0, 1, 0, 2, 2, 0, 1}, {0, 0, 0, 0, 0, 0, 0});
  std::vector<uint8_t> keep(in.size(), 1);
  int rounds = kcore_mask(in, 4, 3, 2, 2, keep);
  EXPECT_EQ(keep, (std::vector<uint8_t>{1, 1, 0, 0, 0, 1, 1}));
  EXPECT_GE(rounds, 2);
  std::vector<int32_t> users, items;
  compact(in, keep, 4, 3, users, items);
  EXPECT_EQ(in.user, (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(in.item, (std::vector<int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(users, (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(items, (std::vector<int32_t>{0, 1}));
}

// Compaction renumbers by first appearance among kept rows: item 2 appears first, so it is 0.
TEST(Filters, CompactRenumbersByFirstAppearance) {
  Interactions in = make({1, 0, 1}, {2, 0, 0}, {0, 0, 0});
  std::vector<int32_t> users, items;
  compact(in, {1, 0, 1}, 2, 3, users, items);
  EXPECT_EQ(in.user, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(in.item, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(items, (std::vector<int32_t>{2, 0}));
}

}  // namespace
}  // namespace twotower
