#include "twotower/train/epoch_runner.h"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <future>
#include <memory>
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
  std::optional<PrefixBatch> prefixes;  // the pairs as histories (attention pooling)
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

// The histories perm[s, e) and their targets as pairs, the histories cut to the batch's longest.
Batch make_prefix_batch(const SequenceColumns& sequences, const torch::Tensor& perm, int64_t s, int64_t e) {
  torch::Tensor idx = perm.slice(0, s, e);
  PrefixBatch p;
  p.users = sequences.users.index_select(0, idx);
  torch::Tensor history = sequences.history.index_select(0, idx);
  const int64_t width = (history >= 0).sum(1).max().item<int64_t>();  // no target sits past it
  p.history = history.slice(1, 0, width).contiguous();
  torch::Tensor targets = sequences.targets.index_select(0, idx).slice(1, 0, width + 1).reshape({-1});
  p.where = (targets >= 0).nonzero().squeeze(1);
  torch::Tensor counts = sequences.counts.index_select(0, idx).cumsum(0);
  p.first.assign(1, 0);
  p.first.insert(p.first.end(), counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
  Batch batch;
  batch.items = targets.index_select(0, p.where);
  batch.users = p.users.index_select(0, torch::div(p.where, width + 1, "floor"));
  batch.positives = batch.items.numel();
  batch.prefixes = std::move(p);
  return batch;
}

// The spans [begin, end) of the permutation of `n` units (pairs, or histories holding counts[j]
// pairs) that make the batches: whole units of at most `b` pairs per batch (a history of more is a
// batch alone).
std::vector<std::pair<int64_t, int64_t>> batch_spans(const torch::Tensor& perm, const torch::Tensor& counts, int64_t b) {
  const int64_t n = perm.numel();
  std::vector<std::pair<int64_t, int64_t>> spans;
  const int64_t* order = perm.data_ptr<int64_t>();
  const int64_t* count = counts.defined() ? counts.data_ptr<int64_t>() : nullptr;
  int64_t begin = 0, in_batch = 0;
  for (int64_t j = 0; j < n; ++j) {
    const int64_t c = count ? count[order[j]] : 1;
    if (in_batch > 0 && in_batch + c > b) {
      spans.emplace_back(begin, j);
      begin = j;
      in_batch = 0;
    }
    in_batch += c;
  }
  if (n > 0) spans.emplace_back(begin, n);
  return spans;
}

// The permutation of histories with each run of about 8 batches' worth of pairs sorted by history
// length (stable), so that a batch's histories have nearly one length: the encoder's work per
// batch is its longest history times its histories, and random batches of Games' histories
// (median a few items, some 50) are mostly padding.
torch::Tensor length_sorted_windows(const torch::Tensor& perm, const SequenceColumns& sequences, int64_t b) {
  const torch::Tensor lengths = (sequences.history >= 0).sum(1);
  const int64_t* length = lengths.data_ptr<int64_t>();
  const int64_t* count = sequences.counts.data_ptr<int64_t>();
  std::vector<int64_t> order(perm.data_ptr<int64_t>(), perm.data_ptr<int64_t>() + perm.numel());
  const auto shorter = [length](int64_t x, int64_t y) { return length[x] < length[y]; };
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin;
    for (int64_t pairs = 0; end < order.size() && pairs < 8 * b; ++end) pairs += count[order[end]];
    std::stable_sort(order.begin() + static_cast<ptrdiff_t>(begin), order.begin() + static_cast<ptrdiff_t>(end), shorter);
    begin = end;
  }
  return torch::tensor(order, torch::kLong);
}

// Turns the towers' id checks off while alive, when `off`.
class IdChecksOff {
 public:
  IdChecksOff(TwoTowerModel& model, bool off) : model_(model), off_(off) {
    if (off_) model_->set_id_checks(false);
  }
  ~IdChecksOff() {
    if (off_) model_->set_id_checks(true);
  }
  IdChecksOff(const IdChecksOff&) = delete;
  IdChecksOff& operator=(const IdChecksOff&) = delete;

 private:
  TwoTowerModel& model_;
  bool off_;
};

}  // namespace

