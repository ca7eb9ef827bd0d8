#include "twotower/data/prepare.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <map>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/dataset.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

fs::path amazon(const std::string& relative) { return testing::shared_data() / "amazon-2018" / relative; }

struct Expected {
  std::string reviews, meta;
  int64_t interactions, users, items, repeated_pairs;
};

// Every data set of shared/data/amazon-2018 reproduces its README's interactions, users, items
// (with reviews) and repeated (user, item) pairs; ids round-trip through the written maps.
class SharedDataCounts : public ::testing::TestWithParam<Expected> {};

void PrintTo(const Expected& e, std::ostream* os) { *os << e.reviews; }

std::string case_name(const ::testing::TestParamInfo<Expected>& info) {
  std::string name = fs::path(info.param.reviews).filename().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

TEST_P(SharedDataCounts, MatchTheReadme) {
  const Expected& e = GetParam();
  TWOTOWER_REQUIRE_SHARED(amazon(e.reviews));
  TempDir dir;
  PrepareOptions o;
  o.reviews = amazon(e.reviews);
  if (!e.meta.empty()) o.meta = amazon(e.meta);
  o.out = dir / "prepared";
  PrepareResult r = prepare(o);
  EXPECT_EQ(r.stats["interactions"], e.interactions);
  EXPECT_EQ(r.stats["users"], e.users);
  EXPECT_EQ(r.stats["items_with_interactions"], e.items);
  EXPECT_EQ(r.stats["raw"]["repeated_pairs"], e.repeated_pairs);

  Dataset d = load_dataset(o.out);
  EXPECT_EQ(static_cast<int64_t>(d.interactions.size()), e.interactions);
  EXPECT_EQ(d.num_users(), e.users);
  EXPECT_EQ(static_cast<int64_t>(d.items.title.size()), d.num_items());
  // Leave-last-out: every user has exactly one test row when they have 2+ interactions.
  auto counts = d.splits["counts"];
  EXPECT_EQ(counts["train"].get<int64_t>() + counts["valid"].get<int64_t>() + counts["test"].get<int64_t>(),
            e.interactions);
  EXPECT_GT(counts["valid"].get<int64_t>(), 0);
  EXPECT_TRUE(fs::exists(o.out / "stats.json"));
  EXPECT_TRUE(fs::exists(o.out / "features.json"));
}

INSTANTIATE_TEST_SUITE_P(
    Amazon2018, SharedDataCounts,
    ::testing::Values(Expected{"gift_cards/Gift_Cards_5.json.gz", "gift_cards/meta_Gift_Cards.json.gz", 2972, 458, 148, 7},
                      Expected{"magazine/Magazine_Subscriptions_5.json.gz",
                               "magazine/meta_Magazine_Subscriptions.json.gz", 2375, 348, 157, 73},
                      Expected{"magazine/Magazine_Subscriptions.csv.gz", "", 89689, 72098, 2428, 1371},
                      Expected{"fashion/AMAZON_FASHION_5.json.gz", "", 3176, 406, 31, 134},
                      Expected{"games/Games.inter.gz", "games/Games.item.gz", 440264, 50546, 16859, 0}),
    case_name);

// Gift Cards: the metadata lists 1,547 items, 148 reviewed, so 1,399 are catalogue only and
// get indices 148..1546; reviewed items keep theirs.
TEST(Prepare, GiftCardsCatalogueOnlyItemsFollowReviewedOnes) {
  TWOTOWER_REQUIRE_SHARED(amazon("gift_cards/meta_Gift_Cards.json.gz"));
  TempDir dir;
  PrepareOptions o;
  o.reviews = amazon("gift_cards/Gift_Cards_5.json.gz");
  o.meta = amazon("gift_cards/meta_Gift_Cards.json.gz");
  o.out = dir / "gift";
  PrepareResult r = prepare(o);
  EXPECT_EQ(r.stats["items"], 1547);
  EXPECT_EQ(r.stats["catalogue_only_items"], 1399);
  Dataset d = load_dataset(o.out);
  for (int64_t item : d.interactions.item) ASSERT_LT(item, 148);
  EXPECT_EQ(r.stats["items_with_metadata"], 148);
  o.out = dir / "gift-reviewed";
  o.reviewed_items_only = true;
  EXPECT_EQ(prepare(o).stats["items"], 148);
}

// Magazine: meta titles are HTML fragments; the cleaned title and text hold no tags or entities.
TEST(Prepare, MagazineTitlesAreCleaned) {
  TWOTOWER_REQUIRE_SHARED(amazon("magazine/meta_Magazine_Subscriptions.json.gz"));
  TempDir dir;
  PrepareOptions o;
  o.reviews = amazon("magazine/Magazine_Subscriptions_5.json.gz");
  o.meta = amazon("magazine/meta_Magazine_Subscriptions.json.gz");
  o.out = dir / "mag";
  PrepareResult r = prepare(o);
  // 3,385 metadata lines hold distinct ids for every item except the repeated lines.
  EXPECT_EQ(r.stats["input"]["meta_lines"].get<int64_t>() - r.stats["input"]["meta_duplicate_ids"].get<int64_t>(),
            r.stats["items_with_metadata"].get<int64_t>() + r.stats["catalogue_only_items"].get<int64_t>());
  Dataset d = load_dataset(o.out);
  int64_t with_text = 0;
  for (size_t i = 0; i < d.items.title.size(); ++i) {
    for (const std::string* s : {&d.items.title[i], &d.items.text[i]}) {
      ASSERT_EQ(s->find("<span"), std::string::npos) << *s;
      ASSERT_EQ(s->find("&amp;"), std::string::npos) << *s;
    }
    with_text += !d.items.text[i].empty();
  }
  // Descriptions cover about 81% of the items (README), so most items still have text.
  EXPECT_GT(with_text, d.num_items() / 2);
}

// Games has no ratings: every rating is NaN in memory, null in the parquet file.
TEST(Prepare, GamesHasNullRatingsAndPositionTimestamps) {
  TWOTOWER_REQUIRE_SHARED(amazon("games/Games.inter.gz"));
  TempDir dir;
  PrepareOptions o;
  o.reviews = amazon("games/Games.inter.gz");
  o.out = dir / "games";
  PrepareResult r = prepare(o);
  EXPECT_TRUE(r.stats["ratings"].is_null());
  EXPECT_FALSE(r.stats["timestamps"]["are_times"].get<bool>());
  EXPECT_EQ(r.stats["timestamps"]["max"], 49);  // histories are capped at 50 items
  // Leave-last-out on Games: one test and one valid row per user (every history has >= 3).
  EXPECT_EQ(r.stats["splits"]["test"], 50546);
  EXPECT_EQ(r.stats["splits"]["valid"], 50546);
  Dataset d = load_dataset(o.out);
  EXPECT_TRUE(std::isnan(d.interactions.rating[0]));
}

void write_reviews(const fs::path& path, int users, int per_user) {
  std::string text;
  for (int u = 0; u < users; ++u) {
    for (int k = 0; k < per_user; ++k) {
      text += str_cat(R"({"reviewerID": "U)", u, R"(", "asin": "I)", (u + k) % 7, R"(", "overall": )", 1 + k % 5,
                      R"(, "unixReviewTime": )", 1000 + 10 * k + u, "}\n");
    }
  }
  testing::write_file(path, text);
}

// An existing folder is never clobbered without overwrite, and a failed run leaves nothing.
TEST(Prepare, OutputIsAtomicAndNeverClobbered) {
  TempDir dir;
  write_reviews(dir / "r.json", 4, 5);
  PrepareOptions o;
  o.reviews = dir / "r.json";
  o.out = dir / "out";
  prepare(o);
  testing::expect_exact_error([&] { prepare(o); },
                              (dir / "out").string() + ": already exists; pass --overwrite to replace it");
  o.overwrite = true;
  o.split.method = SplitMethod::kTime;
  prepare(o);
  EXPECT_EQ(load_dataset(o.out).splits["method"], "time");

  testing::write_file(dir / "bad.json", "{\"reviewerID\": \"U\", \"asin\": \"I\", \"overall\": 1, \"unixReviewTime\": 1}\n{oops\n");
  o.reviews = dir / "bad.json";
  o.out = dir / "never";
  EXPECT_THROW(prepare(o), Error);
  EXPECT_FALSE(fs::exists(dir / "never"));
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".never.tmp"), std::string::npos);
  }
}

