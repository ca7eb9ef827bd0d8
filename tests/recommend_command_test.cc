// `twotower export`, `recommend` and `similar` through the built CLI on a tiny trained run.
#include <gtest/gtest.h>

#include <sstream>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/data/parquet_io.h"
#include "twotower/serve/export/export_catalogue.h"
#include "twotower/serve/recommender.h"
#include "twotower/train/trainer.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;

class RecommendCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    testing::prepare_generated(dir_->path(), 100, 60, 2000);
    Config c = testing::tiny_config(*dir_ / "data", *dir_ / "run");
    c.model.user_history = 3;
    c.training.num_epochs = 1;
    run_training(c, {});
    std::string out;
    const int rc = twotower("export --run " + (*dir_ / "run").string() + " --out " +
                                        (*dir_ / "export").string(), &out, true);
    ASSERT_EQ(rc, 0) << out;
    catalogue_ = new ExportCatalogue(read_export_catalogue(*dir_ / "export/v000001"));
  }
  static void TearDownTestSuite() {
    delete catalogue_;
    delete dir_;
  }
  static std::string cli() { return testing::cli_path().string(); }
  // Runs `twotower <args>` with stdout (and stderr when `with_log`) into `out`; the exit code.
  static int twotower(const std::string& args, std::string* out, bool with_log = false) {
    return testing::run_command(cli() + " " + args + (with_log ? " 2>&1" : " 2>/dev/null"), out);
  }
  static std::string export_flag() { return " --export " + (*dir_ / "export").string(); }
  // The item ids of a printed list (second column of the lines after the header).
  static std::vector<std::string> printed_ids(const std::string& out) {
    std::istringstream in(out);
    std::vector<std::string> ids;
    std::string line;
    bool table = false;
    while (std::getline(in, line)) {
      if (table && !line.empty() && line[0] != '[') {
        std::istringstream fields(line);
        std::string rank, id;
        std::getline(fields, rank, '\t');
        std::getline(fields, id, '\t');
        ids.push_back(id);
      }
      if (line.rfind("rank\t", 0) == 0) table = true;
    }
    return ids;
  }

  static testing::TempDir* dir_;
  static ExportCatalogue* catalogue_;
};
testing::TempDir* RecommendCommand::dir_ = nullptr;
ExportCatalogue* RecommendCommand::catalogue_ = nullptr;

std::vector<std::string> ids_of(const std::vector<Recommendation>& recs) {
  std::vector<std::string> out;
  for (const Recommendation& r : recs) out.push_back(r.item_id);
  return out;
}

// --user prints the source and the library's list; --history goes through the user tower.
TEST_F(RecommendCommand, UserAndHistoryListsEqualTheLibrarys) {
  Recommender lib(*dir_ / "export");
  const std::string user = catalogue_->user_ids[4];
  std::string out;
  ASSERT_EQ(twotower("recommend" + export_flag() + " --user " + user + " --k 4 --exclude-seen", &out), 0) << out;
  EXPECT_NE(out.find("source: known_user"), std::string::npos) << out;
  EXPECT_EQ(printed_ids(out), ids_of(lib.recommend({user, {}, 4, true, {}}).items)) << out;
  const std::vector<std::string> history = {catalogue_->item_ids[1], catalogue_->item_ids[2]};
  const std::string flags = " --history " + history[0] + "," + history[1] + " --k 3";
  ASSERT_EQ(twotower("recommend" + export_flag() + flags, &out), 0) << out;
  EXPECT_NE(out.find("source: history"), std::string::npos) << out;
  EXPECT_EQ(printed_ids(out), ids_of(lib.recommend({"", history, 3, false, {}}).items)) << out;
  ASSERT_EQ(twotower("recommend" + export_flag(), &out), 0) << out;
  EXPECT_NE(out.find("source: popularity"), std::string::npos) << out;
}

