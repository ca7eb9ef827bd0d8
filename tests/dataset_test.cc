#include "twotower/data/dataset.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

using testing::TempDir;

Dataset tiny_dataset() {
  Dataset d;
  d.user_ids = {"alice", "bob"};
  d.item_ids = {"i0", "i1", "i2"};
  d.interactions.user = {0, 0, 1, 1};
  d.interactions.item = {0, 1, 1, 2};
  d.interactions.rating = {5.0f, NAN, 3.0f, 1.0f};
  d.interactions.timestamp = {10, 20, 30, 40};
  d.interactions.split = {Split::kTrain, Split::kValid, Split::kTrain, Split::kTest};
  d.items.resize(3);
  d.items.title = {"A", "B", "C"};
  d.items.category_vocab = {"<unknown>", "Books", "Books > Magazines"};
  d.items.category_idx = {2, 0, 1};
  d.items.category_ids = {{1, 2}, {}, {1}};
  d.items.brand_vocab = {"<unknown>", "Acme"};
  d.items.brand_idx = {1, 0, 0};
  d.splits = {{"method", "test"}};
  return d;
}

// What save_dataset writes, load_dataset reads back unchanged (NaN ratings stay NaN).
TEST(Dataset, RoundTrip) {
  TempDir dir;
  save_dataset(tiny_dataset(), dir.path());
  Dataset back = load_dataset(dir.path());
  EXPECT_EQ(back.user_ids, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(back.item_ids, (std::vector<std::string>{"i0", "i1", "i2"}));
  EXPECT_EQ(back.interactions.item, (std::vector<int64_t>{0, 1, 1, 2}));
  EXPECT_EQ(back.interactions.timestamp, (std::vector<int64_t>{10, 20, 30, 40}));
  EXPECT_TRUE(std::isnan(back.interactions.rating[1]));
  EXPECT_FLOAT_EQ(back.interactions.rating[2], 3.0f);
  EXPECT_EQ(back.interactions.split[3], Split::kTest);
  EXPECT_EQ(back.items.title[2], "C");
  EXPECT_EQ(back.items.category_idx, (std::vector<int32_t>{2, 0, 1}));
  EXPECT_EQ(back.items.category_ids[0], (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(back.items.brand_vocab[1], "Acme");
  EXPECT_EQ(back.rows_of(Split::kTrain), (std::vector<int64_t>{0, 2}));
}

// Loading without the item text gives the same ids, interactions and feature indices, and
// leaves the text columns empty instead of one empty string per item.
TEST(Dataset, SkipItemTextKeepsFeatures) {
  TempDir dir;
  save_dataset(tiny_dataset(), dir.path());
  Dataset back = load_dataset(dir.path(), ItemText::kSkip);
  EXPECT_EQ(back.item_ids, (std::vector<std::string>{"i0", "i1", "i2"}));
  EXPECT_EQ(back.interactions.item, (std::vector<int64_t>{0, 1, 1, 2}));
  EXPECT_EQ(back.items.category_idx, (std::vector<int32_t>{2, 0, 1}));
  EXPECT_EQ(back.items.brand_idx, (std::vector<int32_t>{1, 0, 0}));
  EXPECT_EQ(back.items.category_ids[0], (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(back.items.brand_vocab[1], "Acme");
  EXPECT_TRUE(back.items.title.empty());
  EXPECT_TRUE(back.items.text.empty());
  EXPECT_TRUE(back.items.description.empty());
}

// An id map with a repeated index is rejected with the file and the value.
TEST(Dataset, IdMapRejectsRepeatedIndex) {
  TempDir dir;
  testing::write_file(dir / "m.json", R"({"a": 0, "b": 0})");
  testing::expect_error([&] { read_id_map(dir / "m.json"); },
                        "m.json: field \"b\": got 0, expected a unique index in [0, 2)");
}

TEST(Error, InputErrorFormat) {
  EXPECT_EQ(input_error("reviews.json.gz", 1042, "overall", "\"five\"", "a number"),
            "reviews.json.gz:1042: field \"overall\": got \"five\", expected a number");
}

}  // namespace
}  // namespace twotower