// What a killed run left beside the folder: its temporary folder is removed, and a folder it had
// moved aside (killed between the two renames where the file system has no atomic exchange) is
// put back when the folder is missing, so a run without --overwrite refuses to replace it.
TEST(Prepare, CleansUpAfterAKilledRun) {
  TempDir dir;
  write_reviews(dir / "r.json", 4, 5);
  pid_t dead = fork();  // a process id that no longer runs
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string pid = std::to_string(dead);
  fs::create_directories(dir / ("out.old-" + pid));
  testing::write_file(dir / ("out.old-" + pid) / "mine.txt", "the old folder");
  fs::create_directories(dir / (".out.tmp-" + pid));
  PrepareOptions o;
  o.reviews = dir / "r.json";
  o.out = dir / "out";
  testing::expect_error([&] { prepare(o); }, "already exists; pass --overwrite");
  EXPECT_EQ(testing::read_file(dir / "out" / "mine.txt"), "the old folder");
  EXPECT_FALSE(fs::exists(dir / ("out.old-" + pid)));
  EXPECT_FALSE(fs::exists(dir / (".out.tmp-" + pid)));
  o.overwrite = true;
  prepare(o);
  EXPECT_FALSE(fs::exists(dir / "out" / "mine.txt"));
  EXPECT_TRUE(fs::exists(dir / "out" / "interactions_mapped.parquet"));
}

