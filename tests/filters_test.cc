#include "twotower/data/filters.h"

#include <gtest/gtest.h>

#include <set>

#include "test_util.h"

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

// Users uniform, rows whole: user u has u % 3 + 1 rows; sampling 4 of 10 keeps exactly the rows
// of 4 users, the same 4 for the same seed.
TEST(Filters, SampleUsersKeepsWholeUsers) {
  std::vector<int64_t> users;
  for (int64_t u = 0; u < 10; ++u) users.insert(users.end(), static_cast<size_t>(u % 3 + 1), u);
  Interactions in = make(users, std::vector<int64_t>(users.size(), 0), std::vector<int64_t>(users.size(), 0));
  auto draw = [&](uint64_t seed) {
    std::vector<uint8_t> keep(in.size(), 1);
    EXPECT_EQ(sample_users_mask(in, 10, 4, seed, keep), 4);
    std::set<int64_t> kept, dropped;
    for (size_t r = 0; r < in.size(); ++r) (keep[r] ? kept : dropped).insert(in.user[r]);
    EXPECT_EQ(kept.size(), 4u);
    for (int64_t u : kept) EXPECT_EQ(dropped.count(u), 0u) << "user " << u << " kept in part";
    return kept;
  };
  EXPECT_EQ(draw(1), draw(1));
  std::set<std::set<int64_t>> distinct;
  for (uint64_t seed = 0; seed < 20; ++seed) distinct.insert(draw(seed));
  EXPECT_GT(distinct.size(), 10u);
  // Everyone when the sample is as large as the users.
  std::vector<uint8_t> keep(in.size(), 1);
  EXPECT_EQ(sample_users_mask(in, 10, 10, 3, keep), 10);
  EXPECT_EQ(keep, std::vector<uint8_t>(in.size(), 1));
  testing::expect_exact_error([&] { sample_users_mask(in, 10, 0, 3, keep); },
                              "--sample-users: got 0, expected a count >= 1");
}

// Each of 10 users is drawn in 3 of 10 samples: over 2,000 seeds 600 times, standard deviation
// sqrt(2000 x 0.3 x 0.7) = 20.5; every count within 6 of those of 600.
TEST(Filters, SampleUsersIsUniform) {
  std::vector<int64_t> users(10);
  for (int64_t u = 0; u < 10; ++u) users[static_cast<size_t>(u)] = u;
  Interactions in = make(users, std::vector<int64_t>(10, 0), std::vector<int64_t>(10, 0));
  std::vector<int> count(10, 0);
  for (uint64_t seed = 0; seed < 2000; ++seed) {
    std::vector<uint8_t> keep(10, 1);
    sample_users_mask(in, 10, 3, seed, keep);
    for (size_t u = 0; u < 10; ++u) count[u] += keep[u];
  }
  for (size_t u = 0; u < 10; ++u) EXPECT_NEAR(count[u], 600, 123) << "user " << u;
}

}  // namespace
}  // namespace twotower
