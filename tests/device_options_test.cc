// Every training option on its own, and every config in configs/, trains on the device that is
// present: a GPU where LibTorch sees one, else the CPU (as in CI). Each run must end with finite
// losses and finite unit-norm embeddings; an option the device cannot run is refused before any
// work with a message naming it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/data/npy.h"
#include "twotower/model/linear.h"
#include "twotower/train/refit.h"
#include "twotower/train/validation_metrics.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;

DeviceKind present_device() { return torch::cuda::is_available() ? DeviceKind::kCuda : DeviceKind::kCpu; }

struct Option {
  std::string name;
  std::function<void(Config&)> set;
};

std::vector<Option> options() {
  return {
      {"loss bce", [](Config& c) { c.training.loss = LossKind::kBce; }},
      {"loss bpr", [](Config& c) { c.training.loss = LossKind::kBpr; }},
      {"loss softmax", [](Config& c) { c.training.loss = LossKind::kSoftmax; }},
      {"loss mixed", [](Config& c) { c.training.loss = LossKind::kMixed, c.training.mixed_negatives = 8; }},
      {"softmax without log-Q or hit masks", [](Config& c) {
         c.training.loss = LossKind::kSoftmax, c.training.logq_correction = false, c.training.mask_accidental_hits = false;
       }},
      {"lazy_adam", [](Config& c) { c.training.embedding_optimizer = EmbeddingOptimizerKind::kLazyAdam; }},
      {"adagrad", [](Config& c) { c.training.embedding_optimizer = EmbeddingOptimizerKind::kAdagrad; }},
      {"lazy_adam with softmax", [](Config& c) {
         c.training.embedding_optimizer = EmbeddingOptimizerKind::kLazyAdam, c.training.loss = LossKind::kSoftmax;
       }},
      {"shared user tower", [](Config& c) { c.training.shared_user_tower = true; }},
      {"dropout (counter dropout)", [](Config& c) { c.model.dropout = 0.3; }},
      {"history last", [](Config& c) { c.model.user_history = 3; }},
      {"history before", [](Config& c) {
         c.model.user_history = 3, c.model.user_history_mode = UserHistoryMode::kBefore;
       }},
      {"loss full", [](Config& c) { c.training.loss = LossKind::kFull; }},
      {"attention pooling, no user id, full", [](Config& c) {
         testing::use_attention_pooling(c, 4);
         c.model.use_user_id = false, c.training.loss = LossKind::kFull;
       }},
      {"attention pooling with lazy_adam and mixed", [](Config& c) {
         testing::use_attention_pooling(c, 4);
         c.training.loss = LossKind::kMixed, c.training.mixed_negatives = 8;
         c.training.embedding_optimizer = EmbeddingOptimizerKind::kLazyAdam;
       }},
      {"refit, auto batch", [](Config& c) { c.training.refit = true, c.training.batch_size = 0; }},
      {"id dropouts", [](Config& c) { c.model.item_id_dropout = 0.2, c.model.user_id_dropout = 0.2; }},
      {"learned logit scale", [](Config& c) { c.training.learn_logit_scale = true; }},
      {"no clipping", [](Config& c) { c.training.clip_grad_norm = 0; }},
      {"sgd, cosine", [](Config& c) {
         c.training.optimizer = OptimizerKind::kSgd, c.training.scheduler = SchedulerKind::kCosine;
       }},
      {"torch matmul", [](Config& c) { c.training.cpu_matmul = CpuMatmul::kTorch; }},
      {"no prefetch", [](Config& c) { c.training.prefetch = false; }},
      {"torch's Adam (fused_adam false)", [](Config& c) { c.training.fused_adam = false; }},
      {"bf16 products", [](Config& c) { c.training.matmul_precision = MatmulPrecision::kBf16; }},
      {"cuda graph", [](Config& c) { c.training.cuda_graph = true; }},
      {"cuda graph with softmax and history", [](Config& c) {
         c.training.cuda_graph = true, c.training.loss = LossKind::kSoftmax;
         c.model.user_history = 3, c.model.user_history_mode = UserHistoryMode::kBefore;
       }},
  };
}

// Trains `config` (with the validation metrics, as `twotower train` does) and checks what a
// finished run must hold.
void expect_finite_run(const Config& config, const std::string& what) {
  SCOPED_TRACE(what);
  TrainOptions options;
  options.metrics = make_validation_metrics({10});
  options.metric_names = validation_metric_names({10});
  TrainSummary summary;
  ASSERT_NO_THROW(summary = train(config, options)) << what;
  if (config.training.refit) {  // the final run trains the selected number of epochs
    ASSERT_GE(summary.epochs_done, 1);
    ASSERT_LE(summary.epochs_done, config.training.num_epochs);
  } else {
    ASSERT_EQ(summary.epochs_done, config.training.num_epochs);
  }
  for (const auto& record : summary.history) {
    EXPECT_TRUE(std::isfinite(record["train_loss"].get<double>())) << record.dump();
  }
  for (const char* name : {"user_embeddings.npy", "item_embeddings.npy"}) {
    Matrix m = read_npy(fs::path(config.training.output_dir) / name);
    ASSERT_GT(m.rows, 0);
    for (float x : m.data) ASSERT_TRUE(std::isfinite(x)) << name;
  }
}

TEST(DeviceOptions, EveryOptionOnItsOwnTrainsOnThePresentDevice) {
  testing::TempDir dir;
  const fs::path data = testing::save_grouped_data(dir.path());
  for (const Option& option : options()) {
    Config c = testing::tiny_config(data, dir.path() / "run");
    c.model.use_text = false;
    c.training.device = present_device();
    option.set(c);
    const bool refused = c.training.matmul_precision == MatmulPrecision::kBf16 && c.training.device == DeviceKind::kCpu &&
                         !onednn_bf16_available();
    if (refused) {
      EXPECT_THROW(run_training(c), Error) << option.name << ": bf16 products on a CPU without them must be refused";
      continue;
    }
    if (c.training.cuda_graph && c.training.device == DeviceKind::kCpu) {
      c.training.output_dir = (dir.path() / "cuda-graph-refused").string();
      try {
        run_training(c);
        ADD_FAILURE() << option.name << ": a CUDA graph on the CPU must be refused";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("training.cuda_graph: got true on cpu"), std::string::npos) << e.what();
      }
      EXPECT_FALSE(fs::exists(fs::path(c.training.output_dir) / "checkpoints" / "last.pt")) << option.name << ": refused after training";
      continue;
    }
    expect_finite_run(c, option.name);
  }
}

TEST(DeviceOptions, EveryShippedConfigTrainsOnThePresentDevice) {
  testing::TempDir dir;
  testing::prepare_generated(dir.path(), 60, 40, 900);
  for (const auto& entry : fs::directory_iterator(testing::source_dir() / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    Config c = load_config(entry.path().string(),
                           {"data.data_path=" + (dir.path() / "data").string(),
                            "training.output_dir=" + (dir.path() / entry.path().stem()).string(),
                            "training.num_epochs=1", "training.batch_size=64", "training.threads=1",
                            "model.use_text=false", "training.max_steps_per_epoch=4",
                            std::string("training.device=") + (present_device() == DeviceKind::kCuda ? "cuda" : "cpu")});
    const bool refused = c.training.matmul_precision == MatmulPrecision::kBf16 && !onednn_bf16_available() &&
                         present_device() == DeviceKind::kCpu;
    if (refused) continue;
    expect_finite_run(c, entry.path().filename().string());
  }
}

}  // namespace
}  // namespace twotower
