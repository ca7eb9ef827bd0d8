#include "twotower/eval/eval_data.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "eval_test_util.h"
#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

using testing::add;
using Ids = std::vector<int64_t>;

std::vector<int64_t> to_vector(std::span<const int64_t> s) { return {s.begin(), s.end()}; }

// 3 users x 4 items (u2 has no evaluated interaction):
//   u0: i0 train r5, i1 train r3, i1 train r4 (a repeat), i2 valid r4, i3 test (no rating),
//       i0 test r2 (already in u0's history)
//   u1: i1 valid r2, i2 test r1, i2 test again (no rating)
//   u2: i3 train (no rating)
Interactions sample() {
  Interactions in;
  add(in, 0, 0, Split::kTrain, 5.0f);
  add(in, 0, 1, Split::kTrain, 3.0f);
  add(in, 0, 1, Split::kTrain, 4.0f);
  add(in, 0, 2, Split::kValid, 4.0f);
  add(in, 0, 3, Split::kTest);
  add(in, 0, 0, Split::kTest, 2.0f);
  add(in, 1, 1, Split::kValid, 2.0f);
  add(in, 1, 2, Split::kTest, 1.0f);
  add(in, 1, 2, Split::kTest);
  add(in, 2, 3, Split::kTrain);
  return in;
}

// Test split: history = train + valid rows. u0 {i0, i1, i1, i2} -> {0, 1, 2}; u1 {i1} -> {1};
// u2 {i3} -> {3}. item_degree counts the history rows: i0 1, i1 3 (u0 twice, u1), i2 1, i3 1.
// Test targets (u0, i3), (u0, i0), (u1, i2) twice -> distinct (0,0), (0,3), (1,2); (0,0) is in
// u0's history, so it is dropped and counted: targets u0 {3}, u1 {2}, u2 {}.
TEST(EvalData, TestSplitHistoryTargetsAndDegrees) {
  EvalData d = make_eval_data(sample(), 3, 4, Split::kTest);
  EXPECT_EQ(d.split, Split::kTest);
  EXPECT_EQ(d.num_users, 3);
  EXPECT_EQ(d.num_items, 4);
  EXPECT_EQ(d.history_offsets, (Ids{0, 3, 4, 5}));
  EXPECT_EQ(d.history_items, (Ids{0, 1, 2, 1, 3}));
  EXPECT_EQ(to_vector(d.history(0)), (Ids{0, 1, 2}));
  EXPECT_EQ(to_vector(d.history(2)), (Ids{3}));
  EXPECT_EQ(d.item_degree, (Ids{1, 3, 1, 1}));
  EXPECT_EQ(d.target_offsets, (Ids{0, 1, 2, 2}));
  EXPECT_EQ(to_vector(d.targets(0)), (Ids{3}));
  EXPECT_EQ(to_vector(d.targets(1)), (Ids{2}));
  EXPECT_TRUE(d.targets(2).empty());
  EXPECT_EQ(d.targets_already_seen, 1);
  EXPECT_EQ(d.eval_interactions, 4);  // the four test rows, repeats and seen ones included
  EXPECT_EQ(d.users_with_targets, 2);
}

// Rated pairs: fit = the train rows with a rating, (u0,i0,5), (u0,i1,3), (u0,i1,4) (u2's row has
// none); eval = the test rows with a rating, (u0,i0,2) and (u1,i2,1), kept row by row.
TEST(EvalData, RatedPairsOfTheTrainAndTheEvaluatedSplit) {
  EvalData d = make_eval_data(sample(), 3, 4, Split::kTest);
  EXPECT_TRUE(d.data_has_ratings);
  EXPECT_EQ(d.fit_users, (Ids{0, 0, 0}));
  EXPECT_EQ(d.fit_items, (Ids{0, 1, 1}));
  EXPECT_EQ(d.fit_ratings, (std::vector<double>{5.0, 3.0, 4.0}));
  EXPECT_EQ(d.eval_users, (Ids{0, 1}));
  EXPECT_EQ(d.eval_items, (Ids{0, 2}));
  EXPECT_EQ(d.eval_ratings, (std::vector<double>{2.0, 1.0}));
}

