#include "twotower/data/extend.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/data/dataset.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_file;

// Ratings CSV rows: item,user,rating,timestamp.
constexpr const char* kOldReviews =
    "i1,u1,5,100\n"
    "i2,u1,4,101\n"
    "i3,u1,3,102\n"
    "i1,u2,5,103\n"
    "i2,u2,2,104\n"
    "i3,u2,1,105\n";
// u1 and i2 are known; u3 and i4, i5 are new; 4 rows.
constexpr const char* kNewReviews =
    "i4,u1,5,200\n"
    "i4,u3,4,201\n"
    "i2,u3,4,202\n"
    "i5,u3,3,203\n";

PrepareOptions options(const fs::path& reviews, const fs::path& out) {
  PrepareOptions o;
  o.reviews = reviews;
  o.out = out;
  return o;
}

// Prepares kOldReviews into dir/base (with `meta` when given) and returns that folder.
fs::path prepare_base(const TempDir& dir, const std::string& meta = "") {
  write_file(dir / "old.csv", kOldReviews);
  write_file(dir / "new.csv", kNewReviews);
  PrepareOptions o = options(dir / "old.csv", dir / "base");
  if (!meta.empty()) {
    write_file(dir / "old_meta.json", meta);
    o.meta = dir / "old_meta.json";
  }
  prepare(o);
  return dir / "base";
}

// Old users and items keep their index; new ones follow in order of first appearance; the old
// interactions come first, unchanged; stats count what is new (1 user: u3; 2 items: i4, i5; 4 rows).
TEST(Extend, KeepsOldIdsAndAppendsNewOnes) {
  TempDir dir;
  const fs::path base = prepare_base(dir);
  PrepareResult r = extend_prepared(base, options(dir / "new.csv", dir / "extended"));
  Dataset old = load_dataset(base), now = load_dataset(dir / "extended");
  EXPECT_EQ(now.user_ids, (std::vector<std::string>{"u1", "u2", "u3"}));
  EXPECT_EQ(now.item_ids, (std::vector<std::string>{"i1", "i2", "i3", "i4", "i5"}));
  ASSERT_EQ(now.interactions.size(), 10u);
  for (size_t r = 0; r < old.interactions.size(); ++r) {
    EXPECT_EQ(now.interactions.user[r], old.interactions.user[r]);
    EXPECT_EQ(now.interactions.item[r], old.interactions.item[r]);
  }
  // Row 8 is "i2,u3": user u3 = 2, item i2 = 1.
  EXPECT_EQ(now.interactions.user[8], 2);
  EXPECT_EQ(now.interactions.item[8], 1);
  const auto& e = r.stats["extend"];
  EXPECT_EQ(e["old_users"], 2);
  EXPECT_EQ(e["new_users"], 1);
  EXPECT_EQ(e["new_items"], 2);
  EXPECT_EQ(e["new_interactions"], 4);
  EXPECT_EQ(r.stats["interactions"], 10);
}

// Without metadata the extended folder equals prepare on the old reviews followed by the new
// ones: the same ids, interactions and split, leave-last-out (u1's last item is now the new i4)
// and time (cutoffs over all 10 timestamps: valid from the 9th, 202, test from the 10th, 203).
TEST(Extend, EqualsPrepareOnTheConcatenatedReviews) {
  for (SplitMethod method : {SplitMethod::kLeaveLastOut, SplitMethod::kTime}) {
    TempDir dir;
    const fs::path base = prepare_base(dir);
    PrepareOptions extend = options(dir / "new.csv", dir / "extended");
    extend.split.method = method;
    extend_prepared(base, extend);
    write_file(dir / "all.csv", std::string(kOldReviews) + kNewReviews);
    PrepareOptions whole = options(dir / "all.csv", dir / "whole");
    whole.split.method = method;
    prepare(whole);
    Dataset a = load_dataset(dir / "extended"), b = load_dataset(dir / "whole");
    EXPECT_EQ(a.user_ids, b.user_ids);
    EXPECT_EQ(a.item_ids, b.item_ids);
    EXPECT_EQ(a.interactions.user, b.interactions.user);
    EXPECT_EQ(a.interactions.item, b.interactions.item);
    EXPECT_EQ(a.interactions.timestamp, b.interactions.timestamp);
    EXPECT_EQ(a.interactions.split, b.interactions.split);
    EXPECT_EQ(a.splits["counts"], b.splits["counts"]);
    if (method == SplitMethod::kLeaveLastOut) {
      EXPECT_EQ(a.interactions.split[6], Split::kTest);  // "i4,u1": u1's newest
    } else {
      EXPECT_EQ(a.splits["valid_from"], 202);
      EXPECT_EQ(a.splits["test_from"], 203);
    }
  }
}

