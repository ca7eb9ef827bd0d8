// Continued training through the CLI: prepare, prepare --extend, train, train --init-from, export.
#include <gtest/gtest.h>

#include <string>

#include "test_util.h"
#include "twotower/data/dataset.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

std::string cli(const std::string& args) { return testing::cli_path().string() + " " + args; }

// Ratings CSV (item,user,rating,timestamp): two users of three items, then a new user u3 with the
// new items i4, i5 and the old i2, and one more interaction of u1.
struct Files {
  TempDir dir;
  Files() {
    testing::write_file(dir / "old.csv", "i1,u1,5,100\ni2,u1,4,101\ni3,u1,3,102\ni1,u2,5,103\ni2,u2,2,104\ni3,u2,1,105\n");
    testing::write_file(dir / "new.csv", "i4,u1,5,200\ni4,u3,4,201\ni2,u3,4,202\ni5,u3,3,203\n");
  }
  std::string train(const std::string& data, const std::string& out) const {
    return cli("train --config " + testing::source_dir().string() + "/configs/reference.yaml data.data_path=" +
               (dir / data).string() + " data.emb_dim=4 model.user_mlp_hidden=[8] model.item_mlp_hidden=[8] "
               "training.num_epochs=1 training.batch_size=4 training.threads=1 training.output_dir=" + (dir / out).string());
  }
};

// The whole path: the extend summary counts what is new, the continued run starts from the old
// one (init_from.json), and the two exports are versions 1 and 2 of one parent.
TEST(ContinuedCli, ExtendTrainFromTheOldRunAndExport) {
  Files f;
  std::string out;
  ASSERT_EQ(testing::run_command(cli("prepare -q --reviews " + (f.dir / "old.csv").string() + " --out " +
                                     (f.dir / "base").string()), &out), 0) << out;
  ASSERT_EQ(testing::run_command(cli("prepare --extend " + (f.dir / "base").string() + " --reviews " +
                                     (f.dir / "new.csv").string() + " --out " + (f.dir / "extended").string()), &out), 0)
      << out;
  EXPECT_NE(out.find(": 1 new users, 2 new items, 4 new interactions"), std::string::npos) << out;
  ASSERT_EQ(testing::run_command(f.train("base", "old"), &out), 0) << out;
  ASSERT_EQ(testing::run_command(f.train("extended", "continued") + " --init-from " + (f.dir / "old").string(), &out), 0)
      << out;
  const nlohmann::json report = read_json_file(f.dir / "continued" / "init_from.json");
  EXPECT_EQ(report["old"]["users"], 2);
  EXPECT_EQ(report["new"]["users"], 3);
  for (const char* run : {"old", "continued"}) {
    ASSERT_EQ(testing::run_command(cli("export --run " + (f.dir / run).string() + " --out " + (f.dir / "export").string()),
                                   &out), 0) << out;
  }
  EXPECT_TRUE(fs::exists(f.dir / "export" / "v000001" / "manifest.json"));
  EXPECT_TRUE(fs::exists(f.dir / "export" / "v000002" / "manifest.json"));
}

// A model shape other than the run's and data that does not extend the run's data each end the
// command with one line naming the problem.
TEST(ContinuedCli, MismatchesAreOneLineErrors) {
  Files f;
  std::string out;
  ASSERT_EQ(testing::run_command(cli("prepare -q --reviews " + (f.dir / "old.csv").string() + " --out " +
                                     (f.dir / "base").string()), &out), 0) << out;
  ASSERT_EQ(testing::run_command(cli("prepare -q --reviews " + (f.dir / "new.csv").string() + " --out " +
                                     (f.dir / "other").string()), &out), 0) << out;
  ASSERT_EQ(testing::run_command(f.train("base", "old"), &out), 0) << out;
  const std::string init = " --init-from " + (f.dir / "old").string();
  EXPECT_EQ(testing::run_command(f.train("base", "wider") + init + " model.embedding_dim=16", &out), 1);
  EXPECT_NE(out.find("twotower: error: training.init_from: model.embedding_dim: got 16, expected 128"), std::string::npos)
      << out;
  EXPECT_EQ(testing::run_command(f.train("other", "unrelated") + init, &out), 1);
  EXPECT_NE(out.find("twotower: error: " + (f.dir / "other" / "uid2idx.json").string() +
                     ": user_idx 1: got \"u3\", expected \"u2\""), std::string::npos)
      << out;
}

}  // namespace
}  // namespace twotower