// Valid split: history = train rows only: u0 {0, 1}, u1 {}, u2 {3}; degrees i0 1, i1 2
// (u0 twice), i2 0, i3 1. Targets = the valid rows: u0 {2}, u1 {1}, none seen before.
// Test rows are neither history nor targets; the fit pairs stay the train's.
TEST(EvalData, ValidSplitUsesOnlyTrainAsHistory) {
  EvalData d = make_eval_data(sample(), 3, 4, Split::kValid);
  EXPECT_EQ(to_vector(d.history(0)), (Ids{0, 1}));
  EXPECT_TRUE(d.history(1).empty());
  EXPECT_EQ(to_vector(d.history(2)), (Ids{3}));
  EXPECT_EQ(d.item_degree, (Ids{1, 2, 0, 1}));
  EXPECT_EQ(to_vector(d.targets(0)), (Ids{2}));
  EXPECT_EQ(to_vector(d.targets(1)), (Ids{1}));
  EXPECT_EQ(d.targets_already_seen, 0);
  EXPECT_EQ(d.eval_interactions, 2);
  EXPECT_EQ(d.users_with_targets, 2);
  EXPECT_EQ(d.eval_items, (Ids{2, 1}));
  EXPECT_EQ(d.eval_ratings, (std::vector<double>{4.0, 2.0}));
  EXPECT_EQ(d.fit_ratings, (std::vector<double>{5.0, 3.0, 4.0}));
}

// No rating anywhere (NaN, or a rating column shorter than the rows): no rated pairs.
// An empty data set gives empty CSRs with num_users + 1 zero offsets.
TEST(EvalData, NoRatingsAndEmptyData) {
  Interactions in;
  add(in, 0, 0, Split::kTrain);
  add(in, 0, 1, Split::kTest);
  in.rating.clear();
  EvalData d = make_eval_data(in, 1, 2, Split::kTest);
  EXPECT_FALSE(d.data_has_ratings);
  EXPECT_TRUE(d.fit_ratings.empty());
  EXPECT_TRUE(d.eval_ratings.empty());
  EXPECT_EQ(to_vector(d.targets(0)), (Ids{1}));

  EvalData e = make_eval_data(Interactions{}, 2, 0, Split::kValid);
  EXPECT_EQ(e.history_offsets, (Ids{0, 0, 0}));
  EXPECT_EQ(e.target_offsets, (Ids{0, 0, 0}));
  EXPECT_TRUE(e.item_degree.empty());
  EXPECT_EQ(e.users_with_targets, 0);
}

// The Dataset overload reads the counts from the id lists: 2 users x 3 items, i2 never used.
TEST(EvalData, FromDataset) {
  Dataset data;
  data.user_ids = {"a", "b"};
  data.item_ids = {"x", "y", "z"};
  add(data.interactions, 0, 0, Split::kTrain);
  add(data.interactions, 1, 1, Split::kTest);
  EvalData d = make_eval_data(data, Split::kTest);
  EXPECT_EQ(d.num_users, 2);
  EXPECT_EQ(d.num_items, 3);
  EXPECT_EQ(d.item_degree, (Ids{1, 0, 0}));
  EXPECT_EQ(to_vector(d.targets(1)), (Ids{1}));
}

// A target already in history is dropped (it cannot be recommended) and counted.
TEST(EvalData, DropsTargetsAlreadySeen) {
  Interactions in;
  add(in, 0, 0, Split::kTrain);
  add(in, 0, 0, Split::kTest);
  add(in, 0, 1, Split::kTest);
  EvalData d = make_eval_data(in, 1, 2, Split::kTest);
  EXPECT_EQ(d.targets_already_seen, 1);
  EXPECT_EQ(Ids(d.targets(0).begin(), d.targets(0).end()), (Ids{1}));
}

TEST(EvalData, Errors) {
  Interactions in;
  add(in, 0, 5, Split::kTrain);
  testing::expect_exact_error([&] { make_eval_data(in, 1, 2, Split::kTest); }, "interaction 0: field \"item_idx\": got 5, expected [0, 2)");
  testing::expect_exact_error([&] { make_eval_data(Interactions{}, 1, 2, Split::kTrain); }, "evaluation split: got \"train\", expected \"valid\" or \"test\"");
}

std::string error_of(const Interactions& in, int64_t users, int64_t items, Split split) {
  try {
    make_eval_data(in, users, items, split);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(EvalData, ErrorsNameTheValue) {
  EXPECT_EQ(error_of(sample(), 3, 4, Split::kTrain), "evaluation split: got \"train\", expected \"valid\" or \"test\"");
  EXPECT_EQ(error_of(sample(), -1, 4, Split::kTest), "evaluation: got -1 users and 4 items, expected counts >= 0");
  // Row 4 is (u0, i3): item 3 lies outside 3 items; row 9 is (u2, i3): user 2 outside 2 users.
  EXPECT_EQ(error_of(sample(), 3, 3, Split::kTest), "interaction 4: field \"item_idx\": got 3, expected [0, 3)");
  EXPECT_EQ(error_of(sample(), 2, 4, Split::kTest), "interaction 9: field \"user_idx\": got 2, expected [0, 2)");
}

}  // namespace
}  // namespace twotower
