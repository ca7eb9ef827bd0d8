#include "twotower/eval/baselines.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "eval_test_util.h"
#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/eval/evaluator.h"

namespace twotower {
namespace {

using testing::add;
using Ids = std::vector<int64_t>;

// History (train): u0 {0, 1}, u1 {0, 1, 2}, u2 {1, 2}; valid: u0 {3}; test: u1 {3}.
EvalData tiny(Split split) {
  Interactions in;
  add(in, 0, 0, Split::kTrain);
  add(in, 0, 1, Split::kTrain);
  add(in, 1, 0, Split::kTrain);
  add(in, 1, 1, Split::kTrain);
  add(in, 1, 2, Split::kTrain);
  add(in, 2, 1, Split::kTrain);
  add(in, 2, 2, Split::kTrain);
  add(in, 0, 3, Split::kValid);
  add(in, 1, 3, Split::kTest);
  return make_eval_data(in, 3, 4, split);
}

// Popularity = history interactions per item. Valid: train only -> [2, 3, 2, 0];
// test: train + valid -> item 3 gains u0's valid interaction -> [2, 3, 2, 1].
TEST(Popularity, CountsTheHistoryBeforeTheSplit) {
  EvalData valid = tiny(Split::kValid), test = tiny(Split::kTest);
  std::vector<float> out(4);
  PopularityScorer(valid).score_users(Ids{2}, out.data());
  EXPECT_EQ(out, (std::vector<float>{2, 3, 2, 0}));
  PopularityScorer(test).score_users(Ids{2}, out.data());
  EXPECT_EQ(out, (std::vector<float>{2, 3, 2, 1}));
}

// Users per item (valid history): 0: {u0, u1}, 1: {u0, u1, u2}, 2: {u1, u2}.
// sim(0,1) = 2/sqrt(2*3) = 0.816497; sim(0,2) = 1/sqrt(2*2) = 0.5; sim(1,2) = 2/sqrt(6) = 0.816497.
// One neighbour per column j: j=0 keeps 1; j=1 keeps 0 (tie with 2, lower id); j=2 keeps 1.
// So W[1,0] = W[0,1] = W[1,2] = 0.816497 and u0 (history {0, 1}) scores
// [W[1,0], W[0,1], W[1,2], 0] = [0.816, 0.816, 0.816, 0].
TEST(ItemKnn, HandComputedOneNeighbour) {
  EvalData d = tiny(Split::kValid);
  ItemKnnScorer knn(d, 1);
  const float s = static_cast<float>(2.0 / std::sqrt(6.0));
  std::vector<float> out(4);
  knn.score_users(Ids{0}, out.data());
  EXPECT_NEAR(out[0], s, 1e-6);
  EXPECT_NEAR(out[1], s, 1e-6);
  EXPECT_NEAR(out[2], s, 1e-6);
  EXPECT_EQ(out[3], 0.0f);
  // u2 (history {1, 2}): [W[1,0], W[2,1], W[1,2], 0] = [0.816, 0, 0.816, 0].
  knn.score_users(Ids{2}, out.data());
  EXPECT_NEAR(out[0], s, 1e-6);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_NEAR(out[2], s, 1e-6);
  // Pair scores equal the row scores.
  std::vector<float> pairs(3);
  knn.score_pairs(Ids{2, 2, 0}, Ids{0, 1, 2}, pairs.data());
  EXPECT_EQ(pairs, (std::vector<float>{out[0], out[1], s}));
}

// With every neighbour kept, u2's score of item 0 = sim(1,0) + sim(2,0) = 0.816497 + 0.5.
TEST(ItemKnn, AllNeighbours) {
  EvalData d = tiny(Split::kValid);
  ItemKnnScorer knn(d, 100);
  std::vector<float> out(4);
  knn.score_users(Ids{2}, out.data());
  EXPECT_NEAR(out[0], 2.0 / std::sqrt(6.0) + 0.5, 1e-6);
}

TEST(ItemKnn, Errors) {
  EvalData d = tiny(Split::kValid);
  testing::expect_exact_error([&] { ItemKnnScorer(d, 0); }, "item-kNN: field \"neighbours\": got 0, expected >= 1");
  ItemKnnScorer knn(d, 5);
  std::vector<float> out(4);
  testing::expect_exact_error([&] { knn.score_users(Ids{3}, out.data()); },
                              "item-kNN scorer: user id 3 outside [0, 3)");
}

// The protocol check on real data (Games, leave-last-out by timestamp, test = last item,
// train + valid excluded, ties against the target), computed outside the project:
// popularity Recall@10 0.0122, NDCG@10 0.0065; item-kNN (cosine, 100 neighbours) about
// 0.092 and 0.056.
TEST(GamesCheck, BaselinesReproduceTheProtocolCheck) {
  const auto path = testing::shared_data() / "amazon-2018/games/Games.inter.gz";
  TWOTOWER_REQUIRE_SHARED(path);
  Dataset games = testing::load_recbole_leave_last_out(path.string());
  ASSERT_EQ(games.num_users(), 50546);
  ASSERT_EQ(games.num_items(), 16859);
  EvalData test = make_eval_data(games, Split::kTest);
  EvalOptions o;
  o.ks = {10, 20};
  RankingMetrics pop = evaluate_ranking(test, PopularityScorer(test), o);
  EXPECT_EQ(pop.all.users, 50546);
  std::printf("popularity: recall@10 %.6f ndcg@10 %.6f recall@20 %.6f ndcg@20 %.6f (%.2f s)\n",
              pop.value("recall@10"), pop.value("ndcg@10"), pop.value("recall@20"), pop.value("ndcg@20"),
              pop.seconds);
  // To the third significant digit.
  EXPECT_NEAR(pop.value("recall@10"), 0.0122, 0.00005);
  EXPECT_NEAR(pop.value("ndcg@10"), 0.0065, 0.00005);

  ItemKnnScorer knn_scorer(test, 100);
  RankingMetrics knn = evaluate_ranking(test, knn_scorer, o);
  std::printf("itemknn: recall@10 %.6f ndcg@10 %.6f recall@20 %.6f ndcg@20 %.6f (%.2f s)\n",
              knn.value("recall@10"), knn.value("ndcg@10"), knn.value("recall@20"), knn.value("ndcg@20"),
              knn.seconds);
  // "About": within 0.002.
  EXPECT_NEAR(knn.value("recall@10"), 0.092, 0.002);
  EXPECT_NEAR(knn.value("ndcg@10"), 0.056, 0.002);
}

}  // namespace
}  // namespace twotower
