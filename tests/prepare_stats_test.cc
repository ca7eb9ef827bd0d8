#include "twotower/data/prepare_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace twotower {
namespace {

void add(Interactions& in, int64_t user, int64_t item, float rating, int64_t time, Split split) {
  in.user.push_back(user);
  in.item.push_back(item);
  in.rating.push_back(rating);
  in.timestamp.push_back(time);
  in.split.push_back(split);
}

// 3 users, 4 items of which 3 have interactions (item 3 is catalogue only), 5 interactions, the
// pair (user 0, item 0) twice, one rating missing.
Dataset tiny() {
  Dataset d;
  d.user_ids = {"u0", "u1", "u2"};
  d.item_ids = {"i0", "i1", "i2", "i3"};
  auto& in = d.interactions;
  add(in, 0, 0, 5.0f, 100, Split::kTrain);
  add(in, 0, 1, 4.0f, 200, Split::kTrain);
  add(in, 0, 0, 5.0f, 300, Split::kValid);
  add(in, 1, 1, NAN, 150, Split::kTest);
  add(in, 2, 2, 3.0f, 86400, Split::kTrain);
  d.items.resize(4);
  d.items.title = {"T0", "", "", "T3"};
  d.items.brand_vocab = {"<unknown>", "B"};
  d.items.brand_idx = {0, 1, 0, 0};
  d.items.category_vocab = {"<unknown>", "C1", "C2"};
  d.items.category_idx = {1, 2, 1, 0};
  d.items.description = {"", "", "D2", ""};
  return d;
}

// Each figure by hand:
//   sparsity = 1 - 5 / (3 users * 3 items with interactions) = 4/9
//   per user (3, 1, 1): min 1, median 1, mean 5/3, max 3
//   per item (2, 2, 1; item 3's 0 left out): min 1, median 2, mean 5/3, max 2
//   ratings 5, 4, 5, 3: 4 rated, mean 17/4 = 4.25, histogram {3: 1, 4: 1, 5: 2}
//   coverage of 4 items: title 2/4, brand 1/4, category 3/4, description 1/4; of the first 3:
//   title 1/3, brand 1/3, category 3/3, description 1/3.
TEST(DatasetStats, TinyDataByHand) {
  nlohmann::json s = dataset_stats(tiny(), 3, true);
  EXPECT_EQ(s["interactions"], 5);
  EXPECT_EQ(s["users"], 3);
  EXPECT_EQ(s["items"], 4);
  EXPECT_EQ(s["items_with_interactions"], 3);
  EXPECT_EQ(s["catalogue_only_items"], 1);
  EXPECT_DOUBLE_EQ(s["sparsity"].get<double>(), 1.0 - 5.0 / 9.0);
  EXPECT_EQ(s["interactions_per_user"]["min"], 1);
  EXPECT_DOUBLE_EQ(s["interactions_per_user"]["median"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(s["interactions_per_user"]["mean"].get<double>(), 5.0 / 3.0);
  EXPECT_EQ(s["interactions_per_user"]["max"], 3);
  EXPECT_DOUBLE_EQ(s["interactions_per_item"]["median"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(s["interactions_per_item"]["mean"].get<double>(), 5.0 / 3.0);
  EXPECT_EQ(s["interactions_per_item"]["max"], 2);
  EXPECT_EQ(s["repeated_pairs"], 1);
  EXPECT_EQ(s["ratings"]["rated"], 4);
  EXPECT_DOUBLE_EQ(s["ratings"]["mean"].get<double>(), 4.25);
  EXPECT_EQ(s["ratings"]["histogram"], (nlohmann::json{{"3", 1}, {"4", 1}, {"5", 2}}));
  EXPECT_EQ(s["ratings"]["histogram_complete"], true);
  EXPECT_EQ(s["timestamps"], (nlohmann::json{{"min", 100}, {"max", 86400}, {"are_times", true},
                                             {"min_utc", "1970-01-01T00:01:40Z"}, {"max_utc", "1970-01-02T00:00:00Z"}}));
  EXPECT_EQ(s["splits"], (nlohmann::json{{"train", 3}, {"valid", 1}, {"test", 1}}));
  const auto& all = s["metadata_coverage"]["all_items"];
  EXPECT_DOUBLE_EQ(all["title"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(all["brand"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(all["category"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(all["description"].get<double>(), 0.25);
  const auto& used = s["metadata_coverage"]["items_with_interactions"];
  EXPECT_DOUBLE_EQ(used["title"].get<double>(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(used["category"].get<double>(), 1.0);
  EXPECT_EQ(s["vocabularies"], (nlohmann::json{{"categories", 3}, {"brands", 2}}));
  // A count passed in is taken as is; positions (not times) get no UTC dates.
  nlohmann::json given = dataset_stats(tiny(), 3, false, 7);
  EXPECT_EQ(given["repeated_pairs"], 7);
  EXPECT_FALSE(given["timestamps"].contains("min_utc"));
}

// No interactions: no distributions, no ratings, no time range, sparsity 0 (no cells).
TEST(DatasetStats, EmptyData) {
  Dataset d;
  nlohmann::json s = dataset_stats(d, 0, true);
  EXPECT_EQ(s["interactions"], 0);
  EXPECT_DOUBLE_EQ(s["sparsity"].get<double>(), 0.0);
  EXPECT_TRUE(s["interactions_per_user"].is_null());
  EXPECT_TRUE(s["ratings"].is_null());
  EXPECT_FALSE(s.contains("timestamps"));
  EXPECT_EQ(s["splits"], (nlohmann::json{{"train", 0}, {"valid", 0}, {"test", 0}}));
}

// The summary prints thousands with commas and shares as percents with one decimal
// (0.98765 -> 98.8%), and only the lines that apply.
TEST(FormatSummary, EveryLine) {
  nlohmann::json s = {
      {"input",
       {{"reviews", "r.csv"}, {"format", "csv"}, {"lines", 1234567}, {"bad_lines", 2},
        {"bad_line_examples", {"r.csv:7: field \"rating\": got \"x\", expected a number"}}, {"meta", "m.json"},
        {"meta_lines", 1000}, {"meta_duplicate_ids", 3}, {"meta_bad_lines", 0}}},
      {"interactions", 12345}, {"users", 1000}, {"items_with_interactions", 900}, {"catalogue_only_items", 100},
      {"sparsity", 0.98765}, {"raw", {{"repeated_pairs", 1500}}}, {"repeated_pairs", 0},
      {"filters", {{"removed_duplicates", 1500}, {"removed_by_kcore", 20}}}, {"split_method", "leave_last_out"},
      {"splits", {{"train", 10345}, {"valid", 1000}, {"test", 1000}}},
      {"timestamps", {{"are_times", true}, {"min_utc", "2014-01-01T00:00:00Z"}, {"max_utc", "2014-12-31T00:00:00Z"}}},
      {"metadata_coverage", {{"all_items", {{"title", 1.0}, {"brand", 0.5}, {"category", 0.25}, {"description", 0.0}}}}},
      {"seconds", {{"total", 1.5}}}};
  EXPECT_EQ(format_summary(s, "out"),
            "prepared out\n"
            "  reviews   r.csv (csv, 1,234,567 lines, 2 bad lines skipped)\n"
            "  metadata  m.json (1,000 lines, 3 repeated ids)\n"
            "  interactions 12,345, users 1,000, items 900 with interactions + 100 catalogue only\n"
            "  sparsity 98.8%, repeated (user, item) pairs 1,500 in the input, 0 kept\n"
            "  removed 1,500 duplicates, 20 rows by k-core\n"
            "  split leave_last_out: train 10,345, valid 1,000, test 1,000\n"
            "  time 2014-01-01T00:00:00Z .. 2014-12-31T00:00:00Z\n"
            "  metadata coverage: title 100.0%, brand 50.0%, category 25.0%, description 0.0%\n"
            "  bad line: r.csv:7: field \"rating\": got \"x\", expected a number\n"
            "  1.5 s");
  // Without metadata, bad lines, filtering or times those lines are left out.
  s["input"] = {{"reviews", "r.csv"}, {"format", "csv"}, {"lines", 999}, {"bad_lines", 0}};
  s["catalogue_only_items"] = 0;
  s["filters"] = {{"removed_duplicates", 0}, {"removed_by_kcore", 0}};
  s["timestamps"]["are_times"] = false;
  EXPECT_EQ(format_summary(s, "out"),
            "prepared out\n"
            "  reviews   r.csv (csv, 999 lines)\n"
            "  interactions 12,345, users 1,000, items 900 with interactions\n"
            "  sparsity 98.8%, repeated (user, item) pairs 1,500 in the input, 0 kept\n"
            "  split leave_last_out: train 10,345, valid 1,000, test 1,000\n"
            "  metadata coverage: title 100.0%, brand 50.0%, category 25.0%, description 0.0%\n"
            "  1.5 s");
}

}  // namespace
}  // namespace twotower