EpochRunner::EpochRunner(TwoTowerModel& model, Optimizers& optimizers, NegativeSampler& sampler, Objective& objective,
                         const Config& config, DataParallel& dp, std::function<void()> between_steps)
    : model_(model), optimizers_(optimizers), sampler_(sampler), objective_(objective), config_(config), dp_(dp),
      between_steps_(std::move(between_steps)),
      parameters_(model->parameters()), tables_(model->embedding_parameters()),
      dense_parameters_(model->dense_parameters()) {
  const bool on_device = !parameters_.empty() && !parameters_.front().device().is_cpu();
  set_readback_steps(on_device ? kDeviceReadbackSteps : 1);
  if (config.training.trace_steps > 0 && dp_.is_root()) {
    trace_ = std::make_unique<StepTrace>(
        config.training.trace_steps, parameters_.empty() ? torch::Device(torch::kCPU) : parameters_.front().device(),
        std::filesystem::path(config.training.output_dir) / "trace.json");
  }
  if (config.training.cuda_graph) {
    if (dp_.active()) {
      fail("training.cuda_graph: got true with ", dp_.world_size(), " ranks, expected one process (the ranks' "
           "gradient exchange is not captured)");
    }
    graph_ = make_step_graph(parameters_, optimizers_, config.training,
                             parameters_.empty() ? torch::Device(torch::kCPU) : parameters_.front().device(),
                             [this](const torch::Tensor& users, const torch::Tensor& items, const torch::Tensor& negatives,
                                    const torch::Tensor& history) {
                               return objective_.loss_with(model_, users, items, negatives, history);
                             });
  }
}

void EpochRunner::set_readback_steps(int64_t steps) {
  if (steps < 1) fail("loss read back: got every ", steps, " steps, expected >= 1");
  readback_steps_ = dp_.active() ? 1 : steps;
}

void EpochRunner::read_back(int64_t epoch, int64_t batch, int64_t num_batches) {
  if (pending_.empty()) return;
  const torch::Tensor values = torch::stack(pending_).to(torch::kCPU, torch::kDouble);
  const auto first = batch - static_cast<int64_t>(pending_.size());
  pending_.clear();
  for (int64_t j = 0; j < values.numel(); ++j) {
    const double value = values.data_ptr<double>()[j];
    if (!std::isfinite(value)) {
      fail("training: the loss is ", value, " at epoch ", epoch, ", step ", first + j + 1, " of ", num_batches,
           "; losses are read back every ", readback_steps_, " steps, so steps ", first + j + 1, " to ", batch,
           " updated the model; checkpoints/last.pt still holds the last good epoch. Expected a finite loss: lower "
           "training.learning_rate, raise training.temperature or check the inputs");
    }
    total_ += value;
    ++read_;
  }
}

void EpochRunner::step(const torch::Tensor& loss, int64_t epoch, int64_t batch, int64_t num_batches) {
  const TrainingConfig& t = config_.training;
  const bool now = readback_steps_ == 1;
  double value = now ? loss.item<double>() : NAN;
  if (!now) pending_.push_back(loss.detach());
  optimizers_.dense->zero_grad();
  if (optimizers_.rows) optimizers_.rows->zero_grad();
  // With several ranks the loss is summed with the first gradient bucket, so the backward pass
  // comes first; one process checks before it.
  if (dp_.active()) {
    loss.backward();
    dp_.reduce_gradients(dense_parameters_, tables_, !optimizers_.sparse_tables, value);
  }
  if (now && !std::isfinite(value)) {
    fail("training: the loss is ", value, " at epoch ", epoch, ", step ", batch + 1, " of ", num_batches,
         " (no update was made from it); checkpoints/last.pt still holds the last good epoch. "
         "Expected a finite loss: lower training.learning_rate, raise training.temperature or check the inputs");
  }
  if (now) {
    total_ += value;
    ++read_;
  }
  if (!dp_.active()) loss.backward();
  if (t.clip_grad_norm > 0) {
    clip_gradients(optimizers_.rows ? dense_parameters_ : parameters_, optimizers_.rows.get(), t.clip_grad_norm);
  }
  if (optimizers_.rows) optimizers_.rows->step();
  optimizers_.dense->step();
}

