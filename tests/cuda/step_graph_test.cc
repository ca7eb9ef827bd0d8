// Built only against a CUDA LibTorch (tests/CMakeLists.txt), run only where a GPU is present: a
// run whose steps replay a captured CUDA graph (training.cuda_graph) trains as the same run
// stepped eagerly: the same losses and weights, up to the rounding of kernels the capture may
// choose differently.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "test_util.h"
#include "train_test_util.h"
#include "twotower/data/npy.h"
#include "twotower/train/gpu/step_graph.h"
#include "twotower/train/trainer.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  std::function<void(Config&)> set;
};

// Two epochs of 40 steps of 8 pairs (the second at a lower learning rate, which the replays read
// from the counters), the eager way and the captured way; the exported vectors compared.
TEST(StepGraph, ReplaysTrainAsEagerSteps) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: this check needs one";
  testing::TempDir dir;
  testing::prepare_generated(dir.path(), 60, 40, 900);
  const std::vector<Case> cases = {
      {"bce (the reference)", [](Config&) {}},
      {"softmax with log-Q, hit masks and history", [](Config& c) {
         c.training.loss = LossKind::kSoftmax, c.model.user_history = 3;
         c.model.user_history_mode = UserHistoryMode::kBefore;
       }},
      {"mixed, learned logit scale", [](Config& c) {
         c.training.loss = LossKind::kMixed, c.training.mixed_negatives = 8, c.training.learn_logit_scale = true;
       }},
  };
  for (const Case& one : cases) {
    SCOPED_TRACE(one.name);
    std::vector<TrainSummary> summaries;
    std::vector<std::vector<torch::Tensor>> weights;
    for (bool graph : {false, true}) {
      Config c = testing::tiny_config(dir.path() / "data", dir.path() / (graph ? "graph" : "eager"));
      c.model.use_text = false;
      c.model.dropout = 0;  // the same arithmetic either way, no draw
      c.training.device = DeviceKind::kCuda;
      c.training.batch_size = 8;
      c.training.max_steps_per_epoch = 40;
      c.training.clip_grad_norm = 1.0;
      c.training.cuda_graph = graph;
      one.set(c);
      c.training.best_metric = "last";  // the exported vectors are the last epoch's
      summaries.push_back(run_training(c));
      std::vector<torch::Tensor> w;
      for (const char* name : {"user_embeddings.npy", "item_embeddings.npy"}) {
        Matrix m = read_npy(fs::path(c.training.output_dir) / name);
        w.push_back(torch::from_blob(m.data.data(), {m.rows, m.cols}, torch::kFloat).clone());
      }
      weights.push_back(std::move(w));
    }
    EXPECT_EQ(summaries[0].graph_replays, 0);
    // 2 epochs of 40 steps, the first 3 eager: every later full batch replayed.
    EXPECT_EQ(summaries[1].graph_replays, 2 * 40 - StepGraph::kWarmupSteps);
    ASSERT_EQ(summaries[0].history.size(), summaries[1].history.size());
    for (size_t e = 0; e < summaries[0].history.size(); ++e) {
      EXPECT_NEAR(summaries[1].history[e]["train_loss"].get<double>(), summaries[0].history[e]["train_loss"].get<double>(),
                  1e-4)
          << "epoch " << e + 1;
    }
    ASSERT_EQ(weights[0].size(), weights[1].size());
    for (size_t j = 0; j < weights[0].size(); ++j) {
      EXPECT_TRUE(torch::allclose(weights[1][j], weights[0][j], 1e-3, 1e-5))
          << "parameter " << j << ": largest difference " << (weights[1][j] - weights[0][j]).abs().max().item<double>();
    }
  }
}

}  // namespace
}  // namespace twotower
