// A disk that fills up (simulated with a file-size limit, `ulimit -f`, under which a write fails
// with EFBIG) during prepare or train leaves the previous outputs whole and names the file.
#include <gtest/gtest.h>

#include <string>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/common/checksum.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;

// Runs the CLI with `args` under a file-size limit of `kib` KiB; returns its exit code.
int run_limited(int kib, const std::string& args, std::string* output) {
  return testing::run_command("bash -c 'ulimit -f " + std::to_string(kib) + " && exec " +
                                  testing::cli_path().string() + " " + args + "'",
                              output);
}

TEST(DiskFull, PrepareOverwriteKeepsTheOldFolderWhole) {
  testing::TempDir dir;
  testing::prepare_generated(dir.path(), 2000, 1000, 40000);
  const std::string before = testing::read_file(dir / "data" / "interactions_mapped.parquet");
  std::string out;
  const std::string args = "prepare --reviews " + (dir / "raw" / "reviews.json.gz").string() + " --meta " +
                           (dir / "raw" / "meta.json.gz").string() + " --out " + (dir / "data").string() +
                           " --overwrite";
  EXPECT_EQ(run_limited(100, args, &out), 1) << out;
  EXPECT_NE(out.find("interactions_mapped.parquet"), std::string::npos) << out;
  EXPECT_NE(out.find("File too large"), std::string::npos) << out;
  EXPECT_EQ(testing::read_file(dir / "data" / "interactions_mapped.parquet"), before);
  EXPECT_EQ(verify_checksum(dir / "data" / "interactions_mapped.parquet"), ChecksumStatus::kVerified);
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".data.tmp"), std::string::npos) << "left behind: " << entry.path();
  }
}

TEST(DiskFull, TrainKeepsTheLastGoodCheckpoint) {
  testing::TempDir dir;
  testing::prepare_generated(dir.path(), 2000, 1000, 40000);
  const std::string args = "train --config " + (testing::source_dir() / "configs" / "pair.yaml").string() +
                           " data.data_path=" + (dir / "data").string() + " training.output_dir=" +
                           (dir / "run").string() + " training.num_epochs=1 training.threads=1 --no-eval" +
                           " training.best_metric=train_loss";
  std::string out;
  ASSERT_EQ(run_limited(1 << 20, args, &out), 0) << out;
  const fs::path last = dir / "run" / "checkpoints" / "last.pt";
  const std::string before = testing::read_file(last);
  // The checkpoint (about 6 MB) no longer fits: the run stops naming it, and last.pt is untouched.
  EXPECT_EQ(run_limited(500, args, &out), 1) << out;
  EXPECT_NE(out.find("next.pt.tmp: cannot write the checkpoint: File too large"), std::string::npos) << out;
  EXPECT_EQ(testing::read_file(last), before);
  EXPECT_EQ(verify_checksum(last), ChecksumStatus::kVerified);
  EXPECT_FALSE(fs::exists(dir / "run" / "checkpoints" / "next.pt.tmp"));
}

}  // namespace
}  // namespace twotower