double EpochRunner::run(const PairColumns& train, int64_t epoch, int64_t& steps, int64_t& pairs) {
  const TrainingConfig& t = config_.training;
  const SequenceColumns& sequences = train.sequences;
  const bool by_history = sequences.size() > 0;
  // A positive and its neg_ratio sampled negatives count as 1 + neg_ratio scored pairs (the
  // reference's count); the softmax losses score each positive against shared negatives, 1 pair.
  const bool sampled = t.loss == LossKind::kBce || t.loss == LossKind::kBpr;
  const int64_t k = sampled ? config_.data.neg_ratio : 0, n = by_history ? sequences.size() : train.size();
  // Rank 0's order (the one process's generator), the same on every rank.
  torch::Tensor perm = torch::randperm(n, torch::kLong);
  dp_.broadcast({perm});
  if (by_history) perm = length_sorted_windows(perm, sequences, t.batch_size);
  std::vector<std::pair<int64_t, int64_t>> spans =
      batch_spans(perm, by_history ? sequences.counts : torch::Tensor(), t.batch_size);
  if (by_history) {
    // The length-sorted batches in random order (rank 0's).
    torch::Tensor shuffle = torch::randperm(static_cast<int64_t>(spans.size()), torch::kLong);
    dp_.broadcast({shuffle});
    std::vector<std::pair<int64_t, int64_t>> shuffled;
    for (const int64_t* j = shuffle.data_ptr<int64_t>(); j != shuffle.data_ptr<int64_t>() + shuffle.numel(); ++j) {
      shuffled.push_back(spans[static_cast<size_t>(*j)]);
    }
    spans = std::move(shuffled);
  }
  if (t.max_steps_per_epoch > 0 && static_cast<int64_t>(spans.size()) > t.max_steps_per_epoch) {
    spans.resize(static_cast<size_t>(t.max_steps_per_epoch));
  }
  const auto num_batches = static_cast<int64_t>(spans.size());
  model_->train();
  std::optional<Progress> progress;
  if (dp_.is_root()) {
    const int64_t total_pairs = by_history ? sequences.counts.sum().item<int64_t>() : n;
    progress.emplace(str_cat("epoch ", epoch, "/", t.num_epochs), std::min(total_pairs, num_batches * t.batch_size) * (1 + k), "pairs");
  }
  total_ = 0;
  read_ = 0;
  pending_.clear();
  // On a device each batch's id check would wait for it: the columns are checked once instead
  // (histories' batches read the same users and items, and their histories from `sequences`).
  const bool check_once = readback_steps_ > 1 &&
                          model_->ids_in_range(train.users, train.items, by_history ? sequences.history : train.history);
  IdChecksOff id_checks(model_, check_once);
  // A captured step holds no id check (each would wait for the device): the graph runs only when
  // the columns passed the check.
  StepGraph* graph = check_once ? graph_.get() : nullptr;
  const std::unique_ptr<StepGraph::Scope> on_stream = graph ? graph->scope() : nullptr;
  // Batches are assembled in order, the next one on a background thread while this one trains;
  // a worker's exception surfaces at get().
  const auto policy = t.prefetch ? std::launch::async : std::launch::deferred;
  auto assemble = [&](int64_t batch) {
    const auto [s, e] = spans[static_cast<size_t>(batch)];
    return by_history ? make_prefix_batch(sequences, perm, s, e) : make_batch(train, perm, s, e);
  };
  std::future<Batch> next;
  if (num_batches > 0) next = std::async(policy, assemble, 0);
  for (int64_t batch = 0; batch < num_batches; ++batch) {
    if (trace_) trace_->before_batch(epoch, batch);
    Batch current = next.get();
    if (batch + 1 < num_batches) next = std::async(policy, assemble, batch + 1);
    const torch::Tensor negatives = objective_.draw_negatives(sampler_, current.items);
    const torch::Tensor replayed =
        graph ? graph->step(current.users, current.items, negatives, current.history) : torch::Tensor();
    if (replayed.defined()) {
      pending_.push_back(replayed);
    } else {
      step(objective_.loss_with(model_, current.users, current.items, negatives, current.history,
                                current.prefixes ? &*current.prefixes : nullptr),
           epoch, batch, num_batches);
    }
    ++steps;
    pairs += current.positives * (1 + k);
    if (static_cast<int64_t>(pending_.size()) >= readback_steps_ || batch + 1 == num_batches) {
      read_back(epoch, batch + 1, num_batches);
    }
    if (trace_) trace_->after_batch(epoch, batch, batch + 1 == num_batches);
    if (progress) progress->add(current.positives * (1 + k), str_cat("loss ", total_ / static_cast<double>(std::max<int64_t>(read_, 1))));
    if (between_steps_) between_steps_();
  }
  const double mean = num_batches ? total_ / static_cast<double>(num_batches) : NAN;
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

double validation_loss(const Matrix& users, const Matrix& items, const PairColumns& valid, TwoTowerModel& model,
                       const Config& config) {
  if (valid.size() == 0) return NAN;
  torch::NoGradGuard no_grad;
  const auto as_tensor = [](const Matrix& m) {
    return torch::from_blob(const_cast<float*>(m.data.data()), {m.rows, m.cols}, torch::kFloat);
  };
  const torch::Tensor u = as_tensor(users), v = as_tensor(items);
  const torch::Tensor scale = model->logit_scale(config.training.logit_scale).detach().to(torch::kCPU);
  double total = 0;
  const int64_t batch = config.training.batch_size;
  for (int64_t s = 0; s < valid.size(); s += batch) {
    int64_t e = std::min(valid.size(), s + batch);
    torch::Tensor scores = (u.index_select(0, valid.users.slice(0, s, e).cpu()) *
                            v.index_select(0, valid.items.slice(0, s, e).cpu())).sum(-1);
    total += bce_loss(scores, torch::ones_like(scores), scale).item<double>() * static_cast<double>(e - s);
  }
  return total / static_cast<double>(valid.size());
}

}  // namespace twotower