// Vocabularies keep every entry and index and grow with the new items' brands and categories;
// old items keep their features even when the catalogue now says otherwise.
TEST(Extend, FeatureVocabulariesGrow) {
  TempDir dir;
  const fs::path base = prepare_base(dir,
                                     "{\"asin\": \"i1\", \"title\": \"One\", \"brand\": \"Acme\", \"category\": [\"Games\"]}\n"
                                     "{\"asin\": \"i2\", \"title\": \"Two\", \"brand\": \"Acme\"}\n");
  write_file(dir / "meta.json",
             "{\"asin\": \"i1\", \"title\": \"One renamed\", \"brand\": \"Acme\", \"category\": [\"Games\"]}\n"
             "{\"asin\": \"i2\", \"title\": \"Two\", \"brand\": \"Acme\"}\n"
             "{\"asin\": \"i4\", \"title\": \"Four\", \"brand\": \"Zeta\", \"category\": [\"Games\", \"Cards\"]}\n"
             "{\"asin\": \"i9\", \"title\": \"Nine\", \"brand\": \"Acme\"}\n");
  PrepareOptions o = options(dir / "new.csv", dir / "extended");
  o.meta = dir / "meta.json";
  PrepareResult r = extend_prepared(base, o);
  Dataset old = load_dataset(base), now = load_dataset(dir / "extended");
  EXPECT_EQ(old.items.brand_vocab, (std::vector<std::string>{"<unknown>", "Acme"}));
  EXPECT_EQ(now.items.brand_vocab, (std::vector<std::string>{"<unknown>", "Acme", "Zeta"}));
  EXPECT_EQ(now.items.category_vocab, (std::vector<std::string>{"<unknown>", "Games", "Games > Cards"}));
  EXPECT_EQ(now.items.title[0], "One");
  // i4 (index 3): brand Zeta = 2, categories [Games = 1, Games > Cards = 2].
  EXPECT_EQ(now.items.brand_idx[3], 2);
  EXPECT_EQ(now.items.category_ids[3], (std::vector<int32_t>{1, 2}));
  // i5 has no record; i9 is catalogue-only and follows the reviewed new items.
  EXPECT_EQ(now.items.title[4], "");
  EXPECT_EQ(now.item_ids.back(), "i9");
  EXPECT_EQ(r.stats["extend"]["new_items_catalogue_only"], 1);
}

// A catalogue that lacks an item the base had metadata for is refused, naming the file, the item
// and its index; nothing is written.
TEST(Extend, RemovedItemIsRefused) {
  TempDir dir;
  const fs::path base = prepare_base(dir, "{\"asin\": \"i1\", \"title\": \"One\"}\n{\"asin\": \"i2\", \"title\": \"Two\"}\n");
  write_file(dir / "meta.json", "{\"asin\": \"i2\", \"title\": \"Two\"}\n");
  PrepareOptions o = options(dir / "new.csv", dir / "extended");
  o.meta = dir / "meta.json";
  testing::expect_error([&] { extend_prepared(base, o); },
                        "meta.json: item \"i1\" (item_idx 0 of " + (base / "iid2idx.json").string() +
                            "): got no record, expected one for every item of the base folder that had metadata");
  EXPECT_FALSE(fs::exists(dir / "extended"));
}

// Filters, the base as the output and a folder that is not prepared are refused before any work.
TEST(Extend, BadOptionsAreRefused) {
  TempDir dir;
  const fs::path base = prepare_base(dir);
  PrepareOptions o = options(dir / "new.csv", dir / "extended");
  o.min_user_interactions = o.min_item_interactions = 5;
  testing::expect_error([&] { extend_prepared(base, o); }, "--kcore: got 5, expected 0 with --extend");
  o = options(dir / "new.csv", base);
  o.overwrite = true;
  testing::expect_error([&] { extend_prepared(base, o); }, "the --extend folder itself; expected a new folder");
  o = options(dir / "new.csv", dir / "extended");
  testing::expect_error([&] { extend_prepared(dir / "nothing", o); },
                        "--extend: got " + (dir / "nothing").string() + ", expected a prepared folder");
  EXPECT_FALSE(fs::exists(dir / "extended"));
  EXPECT_TRUE(fs::exists(base / "uid2idx.json"));
}

// twotower embed's cache travels with the data, so only new texts are embedded again.
TEST(Extend, CopiesTheEmbedCache) {
  TempDir dir;
  const fs::path base = prepare_base(dir);
  fs::create_directories(base / "embed_cache");
  write_file(base / "embed_cache" / "model.npz", "vectors");
  extend_prepared(base, options(dir / "new.csv", dir / "extended"));
  EXPECT_EQ(testing::read_file(dir / "extended" / "embed_cache" / "model.npz"), "vectors");
}

}  // namespace
}  // namespace twotower
