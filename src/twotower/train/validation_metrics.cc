#include "twotower/train/validation_metrics.h"

#include <memory>
#include <string>
#include <utility>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/eval/eval_data.h"
#include "twotower/eval/evaluator.h"
#include "twotower/eval/tensor_ranking.h"

namespace twotower {

std::vector<std::string> validation_metric_names(const std::vector<int64_t>& ks) {
  std::vector<std::string> names;
  for (int64_t k : ks) {
    names.push_back("recall@" + std::to_string(k));
    names.push_back("ndcg@" + std::to_string(k));
  }
  return names;
}

MetricsHook make_validation_metrics(std::vector<int64_t> ks) {
  // Built once per run: the split's history and targets do not change between epochs.
  auto eval_data = std::make_shared<std::unique_ptr<EvalData>>();
  return [eval_data, ks = std::move(ks)](const EpochEmbeddings& e) {
    if (!*eval_data) {
      Split split = parse_split(e.config.data.valid_split);
      if (split == Split::kTrain) {
        fail("data.valid_split: got \"train\", expected valid or test for the validation metrics");
      }
      *eval_data = std::make_unique<EvalData>(make_eval_data(e.data, split));
      log_info("validation metrics: ", (*eval_data)->users_with_targets, " users with targets in split ",
               split_name(split));
    }
    // A run on a GPU ranks there, with the evaluator's numbers.
    if (e.device.is_cuda()) {
      const auto on_gpu = [&e](const Matrix& m) {
        return torch::from_blob(const_cast<float*>(m.data.data()), {m.rows, m.cols}, torch::kFloat).to(e.device);
      };
      return tensor_ranking_metrics(**eval_data, on_gpu(e.users), on_gpu(e.items), ks);
    }
    EvalOptions options;
    options.ks = ks;
    options.num_threads = e.config.training.threads > 0 ? static_cast<int>(e.config.training.threads) : 0;
    MatrixView users{e.users.data.data(), e.users.rows, e.users.cols};
    MatrixView items{e.items.data.data(), e.items.rows, e.items.cols};
    RankingMetrics m = evaluate_embeddings(**eval_data, users, items, options);
    std::map<std::string, double> out;
    for (int64_t k : ks) {
      for (const char* name : {"recall", "ndcg"}) {
        std::string key = str_cat(name, "@", k);
        out[key] = m.all.users > 0 ? m.value(key) : 0.0;  // no user with a target: nothing ranked
      }
    }
    return out;
  };
}

}  // namespace twotower