// k-core and duplicate handling are applied before splitting and renumbering.
TEST(Prepare, KCoreAndDuplicates) {
  TempDir dir;
  // U0 rates I0 twice and I1 once; U1 rates I0 once; U2 rates I0, I1, I2.
  testing::write_file(dir / "r.csv", "I0,U0,5,1\nI0,U0,4,2\nI1,U0,3,3\nI0,U1,2,4\nI0,U2,1,5\nI1,U2,1,6\nI2,U2,1,7\n");
  PrepareOptions o;
  o.reviews = dir / "r.csv";
  o.out = dir / "a";
  o.duplicates = DuplicatePolicy::kKeepLast;
  o.min_user_interactions = 2;
  o.min_item_interactions = 2;
  o.split.method = SplitMethod::kTime;
  o.split.train_fraction = 0.5;
  o.split.valid_fraction = 0.25;
  PrepareResult r = prepare(o);
  // Keep-last drops row 0; 2-core drops U1 (1 row) and I2 (1 row): rows (I0,U0,t2) (I1,U0,t3)
  // (I0,U2,t5) (I1,U2,t6) remain: 2 users, 2 items.
  EXPECT_EQ(r.stats["interactions"], 4);
  EXPECT_EQ(r.stats["users"], 2);
  EXPECT_EQ(r.stats["items"], 2);
  EXPECT_EQ(r.stats["filters"]["removed_duplicates"], 1);
  EXPECT_EQ(r.stats["filters"]["removed_by_kcore"], 2);
  Dataset d = load_dataset(o.out);
  EXPECT_EQ(d.user_ids, (std::vector<std::string>{"U0", "U2"}));
  EXPECT_EQ(d.interactions.timestamp, (std::vector<int64_t>{2, 3, 5, 6}));
  EXPECT_EQ(d.interactions.rating[0], 4.0f);
}

// --sample-users keeps every row of the users drawn and nothing of the others; the stats say so.
TEST(Prepare, SampleUsersKeepsAllTheirRows) {
  TempDir dir;
  // U0 3 rows, U1 1, U2 2, U3 1, U4 2.
  testing::write_file(dir / "r.csv", "I0,U0,5,1\nI1,U0,4,2\nI2,U0,3,3\nI0,U1,2,4\nI1,U2,1,5\nI2,U2,1,6\n"
                                     "I3,U3,1,7\nI0,U4,1,8\nI3,U4,1,9\n");
  const std::map<std::string, int64_t> rows{{"U0", 3}, {"U1", 1}, {"U2", 2}, {"U3", 1}, {"U4", 2}};
  PrepareOptions o;
  o.reviews = dir / "r.csv";
  o.out = dir / "a";
  o.sample_users = 2;
  o.sample_seed = 7;
  PrepareResult r = prepare(o);
  Dataset d = load_dataset(o.out);
  ASSERT_EQ(d.user_ids.size(), 2u);
  const int64_t expected = rows.at(d.user_ids[0]) + rows.at(d.user_ids[1]);
  EXPECT_EQ(static_cast<int64_t>(d.interactions.size()), expected);
  EXPECT_EQ(r.stats["filters"]["sample_users"], 2);
  EXPECT_EQ(r.stats["filters"]["sample_seed"], 7);
  EXPECT_EQ(r.stats["filters"]["removed_by_sampling"], 9 - expected);
  // The same seed draws the same users.
  o.out = dir / "b";
  prepare(o);
  EXPECT_EQ(load_dataset(o.out).user_ids, d.user_ids);
}

// Running the CLI: bad input is one line on stderr with exit code 1, no stack trace.
TEST(PrepareCli, BadInputIsOneLine) {
  TempDir dir;
  testing::write_file(dir / "r.json", R"({"reviewerID": "U1", "asin": "I1", "overall": "five", "unixReviewTime": 1})" "\n");
  std::string output;
  int code = testing::run_command(testing::cli_path().string() + " prepare -q --reviews " + (dir / "r.json").string() +
                                      " --out " + (dir / "out").string(),
                                  &output);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(output, "twotower: error: " + (dir / "r.json").string() +
                        ":1: field \"overall\": got \"five\", expected a number\n");
  code = testing::run_command(testing::cli_path().string() + " prepare -q --reviews " + (dir / "r.json").string() +
                                  " --out " + (dir / "out").string() + " --split sideways",
                              &output);
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("--split: got \"sideways\", expected loo"), std::string::npos) << output;
}

// --skip-bad-lines: the summary counts bad lines and shows the first ones.
TEST(PrepareCli, SkipBadLinesSummary) {
  TempDir dir;
  write_reviews(dir / "r.json", 3, 4);
  std::string text = testing::read_file(dir / "r.json") + "{broken\n";
  testing::write_file(dir / "r.json", text);
  std::string output;
  int code = testing::run_command(testing::cli_path().string() + " prepare --reviews " + (dir / "r.json").string() +
                                      " --out " + (dir / "out").string() + " --skip-bad-lines",
                                  &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("1 bad lines skipped"), std::string::npos) << output;
  EXPECT_NE(output.find("bad line: " + (dir / "r.json").string() + ":13: got malformed JSON"), std::string::npos)
      << output;
}

}  // namespace
}  // namespace twotower
