#include "twotower/train/gpu/step_trace.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/npy.h"
#include "twotower/train/gpu/kernel_share.h"
#include "twotower/train/trainer.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// The tiny grouped data (144 training positives) in batches of 8: 18 steps an epoch.
Config eight_per_batch(const fs::path& data, const fs::path& run) {
  Config c = testing::tiny_config(data, run);
  c.training.batch_size = 8;
  c.training.num_epochs = 2;
  return c;
}

torch::Tensor exported(const fs::path& run, const char* file) {
  Matrix m = read_npy(run / file);
  return torch::from_blob(m.data.data(), {m.rows, m.cols}, torch::kFloat).clone();
}

// training.trace_steps traces steps 11.. of the first epoch into trace.json (on the CPU its
// operators, no kernels) and changes no result of the run.
TEST(StepTrace, TracesTheFirstEpochAndChangesNothing) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config plain = eight_per_batch(dir / "data", dir / "plain");
  Config traced = eight_per_batch(dir / "data", dir / "traced");
  traced.training.trace_steps = 4;
  run_training(plain);
  run_training(traced);

  EXPECT_FALSE(fs::exists(dir / "plain" / "trace.json"));
  ASSERT_TRUE(fs::exists(dir / "traced" / "trace.json"));
  const nlohmann::json trace = nlohmann::json::parse(testing::read_file(dir / "traced" / "trace.json"));
  int64_t operators = 0;
  for (const auto& e : trace.at("traceEvents")) {
    operators += e.value("cat", "") == "cpu_op" && e.value("name", "").starts_with("aten::") ? 1 : 0;
  }
  EXPECT_GT(operators, 0) << "the trace holds no training operator";
  EXPECT_EQ(read_kernel_share(dir / "traced" / "trace.json").kernels, 0);
  const std::string log = testing::read_file(dir / "traced" / "train.log");
  EXPECT_NE(log.find("trace: steps 11-14 of epoch 1"), std::string::npos) << log;

  for (const char* file : {"user_embeddings.npy", "item_embeddings.npy"}) {
    EXPECT_TRUE(torch::equal(exported(dir / "plain", file), exported(dir / "traced", file))) << file;
  }
}

// A trace reaching past the epoch's end stops at it: steps 11-18 of 18.
TEST(StepTrace, EndsAtTheEpochsEnd) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = eight_per_batch(dir / "data", dir / "run");
  c.training.trace_steps = 50;
  run_training(c);
  const std::string log = testing::read_file(dir / "run" / "train.log");
  EXPECT_NE(log.find("trace: steps 11-18 of epoch 1"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir / "run" / "trace.json"));
}

// An epoch of 9 steps never reaches the trace: logged, nothing written, and no later epoch traced.
TEST(StepTrace, AnEpochTooShortIsLogged) {
  TempDir dir;
  testing::save_grouped_data(dir.path());
  Config c = testing::tiny_config(dir / "data", dir / "run");  // batches of 16: 9 steps
  c.training.trace_steps = 2;
  run_training(c);
  const std::string log = testing::read_file(dir / "run" / "train.log");
  EXPECT_NE(log.find("training.trace_steps: epoch 1 has 9 steps, expected more than the 10"), std::string::npos) << log;
  EXPECT_EQ(log.find("trace: steps"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists(dir / "run" / "trace.json"));
}

TEST(StepTrace, RefusesNoSteps) { EXPECT_THROW(StepTrace(0, torch::Device(torch::kCPU), "t.json"), Error); }

}  // namespace
}  // namespace twotower