// --users writes Parquet rows (user_id, rank, item_id, score), k per user, in the file's order.
TEST_F(RecommendCommand, UsersFileWritesParquet) {
  testing::write_file(*dir_ / "users.txt", catalogue_->user_ids[0] + "\n\n" + catalogue_->user_ids[9] + "\n");
  std::string out;
  ASSERT_EQ(twotower("recommend" + export_flag() + " --users " + (*dir_ / "users.txt").string() +
                                 " --out " + (*dir_ / "lists.parquet").string() + " --k 3", &out, true), 0) << out;
  ParquetTable t(*dir_ / "lists.parquet");
  EXPECT_EQ(t.string_column("user_id"), (std::vector<std::string>{catalogue_->user_ids[0], catalogue_->user_ids[0],
            catalogue_->user_ids[0], catalogue_->user_ids[9], catalogue_->user_ids[9], catalogue_->user_ids[9]}));
  EXPECT_EQ(t.int64_column("rank"), (std::vector<int64_t>{1, 2, 3, 1, 2, 3}));
  Recommender lib(*dir_ / "export");
  const RecommendResult r9 = lib.recommend({catalogue_->user_ids[9], {}, 3, false, {}});
  const std::vector<std::string> items = t.string_column("item_id");
  EXPECT_EQ(std::vector<std::string>(items.begin() + 3, items.end()), ids_of(r9.items));
  EXPECT_NEAR(t.float_column("score")[3], r9.items[0].score, 1e-4);
}

// similar prints the library's neighbours.
TEST_F(RecommendCommand, SimilarPrintsNeighbours) {
  Recommender lib(*dir_ / "export");
  std::string out;
  const std::string flags = " --item " + catalogue_->item_ids[3] + " --k 5 --index hnsw";
  ASSERT_EQ(twotower("similar" + export_flag() + flags, &out), 0) << out;
  EXPECT_EQ(printed_ids(out), ids_of(lib.similar(catalogue_->item_ids[3], 5))) << out;
}

// Unknown ids, two query modes, a bad index and --users without --out fail with a message.
TEST_F(RecommendCommand, ErrorsNameTheProblem) {
  std::string out;
  EXPECT_EQ(twotower("recommend" + export_flag() + " --user nobody", &out, true), 1);
  EXPECT_NE(out.find("user \"nobody\": not in the export (v000001)"), std::string::npos) << out;
  EXPECT_EQ(twotower("similar" + export_flag() + " --item nothing", &out, true), 1);
  EXPECT_NE(out.find("item \"nothing\": not in the export"), std::string::npos) << out;
  EXPECT_EQ(twotower("recommend" + export_flag() + " --user a --history b", &out, true), 1);
  EXPECT_NE(out.find("got 2 of --user, --users and --history, expected at most one"), std::string::npos) << out;
  EXPECT_EQ(twotower("recommend" + export_flag() + " --index ivf", &out, true), 1);
  EXPECT_NE(out.find("--index: got \"ivf\", expected exact or hnsw"), std::string::npos) << out;
  testing::write_file(*dir_ / "bad_users.txt", catalogue_->user_ids[0] + "\nghost\n");
  EXPECT_EQ(twotower("recommend" + export_flag() + " --users " + (*dir_ / "bad_users.txt").string() +
                                 " --out " + (*dir_ / "x.parquet").string(), &out, true), 1);
  EXPECT_NE(out.find("bad_users.txt:2: user \"ghost\": not in the export"), std::string::npos) << out;
  EXPECT_EQ(twotower("recommend" + export_flag() + " --users x.txt", &out, true), 1);
  EXPECT_NE(out.find("--users: got no --out"), std::string::npos) << out;
  const std::string run = (*dir_ / "nowhere").string();
  EXPECT_EQ(twotower("export --run " + run + " --out " + (*dir_ / "e").string(), &out, true), 1);
  EXPECT_NE(out.find("nowhere/config.yaml: not found"), std::string::npos) << out;
}

}  // namespace
}  // namespace twotower
