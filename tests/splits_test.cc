#include "twotower/data/splits.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

Interactions make(std::vector<int64_t> user, std::vector<int64_t> ts) {
  Interactions in;
  in.user = std::move(user);
  in.item.assign(in.user.size(), 0);
  in.rating.assign(in.user.size(), 1.0f);
  in.timestamp = std::move(ts);
  return in;
}

constexpr Split T = Split::kTrain, V = Split::kValid, X = Split::kTest;

// User 0 has 4 rows out of file order: by time 10 (row 2), 20 (row 0), 30 (row 3), 40 (row 1),
// so row 1 is test and row 3 valid. User 1 has 2 rows: train + test. User 2 has 1: train.
TEST(Splits, LeaveLastOutHandComputed) {
  Interactions in = make({0, 0, 0, 0, 1, 1, 2}, {20, 40, 10, 30, 5, 6, 1});
  nlohmann::json s = leave_last_out(in, 3);
  EXPECT_EQ(in.split, (std::vector<Split>{T, X, T, V, T, X, T}));
  EXPECT_EQ(s["counts"]["train"], 4);
  EXPECT_EQ(s["counts"]["valid"], 1);
  EXPECT_EQ(s["counts"]["test"], 2);
  EXPECT_EQ(s["users"]["one_interaction"], 1);
  EXPECT_EQ(s["users"]["two_interactions"], 1);
}

// Equal timestamps are ordered by file position: the later row is the later event.
TEST(Splits, LeaveLastOutTiesKeepFileOrder) {
  Interactions in = make({0, 0, 0}, {7, 7, 7});
  leave_last_out(in, 1);
  EXPECT_EQ(in.split, (std::vector<Split>{T, V, X}));
}

// 10 timestamps 1..10, fractions 0.8/0.1: valid_from = sorted[8] = 9, test_from = sorted[9] = 10.
TEST(Splits, TimeSplitByFractions) {
  Interactions in = make({0, 0, 0, 0, 0, 1, 1, 1, 1, 1}, {10, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  SplitOptions o;
  o.method = SplitMethod::kTime;
  nlohmann::json s = time_split(in, o);
  EXPECT_EQ(s["valid_from"], 9);
  EXPECT_EQ(s["test_from"], 10);
  EXPECT_EQ(in.split, (std::vector<Split>{X, T, T, T, T, T, T, T, T, V}));
}

// Ties at a cutoff all fall on the later side: with 1,2,2,2,3 and 0.4/0.4, valid_from =
// sorted[2] = 2 and test_from = sorted[4] = 3, so train holds only the 1.
TEST(Splits, TimeSplitTiesDoNotStraddleACutoff) {
  Interactions in = make({0, 0, 0, 0, 0}, {1, 2, 2, 2, 3});
  SplitOptions o;
  o.method = SplitMethod::kTime;
  o.train_fraction = 0.4;
  o.valid_fraction = 0.4;
  time_split(in, o);
  EXPECT_EQ(in.split, (std::vector<Split>{T, V, V, V, X}));
}

TEST(Splits, TimeSplitByDates) {
  EXPECT_EQ(parse_cutoff("2014-01-01", "--valid-from"), 1388534400);
  EXPECT_EQ(parse_cutoff("2014-01-01T01:00:00", "--valid-from"), 1388538000);
  EXPECT_EQ(parse_cutoff("1388534400", "--valid-from"), 1388534400);
  EXPECT_EQ(format_utc(1388534400), "2014-01-01T00:00:00Z");
  Interactions in = make({0, 0, 0}, {1388534399, 1388534400, 1400000000});
  SplitOptions o;
  o.method = SplitMethod::kTime;
  o.valid_from = 1388534400;
  o.test_from = 1390000000;
  time_split(in, o);
  EXPECT_EQ(in.split, (std::vector<Split>{T, V, X}));
  testing::expect_exact_error(
      [&] { parse_cutoff("01/02/2014", "--test-from"); },
      "--test-from: got \"01/02/2014\", expected a date YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (UTC) or seconds since 1970");
}

// A split that leaves validation or test empty ends in one sentence naming the remedy.
TEST(Splits, EmptyPartIsAnError) {
  Interactions pairs = make({0, 0, 1, 1}, {1, 2, 1, 2});
  testing::expect_exact_error([&] { split_interactions(pairs, 2, SplitOptions{}); },
                              "the leave-last-out split leaves validation empty: no user has 3 or more interactions "
                              "(4 interactions); use --split time or less filtering");
  Interactions same_time = make({0, 1, 2}, {5, 5, 5});
  SplitOptions o;
  o.method = SplitMethod::kTime;
  testing::expect_error([&] { split_interactions(same_time, 3, o); }, "the time split leaves train empty");
}

}  // namespace
}  // namespace twotower
