// Built only against a CUDA LibTorch (tests/CMakeLists.txt), run only where a GPU is present: no
// training step of the options below waits for the device. LibTorch's sync debug mode turns every
// synchronizing call (a read back, a copy from pageable memory, an op whose output size depends
// on the data) into an error; it is on from the end of the first step (of the step that captures
// the graph, with training.cuda_graph) to the end of the second-to-last (the epoch's last step
// reads the losses back, on purpose).
#include <c10/cuda/CUDAFunctions.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/train/epoch_runner.h"
#include "twotower/train/gpu/step_graph.h"
#include "twotower/train/trainer.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kSteps = 24;  // below EpochRunner::kDeviceReadbackSteps: one read back, at the end
static_assert(kSteps < EpochRunner::kDeviceReadbackSteps);

struct Option {
  std::string name;
  std::function<void(Config&)> set;
  int64_t from_step = 1;  // sync debug mode on from the end of this step
};

// The options whose steps run without a wait: the pair and in-batch losses with the dense
// optimizers, mean and attention pooling. The row-wise optimizers (coalescing sparse rows) still
// wait and are not listed.
std::vector<Option> options() {
  return {
      {"bce, user tower per pair (the reference)", [](Config&) {}},
      {"bpr", [](Config& c) { c.training.loss = LossKind::kBpr; }},
      {"softmax with log-Q and hit masks", [](Config& c) { c.training.loss = LossKind::kSoftmax; }},
      {"mixed", [](Config& c) { c.training.loss = LossKind::kMixed, c.training.mixed_negatives = 8; }},
      {"full", [](Config& c) { c.training.loss = LossKind::kFull; }},
      {"shared user tower", [](Config& c) { c.training.shared_user_tower = true; }},
      {"dropout", [](Config& c) { c.model.dropout = 0.3; }},
      {"history last", [](Config& c) { c.model.user_history = 3; }},
      {"history before", [](Config& c) {
         c.model.user_history = 3, c.model.user_history_mode = UserHistoryMode::kBefore;
       }},
      {"attention pooling, no user id, full (best.yaml's)", [](Config& c) {
         testing::use_attention_pooling(c, 4);
         c.model.use_user_id = false, c.training.loss = LossKind::kFull;
       }},
      {"attention pooling, softmax", [](Config& c) {
         testing::use_attention_pooling(c, 4), c.training.loss = LossKind::kSoftmax;
       }},
      {"id dropouts", [](Config& c) { c.model.item_id_dropout = 0.2, c.model.user_id_dropout = 0.2; }},
      {"learned logit scale", [](Config& c) { c.training.learn_logit_scale = true; }},
      {"torch's Adam", [](Config& c) { c.training.fused_adam = false; }},
      {"sgd", [](Config& c) { c.training.optimizer = OptimizerKind::kSgd; }},
      // Checked from the end of the step that captures the graph: the replays.
      {"cuda graph", [](Config& c) { c.training.cuda_graph = true; }, StepGraph::kWarmupSteps + 1},
      {"cuda graph, softmax", [](Config& c) { c.training.cuda_graph = true, c.training.loss = LossKind::kSoftmax; },
       StepGraph::kWarmupSteps + 1},
  };
}

// Sync debug mode off again however the run ends.
struct SyncDebugOff {
  ~SyncDebugOff() { c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED); }
};

TEST(SyncFreeStep, NoStepWaitsForTheDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: this check needs one";
  testing::TempDir dir;
  testing::prepare_generated(dir.path(), 60, 40, 900);
  for (const Option& option : options()) {
    SCOPED_TRACE(option.name);
    Config c = testing::tiny_config(dir.path() / "data", dir.path() / "run");
    c.model.use_text = false;
    c.training.device = DeviceKind::kCuda;
    c.training.num_epochs = 1;
    c.training.batch_size = 8;
    c.training.max_steps_per_epoch = kSteps;
    option.set(c);
    int64_t step = 0;
    TrainOptions run;
    run.between_steps = [&step, &option] {
      ++step;
      const bool on = step >= option.from_step && step < kSteps - 1;
      const auto mode = on ? c10::cuda::SyncDebugMode::L_ERROR : c10::cuda::SyncDebugMode::L_DISABLED;
      c10::cuda::warning_state().set_sync_debug_mode(mode);
    };
    SyncDebugOff off;
    try {
      TrainSummary summary = run_training(c, run);
      EXPECT_EQ(step, kSteps);
      ASSERT_EQ(summary.history.size(), 1u);
      EXPECT_TRUE(std::isfinite(summary.history[0]["train_loss"].get<double>()));
    } catch (const std::exception& e) {
      ADD_FAILURE() << option.name << ": step " << step + 1 << " waited for the device: " << e.what();
    }
  }
}

}  // namespace
}  // namespace twotower
