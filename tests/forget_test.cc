// twotower forget (data/forget.h, serve/export/export_forget.h): forgotten users leave the prepared
// data, every export version, the next export and a continued run; every other index stays.
#include "twotower/data/forget.h"

#include <gtest/gtest.h>

#include <numeric>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/data/npy.h"
#include "twotower/serve/export/export_catalogue.h"
#include "twotower/serve/export/export_forget.h"
#include "twotower/serve/export/export_layout.h"
#include "twotower/serve/export/export_model.h"
#include "twotower/serve/export/export_writer.h"
#include "twotower/serve/recommender.h"
#include "twotower/train/trainer.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

int64_t popularity_sum(const fs::path& version) {
  const ExportCatalogue c = read_export_catalogue(version);
  return std::accumulate(c.popularity.begin(), c.popularity.end(), int64_t{0});
}

bool user_row_is_zero(const fs::path& version, int64_t user) {
  const TwoTowerModel model = load_export_model(version, read_manifest(version));
  return model->user_tower->embedding->weight[user].abs().max().item<float>() == 0.0f;
}

void expect_forgotten_in_export(const fs::path& v, int64_t popularity_before) {
  SCOPED_TRACE(v.string());
  Recommender r(v);
  RecommendRequest gone;
  gone.user_id = "u3";
  EXPECT_THROW(r.recommend(gone), NotFoundError);
  RecommendRequest kept;
  kept.user_id = "u4";
  kept.k = 3;
  EXPECT_EQ(r.recommend(kept).items.size(), 3u);
  const ExportCatalogue c = read_export_catalogue(v);
  EXPECT_EQ(c.find_user("u3"), -1);
  EXPECT_EQ(c.find_user("u4"), 4);
  EXPECT_TRUE(c.seen(3).empty());
  EXPECT_TRUE(c.seen(5).empty());
  EXPECT_EQ(c.seen(4).size(), 7u);
  EXPECT_EQ(popularity_before - popularity_sum(v), 14);  // 7 train + valid interactions each
  const Matrix users = read_npy(v / kUserEmbeddingsFile);
  for (int64_t j = 0; j < users.cols; ++j) {
    EXPECT_EQ(users.row(3)[j], 0.0f);
    EXPECT_EQ(users.row(5)[j], 0.0f);
  }
  EXPECT_TRUE(user_row_is_zero(v, 3));
  EXPECT_FALSE(user_row_is_zero(v, 4));
  EXPECT_EQ(read_manifest(v)["forgotten_users"].get<int64_t>(), 2);
}

TEST(Forget, RemovesUsersFromTheDataEveryExportAndTheNextRuns) {
  TempDir dir;
  const fs::path data = testing::save_grouped_data(dir.path());
  Config c = testing::tiny_config(data, dir / "run");
  run_training(c, {});
  write_export(dir / "run", dir / "export");
  write_export(dir / "run", dir / "export");
  const int64_t popularity = popularity_sum(dir / "export" / "v000001");
  // u5 first, from one version; then u3 (twice: repeats count once) and u5 again from both.
  EXPECT_EQ(forget_users_in_export_version(dir / "export" / "v000001", {5}), 1);
  const std::vector<int64_t> users = resolve_forget_users(data, {"u3", "u5", "u3"});
  EXPECT_EQ(users, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(forget_users_in_exports(dir / "export", users).size(), 2u);
  const ForgetResult r = forget_users_in_data(data, {"u3", "u5", "u3"});
  EXPECT_EQ(r.users, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(r.interactions_removed, 16);

  const Dataset after = load_dataset(data);
  ASSERT_EQ(after.num_users(), 24);
  EXPECT_EQ(after.user_ids[3], forgotten_user_id(3));
  EXPECT_EQ(after.user_ids[4], "u4");
  EXPECT_EQ(after.interactions.size(), 22u * 8u);
  for (int64_t u : after.interactions.user) EXPECT_TRUE(u != 3 && u != 5);
  EXPECT_EQ(after.splits["counts"]["train"].get<int64_t>(), 22 * 6);
  EXPECT_EQ(read_forgotten_users(data), (std::vector<int64_t>{3, 5}));

  // The first version lost u5 before the others: it ends as the second.
  for (const char* v : {"v000001", "v000002"}) expect_forgotten_in_export(dir / "export" / v, popularity);

  // A later export of the same run knows neither user.
  const ExportSummary v3 = write_export(dir / "run", dir / "export");
  EXPECT_EQ(read_export_catalogue(v3.dir).find_user("u3"), -1);
  EXPECT_TRUE(user_row_is_zero(v3.dir, 5));

  // A run continued from the old one starts with their id rows (and optimizer state) at zero,
  // and with no interaction of theirs they stay zero.
  Config next = testing::tiny_config(data, dir / "continued");
  next.training.init_from = (dir / "run").string();
  next.training.num_epochs = 1;
  run_training(next, {});
  EXPECT_EQ(read_json_file(dir / "continued" / "init_from.json")["forgotten_user_rows_zeroed"].get<int64_t>(), 2);
  const ExportSummary continued = write_export(dir / "continued", dir / "export_continued");
  EXPECT_TRUE(user_row_is_zero(continued.dir, 3));
  EXPECT_FALSE(user_row_is_zero(continued.dir, 4));
}

TEST(Forget, UnknownIdsAreRefusedWithNothingChanged) {
  TempDir dir;
  const fs::path data = testing::save_grouped_data(dir.path());
  const std::string before = testing::read_file(data / "interactions_mapped.parquet");
  testing::expect_error([&] { forget_users_in_data(data, {"u1", "nobody", "ghost"}); },
                        "2 user id(s) not in the map (\"nobody\", \"ghost\")");
  testing::expect_error([&] { forget_users_in_data(data, {}); }, "got no user id");
  EXPECT_EQ(testing::read_file(data / "interactions_mapped.parquet"), before);
  EXPECT_FALSE(fs::exists(data / kForgottenFile));
  forget_users_in_data(data, {"u1"});
  testing::expect_error([&] { forget_users_in_data(data, {"u1"}); }, "\"u1\"");  // gone already
  testing::expect_error([&] { forget_users_in_exports(dir / "no_export", {1}); }, "not an export");
}

// The command: ids from --users-file (blank lines skipped) and --user; an unknown id or a
// folder that is no export fails with the reason, before anything is written.
TEST(ForgetCli, UsersFileAndErrors) {
  TempDir dir;
  const fs::path data = testing::save_grouped_data(dir.path());
  testing::write_file(dir / "ids.txt", "u2\n\nu7\n");
  const std::string cli = testing::cli_path().string() + " forget --data " + data.string();
  std::string out;
  ASSERT_EQ(testing::run_command(cli + " --users-file " + (dir / "ids.txt").string() + " 2>&1", &out), 0) << out;
  EXPECT_NE(out.find("2 users forgotten, 16 interactions removed"), std::string::npos) << out;
  EXPECT_NE(testing::run_command(cli + " --user u2 2>&1", &out), 0);
  EXPECT_NE(out.find("\"u2\""), std::string::npos) << out;
  EXPECT_NE(testing::run_command(cli + " --user u1 --export " + (dir / "nothing").string() + " 2>&1", &out), 0);
  EXPECT_NE(out.find("not an export"), std::string::npos) << out;
  EXPECT_EQ(load_dataset(data).user_ids[1], "u1");
  EXPECT_NE(testing::run_command(cli + " 2>&1", &out), 0);
  EXPECT_NE(out.find("got no user id"), std::string::npos) << out;
}

}  // namespace
}  // namespace twotower
