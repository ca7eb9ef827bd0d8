#include "twotower/train/epoch_runner.h"

#include <algorithm>
#include <cmath>
#include <future>
#include <optional>

#include "twotower/common/error.h"
#include "twotower/common/progress.h"
#include "twotower/train/loss.h"

namespace twotower {
namespace {

// One step's positives, on the CPU.
struct Batch {
  torch::Tensor users;    // [m] int64
  torch::Tensor items;    // [m] int64
  torch::Tensor history;  // [m, N] int64, or undefined
  int64_t positives = 0;
};

// The positives of a slice of the permutation (CPU); the objective draws the negatives in order
// on the training thread, so the sampler's sequence does not depend on the prefetching.
Batch make_batch(const PairColumns& train, const torch::Tensor& perm, int64_t s, int64_t e) {
  torch::Tensor idx = perm.slice(0, s, e);
  Batch batch;
  batch.users = train.users.index_select(0, idx);
  batch.items = train.items.index_select(0, idx);
  if (train.history.defined()) batch.history = train.history.index_select(0, idx);
  batch.positives = e - s;
  return batch;
}

}  // namespace

EpochRunner::EpochRunner(TwoTowerModel& model, Optimizers& optimizers, NegativeSampler& sampler, Objective& objective,
                         const Config& config, DataParallel& dp, std::function<void()> between_steps)
    : model_(model), optimizers_(optimizers), sampler_(sampler), objective_(objective), config_(config), dp_(dp),
      between_steps_(std::move(between_steps)),
      parameters_(model->parameters()), tables_(model->embedding_parameters()),
      dense_parameters_(model->dense_parameters()) {}

double EpochRunner::step(const torch::Tensor& loss, int64_t epoch, int64_t batch, int64_t num_batches) {
  const TrainingConfig& t = config_.training;
  double value = loss.item<double>();
  optimizers_.dense->zero_grad();
  if (optimizers_.rows) optimizers_.rows->zero_grad();
  // With several ranks the loss is summed with the first gradient bucket, so the backward pass
  // comes first; one process checks before it.
  if (dp_.active()) {
    loss.backward();
    dp_.reduce_gradients(dense_parameters_, tables_, !optimizers_.rows, value);
  }
  if (!std::isfinite(value)) {
    fail("training: the loss is ", value, " at epoch ", epoch, ", step ", batch + 1, " of ", num_batches,
         " (no update was made from it); checkpoints/last.pt still holds the last good epoch. "
         "Expected a finite loss: lower training.learning_rate, raise training.temperature or check the inputs");
  }
  if (!dp_.active()) loss.backward();
  if (optimizers_.rows) {
    if (t.clip_grad_norm > 0) clip_with_rows(dense_parameters_, *optimizers_.rows, t.clip_grad_norm);
    optimizers_.rows->step();
  } else if (t.clip_grad_norm > 0) {
    torch::nn::utils::clip_grad_norm_(parameters_, t.clip_grad_norm);
  }
  optimizers_.dense->step();
  return value;
}

double EpochRunner::run(const PairColumns& train, int64_t epoch, int64_t& steps, int64_t& pairs) {
  const TrainingConfig& t = config_.training;
  const int64_t b = t.batch_size, k = config_.data.neg_ratio, n = train.size();
  int64_t num_batches = (n + b - 1) / b;
  if (t.max_steps_per_epoch > 0) num_batches = std::min(num_batches, t.max_steps_per_epoch);
  // Rank 0's order (the one process's generator), the same on every rank.
  torch::Tensor perm = torch::randperm(n, torch::kLong);
  dp_.broadcast({perm});
  model_->train();
  std::optional<Progress> progress;
  if (dp_.is_root()) progress.emplace(str_cat("epoch ", epoch, "/", t.num_epochs), std::min(n, num_batches * b) * (1 + k), "pairs");
  double total = 0;
  // Batches are assembled in order, the next one on a background thread while this one trains;
  // a worker's exception surfaces at get().
  const auto policy = t.prefetch ? std::launch::async : std::launch::deferred;
  auto assemble = [&train, &perm, b, n](int64_t batch) {
    return make_batch(train, perm, batch * b, std::min(n, (batch + 1) * b));
  };
  std::future<Batch> next;
  if (num_batches > 0) next = std::async(policy, assemble, 0);
  for (int64_t batch = 0; batch < num_batches; ++batch) {
    Batch current = next.get();
    if (batch + 1 < num_batches) next = std::async(policy, assemble, batch + 1);
    torch::Tensor loss = objective_.loss(model_, sampler_, current.users, current.items, current.history);
    total += step(loss, epoch, batch, num_batches);
    ++steps;
    pairs += current.positives * (1 + k);
    if (progress) progress->add(current.positives * (1 + k), str_cat("loss ", total / static_cast<double>(batch + 1)));
    if (between_steps_) between_steps_();
  }
  const double mean = num_batches ? total / static_cast<double>(num_batches) : NAN;
  if (progress) progress->finish(str_cat("loss ", mean));
  return mean;
}

double validation_loss(TwoTowerModel& model, const PairColumns& valid, const Config& config,
                       const torch::Device& device) {
  if (valid.size() == 0) return NAN;
  torch::NoGradGuard no_grad;
  model->eval();
  double total = 0;
  const int64_t batch = config.training.batch_size;
  for (int64_t s = 0; s < valid.size(); s += batch) {
    int64_t e = std::min(valid.size(), s + batch);
    torch::Tensor scores = model->pair_scores(valid.users.slice(0, s, e).to(device), valid.items.slice(0, s, e).to(device));
    total += bce_loss(scores, torch::ones_like(scores), model->logit_scale(config.training.logit_scale)).item<double>() *
             static_cast<double>(e - s);
  }
  model->train();
  return total / static_cast<double>(valid.size());
}

}  // namespace twotower
