#include "twotower/train/trainer.h"

#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <set>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/common/memory.h"
#include "twotower/common/progress.h"
#include "twotower/data/text_embeddings.h"
#include "twotower/model/linear.h"
#include "twotower/model/two_tower.h"
#include "twotower/train/checkpoint.h"
#include "twotower/train/history_plot.h"
#include "twotower/train/loss.h"
#include "twotower/train/model_inputs.h"
#include "twotower/train/negative_sampler.h"
#include "twotower/train/objective.h"
#include "twotower/train/schedule.h"
#include "twotower/train/sparse_optimizer.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

constexpr int64_t kEmbedChunk = 8192;  // rows per forward when embedding the whole vocabulary

// One log line of the resident memory at a stage of the run (docs/speed.md's breakdown).
void log_memory(const char* stage) {
  auto mib = [](double v) { return static_cast<int64_t>(std::lround(v)); };
  log_info("memory: ", stage, ": resident ", mib(resident_mib()), " MiB (anonymous ", mib(resident_anon_mib()),
           ", file ", mib(resident_file_mib()), "), peak ", mib(peak_resident_mib()), " MiB; malloc: live ",
           mib(malloc_live_mib()), " MiB, free held ", mib(malloc_free_held_mib()), " MiB");
}

// Restores the log file sink on every exit path of a run.
struct LogFileGuard {
  explicit LogFileGuard(const fs::path& path) { set_log_file(path); }
  ~LogFileGuard() { set_log_file({}); }
  LogFileGuard(const LogFileGuard&) = delete;
  LogFileGuard& operator=(const LogFileGuard&) = delete;
};

torch::Device pick_device(DeviceKind kind) {
  bool cuda = torch::cuda::is_available();
  if (kind == DeviceKind::kCuda && !cuda) {
    fail("training.device: got cuda, expected auto or cpu (no CUDA device is available to LibTorch)");
  }
  if (kind == DeviceKind::kCpu || !cuda) return torch::kCPU;
  return torch::Device(torch::kCUDA, 0);
}

torch::Tensor long_tensor(const std::vector<int64_t>& values) {
  return torch::from_blob(const_cast<int64_t*>(values.data()), {static_cast<int64_t>(values.size())}, torch::kLong)
      .clone();
}

// The [num_items, width] text matrix: the configured .npy or .parquet, or zeros of width emb_dim.
torch::Tensor load_text(const Config& config, const std::vector<std::string>& item_ids) {
  const std::string& path = config.data.text_embeddings;
  const auto num_items = static_cast<int64_t>(item_ids.size());
  // No file: the reference's zero text, as a broadcast view of one zero row (no memory per item).
  if (path.empty()) return torch::zeros({1, config.data.emb_dim}).expand({num_items, config.data.emb_dim});
  Matrix m = read_text_embeddings(path, config.data.text_embeddings_column, item_ids);
  if (m.cols != config.data.emb_dim) {
    fail("data.emb_dim: got ", config.data.emb_dim, ", expected the width of ", path, " (", m.cols, ")");
  }
  return torch::from_blob(m.data.data(), {m.rows, m.cols}, torch::kFloat).clone();
}

std::vector<int64_t> rows_in(const Dataset& data, const std::vector<std::string>& splits) {
  std::vector<bool> wanted(3, false);
  for (const auto& s : splits) wanted[static_cast<size_t>(parse_split(s))] = true;
  std::vector<int64_t> rows;
  const auto& split = data.interactions.split;
  for (size_t i = 0; i < split.size(); ++i) {
    if (wanted[static_cast<size_t>(split[i])]) rows.push_back(static_cast<int64_t>(i));
  }
  return rows;
}

// The (user, item) columns of the given rows.
struct PairColumns {
  torch::Tensor users;  // [n] int64, CPU
  torch::Tensor items;  // [n] int64, CPU
  torch::Tensor history;  // [n, N] int64 items before each pair (user_history_mode: before), or undefined
  int64_t size() const { return users.numel(); }
};

PairColumns pairs_of(const Dataset& data, const std::vector<int64_t>& rows) {
  std::vector<int64_t> u(rows.size()), i(rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    u[k] = data.interactions.user[static_cast<size_t>(rows[k])];
    i[k] = data.interactions.item[static_cast<size_t>(rows[k])];
  }
  return {long_tensor(u), long_tensor(i), torch::Tensor()};
}

// Every user's or item's embedding in eval mode, [n, D] float32 on the CPU.
Matrix embed_all(TwoTowerModel& model, int64_t n, bool users, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  bool was_training = model->is_training();
  model->eval();
  // Each chunk is copied straight into the result: the matrix exists once, not as chunks,
  // their concatenation and a copy (three times the memory at a large catalogue).
  Matrix m;
  m.rows = n;
  for (int64_t s = 0; s < n; s += kEmbedChunk) {
    torch::Tensor ids = torch::arange(s, std::min(n, s + kEmbedChunk), torch::TensorOptions(torch::kLong).device(device));
    torch::Tensor part = (users ? model->user_embeddings(ids) : model->item_embeddings(ids)).to(torch::kCPU).contiguous();
    if (s == 0) {
      m.cols = part.size(1);
      m.data.resize(static_cast<size_t>(n * m.cols));
    }
    std::memcpy(m.data.data() + s * m.cols, part.data_ptr<float>(), static_cast<size_t>(part.numel()) * sizeof(float));
  }
  if (was_training) model->train();
  return m;
}

// The reference's validation loss: BCE on positive pairs only (label 1), mean over pairs;
// NaN when the split is empty.
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

double embedding_rate(const TrainingConfig& t) {
  return t.embedding_learning_rate > 0 ? t.embedding_learning_rate : t.learning_rate;
}

// The optimizers of a run: torch's dense one (every parameter, or the dense ones only when the
// id embeddings have a row-wise optimizer of their own).
struct Optimizers {
  std::unique_ptr<torch::optim::Optimizer> dense;
  std::unique_ptr<RowWiseOptimizer> rows;  // null for embedding_optimizer: dense
};

Optimizers make_optimizers(TwoTowerModel& model, const TrainingConfig& t) {
  Optimizers o;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (t.embedding_optimizer == EmbeddingOptimizerKind::kDense) {
    groups.emplace_back(model->embedding_parameters());
  } else {
    RowWiseOptions options;
    options.kind = t.embedding_optimizer;
    options.learning_rate = embedding_rate(t);
    options.weight_decay = t.weight_decay;
    o.rows = std::make_unique<RowWiseOptimizer>(model->embedding_parameters(), options);
    // Sparse gradients: a step touches the looked-up rows only, never the whole table.
    for (auto* e : {&model->user_tower->embedding, &model->item_tower->embedding, &model->item_tower->category_embedding,
                    &model->item_tower->brand_embedding}) {
      if (*e) (*e)->options.sparse(true);
    }
  }
  groups.emplace_back(model->dense_parameters());
  if (t.optimizer == OptimizerKind::kAdam) {
    o.dense = std::make_unique<torch::optim::Adam>(
        groups, torch::optim::AdamOptions(t.learning_rate).weight_decay(t.weight_decay));
  } else {
    o.dense = std::make_unique<torch::optim::SGD>(
        groups, torch::optim::SGDOptions(t.learning_rate).momentum(t.momentum).weight_decay(t.weight_decay));
  }
  return o;
}

void set_learning_rates(Optimizers& optimizers, const TrainingConfig& t, int64_t step) {
  auto& groups = optimizers.dense->param_groups();
  // Dense groups: [embeddings, rest] with a dense embedding optimizer, else [rest].
  groups.back().options().set_lr(scheduled_learning_rate(t, t.learning_rate, step));
  if (groups.size() == 2) groups.front().options().set_lr(scheduled_learning_rate(t, embedding_rate(t), step));
  if (optimizers.rows) optimizers.rows->set_learning_rate(scheduled_learning_rate(t, embedding_rate(t), step));
}

// Clips the global L2 norm of every gradient (dense ones and the tables' sparse ones) to
// max_norm, as torch's clip_grad_norm_ does over dense gradients: g *= max_norm / (norm + 1e-6)
// when that factor is below 1.
void clip_with_rows(const std::vector<torch::Tensor>& dense, RowWiseOptimizer& rows, double max_norm) {
  double squares = rows.coalesce_grads();
  std::vector<torch::Tensor> norms;
  for (const auto& p : dense) {
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  }
  if (!norms.empty()) squares += torch::stack(norms).pow(2).sum().item<double>();
  double factor = max_norm / (std::sqrt(squares) + 1e-6);
  if (factor >= 1) return;
  for (const auto& p : dense) {
    if (p.grad().defined()) p.grad().mul_(factor);
  }
  rows.scale_grads(factor);
}

bool lower_is_better(const TrainingConfig& t) {
  if (t.best_metric_mode == MetricMode::kMin) return true;
  if (t.best_metric_mode == MetricMode::kMax) return false;
  return t.best_metric.find("loss") != std::string::npos;
}

bool improves(double value, const TrainState& state, bool lower) {
  if (state.best_epoch == 0) return true;
  if (!std::isfinite(value)) return false;
  if (!std::isfinite(state.best_value)) return true;
  return lower ? value < state.best_value : value > state.best_value;
}

// The config as saved with the run: data paths made absolute, so that readers of
// OUTPUT_DIR/config.yaml (the evaluator) find the data from any working directory.
Config resolved_paths(Config c) {
  c.data.data_path = fs::absolute(c.data.data_path).lexically_normal().string();
  if (!c.data.text_embeddings.empty()) {
    c.data.text_embeddings = fs::absolute(c.data.text_embeddings).lexically_normal().string();
  }
  return c;
}

// Keys that may change between a run and its resumption without breaking exactness.
std::string comparable_yaml(Config c, const Config& now) {
  c = resolved_paths(c);
  c.training.num_epochs = now.training.num_epochs;
  c.training.early_stopping_patience = now.training.early_stopping_patience;
  c.training.output_dir = now.training.output_dir;
  c.training.threads = now.training.threads;
  c.training.prefetch = now.training.prefetch;
  return config_to_yaml(c);
}

// One step's positives, on the CPU.
struct Batch {
  torch::Tensor users;  // [m] int64
  torch::Tensor items;  // [m] int64
  torch::Tensor history;  // [m, N] int64, or undefined
  int64_t positives = 0;
};

// One epoch of the configured loss; returns the mean loss and counts the pairs.
class EpochRunner {
 public:
  EpochRunner(TwoTowerModel& model, Optimizers& optimizers, NegativeSampler& sampler, Objective& objective,
              const Config& config)
      : model_(model), optimizers_(optimizers), sampler_(sampler), objective_(objective), config_(config),
        parameters_(model->parameters()), dense_parameters_(model->dense_parameters()) {}

  // Runs one epoch over `train`; `steps` counts optimizer steps across epochs.
  double run(const PairColumns& train, int64_t epoch, int64_t& steps, int64_t& pairs) {
    const TrainingConfig& t = config_.training;
    const int64_t b = t.batch_size, k = config_.data.neg_ratio, n = train.size();
    int64_t num_batches = (n + b - 1) / b;
    if (t.max_steps_per_epoch > 0) num_batches = std::min(num_batches, t.max_steps_per_epoch);
    torch::Tensor perm = torch::randperm(n, torch::kLong);
    model_->train();
    Progress progress(str_cat("epoch ", epoch, "/", t.num_epochs), std::min(n, num_batches * b) * (1 + k), "pairs");
    double total = 0;
    // Batches are assembled in order, the next one on a background thread while this one
    // trains; a worker's exception surfaces at get().
    auto assemble = [this, &train, &perm, b, n](int64_t batch) { return make_batch(train, perm, batch * b, std::min(n, (batch + 1) * b)); };
    std::future<Batch> next;
    if (num_batches > 0) next = std::async(t.prefetch ? std::launch::async : std::launch::deferred, assemble, 0);
    for (int64_t batch = 0; batch < num_batches; ++batch) {
      Batch current = next.get();
      if (batch + 1 < num_batches) {
        next = std::async(t.prefetch ? std::launch::async : std::launch::deferred, assemble, batch + 1);
      }
      const int64_t m = current.positives;
      torch::Tensor loss = objective_.loss(model_, sampler_, current.users, current.items, current.history);
      optimizers_.dense->zero_grad();
      if (optimizers_.rows) optimizers_.rows->zero_grad();
      loss.backward();
      if (optimizers_.rows) {
        if (t.clip_grad_norm > 0) clip_with_rows(dense_parameters_, *optimizers_.rows, t.clip_grad_norm);
        optimizers_.rows->step();
      } else if (t.clip_grad_norm > 0) {
        torch::nn::utils::clip_grad_norm_(parameters_, t.clip_grad_norm);
      }
      optimizers_.dense->step();
      double value = loss.item<double>();
      total += value;
      ++steps;
      pairs += m * (1 + k);
      progress.add(m * (1 + k), str_cat("loss ", total / static_cast<double>(batch + 1)));
    }
    progress.finish(str_cat("loss ", num_batches ? total / static_cast<double>(num_batches) : NAN));
    return num_batches ? total / static_cast<double>(num_batches) : NAN;
  }

 private:
  // The positives of a slice of the permutation (CPU); the objective draws the negatives in
  // order on this thread, so the sampler's sequence does not depend on the prefetching.
  Batch make_batch(const PairColumns& train, const torch::Tensor& perm, int64_t s, int64_t e) {
    torch::Tensor idx = perm.slice(0, s, e);
    Batch batch;
    batch.users = train.users.index_select(0, idx);
    batch.items = train.items.index_select(0, idx);
    if (train.history.defined()) batch.history = train.history.index_select(0, idx);
    batch.positives = e - s;
    return batch;
  }

  TwoTowerModel& model_;
  Optimizers& optimizers_;
  NegativeSampler& sampler_;
  Objective& objective_;
  const Config& config_;
  std::vector<torch::Tensor> parameters_;
  std::vector<torch::Tensor> dense_parameters_;
};

}  // namespace

// glibc serves allocations above a (dynamic, at most 32 MB) threshold with fresh mmap pages and
// returns them on free, so each step's large activations (a 4096 x 4096 score matrix is 64 MB)
// page-fault and are zeroed by the kernel anew. Training allocates the same sizes every step:
// keep them in the heap for reuse instead.
void keep_large_allocations() {
  mallopt(M_MMAP_THRESHOLD, 128 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
}

// After training, the steps' buffers no longer recur: large allocations go back to fresh mmap
// pages, returned on free, and the heap's free pages (the optimizers' moments) go back now.
// Otherwise the export's chunks wander through the freed heap region, touching its pages anew.
void release_large_allocations() {
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 20);
  malloc_trim(0);
}

TrainSummary run_training(const Config& given, const TrainOptions& options) {
  keep_large_allocations();
  const Config config = resolved_paths(given);
  const TrainingConfig& t = config.training;
  const fs::path out = t.output_dir;
  const fs::path last_path = out / "checkpoints" / "last.pt", best_path = out / "checkpoints" / "best.pt";
  fs::create_directories(out / "checkpoints");
  LogFileGuard log_file(out / "train.log");
  if (!options.resume && fs::exists(last_path)) {
    log_warn(out.string(), " holds checkpoints of an earlier run: starting over (use --resume to continue it)");
  }
  if (options.resume && !fs::exists(last_path)) fail("--resume: ", last_path.string(), " does not exist");
  save_config(config, out / "config.yaml");

  if (t.threads > 0) torch::set_num_threads(static_cast<int>(t.threads));
  torch::Device device = pick_device(t.device);
  set_cpu_matmul(t.cpu_matmul);
  set_matmul_precision(t.matmul_precision);
  if (t.matmul_precision == MatmulPrecision::kBf16) {
    if (!device.is_cpu()) {
      log_warn("training.matmul_precision: bf16 applies to the CPU's oneDNN products; on ", device.str(),
               " the layers run in fp32");
    } else if (t.cpu_matmul != CpuMatmul::kOneDnn || !onednn_bf16_available()) {
      fail("training.matmul_precision: got bf16, expected fp32 here: bf16 products need training.cpu_matmul: onednn",
           " and a CPU whose oneDNN multiplies bf16 (AVX512-BF16, AVX-NE-CONVERT or AMX)",
           onednn_bf16_available() ? "" : "; this one does not");
    }
  }
  log_info("train: output ", out.string(), ", device ", device.str(), ", ", torch::get_num_threads(), " threads",
           device.is_cpu() ? str_cat(", matrix products by ", onednn_available() ? to_string(t.cpu_matmul) : "torch",
                                     " in ", to_string(t.matmul_precision))
                           : std::string());

  log_memory("start");
  Dataset data = load_dataset(config.data.data_path, ItemText::kSkip);
  // The id maps' JSON trees and the decoded Parquet are gone; malloc keeps freed memory under
  // the trim threshold set above, so it is handed back once here, before the model is made.
  malloc_trim(0);
  log_memory("data loaded");
  ModelSizes sizes;
  sizes.num_users = data.num_users();
  sizes.num_items = data.num_items();
  sizes.num_categories = static_cast<int64_t>(data.items.category_vocab.size());
  sizes.num_brands = static_cast<int64_t>(data.items.brand_vocab.size());
  sizes.text_dim = config.data.emb_dim;

  torch::manual_seed(config.data.seed);
  TwoTowerModel model(config.model, sizes);
  ItemFeatureTable features;
  std::vector<int64_t> category(data.items.category_idx.begin(), data.items.category_idx.end());
  std::vector<int64_t> brand(data.items.brand_idx.begin(), data.items.brand_idx.end());
  features.category = long_tensor(category);
  if (config.model.pool_categories) {
    PaddedTable paths = category_paths(data.items, sizes.num_items);
    features.category = long_tensor(paths.values).view({paths.rows, paths.width});
  }
  features.brand = long_tensor(brand);
  if (config.model.use_text) features.text = load_text(config, data.item_ids);
  model->set_item_features(std::move(features));
  std::vector<int64_t> train_rows = rows_in(data, config.data.train_splits);
  if (config.model.user_history > 0) {
    PaddedTable recent = recent_items(data.interactions, train_rows, sizes.num_users, config.model.user_history);
    model->set_user_history(long_tensor(recent.values).view({recent.rows, recent.width}));
  }
  if (t.learn_logit_scale) model->add_logit_scale(t.logit_scale);
  model->move_to(device);
  log_info("model: ", model->describe_parameters());
  log_memory("model and item features");

  Optimizers optimizers = make_optimizers(model, t);
  if (optimizers.rows) log_info("embeddings: row-wise ", to_string(t.embedding_optimizer), " (only the rows a batch touches)");
  NegativeSampler sampler(sizes.num_items, config.data.seed);
  TrainState state;
  state.config_yaml = config_to_yaml(config);
  nlohmann::json history = nlohmann::json::array();
  if (options.resume) {
    state = load_checkpoint(last_path, model, optimizers.dense.get(), optimizers.rows.get());
    Config saved = parse_config(state.config_yaml, last_path.string() + " (config)");
    if (comparable_yaml(saved, config) != comparable_yaml(config, config)) {
      log_warn("--resume: the configuration differs from the checkpoint's beyond num_epochs, "
               "early_stopping_patience, output_dir and threads; the continuation is not an exact one");
    }
    state.config_yaml = config_to_yaml(config);
    history = nlohmann::json::parse(state.history_json);
    sampler.set_state(state.sampler_state);
    restore_rng_state(state);
    log_info("resumed from ", last_path.string(), " after epoch ", state.epoch, " (step ", state.step, ")");
  }

  PairColumns train = pairs_of(data, train_rows);
  if (config.model.user_history > 0 && config.model.user_history_mode == UserHistoryMode::kBefore) {
    PaddedTable before = items_before(data.interactions, train_rows, config.model.user_history);
    train.history = long_tensor(before.values).view({before.rows, before.width});
  }
  PairColumns valid = pairs_of(data, rows_in(data, {config.data.valid_split}));
  if (train.size() == 0) fail("data.train_splits: no interaction of ", config.data.data_path, " is in them");
  {
    // Ids without training pairs get no gradient; zeroed, they stay at the zero input that the
    // id dropouts train the towers for.
    torch::Tensor seen_users = torch::zeros({sizes.num_users}, torch::kBool).index_fill_(0, train.users, true);
    torch::Tensor seen_items = torch::zeros({sizes.num_items}, torch::kBool).index_fill_(0, train.items, true);
    model->zero_unseen_ids(seen_users, seen_items);
  }
  log_info("data: ", sizes.num_users, " users, ", sizes.num_items, " items, ", train.size(), " training pairs, ",
           valid.size(), " validation pairs");
  log_memory("optimizers and training pairs");

  const bool lower = lower_is_better(t);
  std::vector<int64_t> train_items(train.items.data_ptr<int64_t>(), train.items.data_ptr<int64_t>() + train.size());
  Objective objective(config, train_items, sizes.num_items, device);
  EpochRunner runner(model, optimizers, sampler, objective, config);
  TrainSummary summary;
  double train_seconds = 0;
  int64_t pairs_this_run = 0;
  std::vector<std::string> metric_names;
  for (int64_t epoch = state.epoch; epoch < t.num_epochs; ++epoch) {
    set_learning_rates(optimizers, t, state.scheduler_step);
    auto start = std::chrono::steady_clock::now();
    int64_t pairs = 0;
    double train_loss = runner.run(train, epoch + 1, state.step, pairs);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    train_seconds += seconds;
    pairs_this_run += pairs;
    double val_loss = validation_loss(model, valid, config, device);

    nlohmann::json record = {{"epoch", epoch + 1},
                             {"train_loss", train_loss},
                             {"val_loss", val_loss},
                             {"learning_rate", optimizers.dense->param_groups().back().options().get_lr()},
                             {"seconds", seconds},
                             {"pairs_per_s", seconds > 0 ? static_cast<double>(pairs) / seconds : 0.0},
                             {"steps", state.step}};
    if (options.metrics) {
      Matrix users = embed_all(model, sizes.num_users, true, device);
      Matrix items = embed_all(model, sizes.num_items, false, device);
      for (const auto& [name, value] : options.metrics(EpochEmbeddings{users, items, data, config, epoch + 1})) {
        record[name] = value;
        if (std::find(metric_names.begin(), metric_names.end(), name) == metric_names.end()) {
          metric_names.push_back(name);
        }
      }
    }
    auto metric = record.find(t.best_metric);
    if (metric == record.end() || !(metric->is_number() || metric->is_null())) {
      std::string names = "val_loss, train_loss";
      for (const auto& n : metric_names) names += ", " + n;
      fail("training.best_metric: got \"", t.best_metric, "\", expected one of ", names);
    }
    double value = metric->is_number() ? metric->get<double>() : NAN;
    bool better = improves(value, state, lower);
    if (better) {
      state.best_epoch = epoch + 1;
      state.best_value = value;
      state.epochs_without_improvement = 0;
    } else {
      ++state.epochs_without_improvement;
    }
    history.push_back(record);
    log_info("epoch ", epoch + 1, "/", t.num_epochs, ": ", record.dump(), better ? " (best)" : "");
    log_memory("after the epoch");

    state.epoch = epoch + 1;
    state.scheduler_step = epoch + 1;
    state.history_json = history.dump();
    state.sampler_state = sampler.state();
    capture_rng_state(state);
    save_checkpoint(last_path, model, *optimizers.dense, state, optimizers.rows.get());
    // best.pt holds the model without the optimizers' moments: the end of the run reads it back
    // for the weights only, and reading a whole checkpoint would hold the moments once more.
    if (better) save_model_checkpoint(best_path, model, state);
    write_json_file({{"best_metric", t.best_metric},
                     {"best_epoch", state.best_epoch},
                     {"clamped_user_ids", model->clamped_user_ids()},
                     {"clamped_item_ids", model->clamped_item_ids()},
                     {"epochs", history}},
                    out / "history.json");
    if (t.early_stopping_patience > 0 && state.epochs_without_improvement >= t.early_stopping_patience) {
      log_info("early stopping: ", t.best_metric, " has not improved for ", state.epochs_without_improvement,
               " epochs (best ", state.best_value, " at epoch ", state.best_epoch, ")");
      summary.stopped_early = true;
      break;
    }
  }
  for (const auto& record : history) {
    for (const auto& [key, value] : record.items()) {
      static const std::set<std::string> kFixed{"epoch", "train_loss", "val_loss", "learning_rate",
                                                "seconds", "pairs_per_s", "steps"};
      if (!kFixed.count(key) && std::find(metric_names.begin(), metric_names.end(), key) == metric_names.end()) {
        metric_names.push_back(key);
      }
    }
  }
  plot_history(history, metric_names, out / "training_history.png");

  summary.clamped_user_ids = model->clamped_user_ids();
  summary.clamped_item_ids = model->clamped_item_ids();
  if (summary.clamped_user_ids + summary.clamped_item_ids > 0) {
    log_warn("clamped out-of-range ids: ", summary.clamped_user_ids, " user ids, ", summary.clamped_item_ids,
             " item ids");
  }
  // The optimizers' state (two moments per parameter) is no longer needed: freed before the best
  // checkpoint is read, so the two never sit in memory together.
  optimizers = Optimizers();
  release_large_allocations();
  // The model in memory is the last epoch's: read the best one back only when it differs.
  if (state.best_epoch != state.epoch && fs::exists(best_path)) load_checkpoint(best_path, model, nullptr);
  if (config.model.user_history > 0) {
    // The exported user vectors pool every interaction before the test split (train + valid),
    // as a served model reads the latest history without retraining.
    PaddedTable recent = recent_items(data.interactions, rows_in(data, {"train", "valid"}), sizes.num_users,
                                      config.model.user_history);
    model->set_user_history(long_tensor(recent.values).view({recent.rows, recent.width}));
  }
  write_npy(embed_all(model, sizes.num_users, true, device), out / "user_embeddings.npy");
  write_npy(embed_all(model, sizes.num_items, false, device), out / "item_embeddings.npy");

  summary.epochs_done = state.epoch;
  summary.best_epoch = state.best_epoch;
  summary.best_value = state.best_value;
  summary.pairs_per_second = train_seconds > 0 ? static_cast<double>(pairs_this_run) / train_seconds : 0.0;
  summary.history = history;
  log_info("done: best ", t.best_metric, " ", state.best_value, " at epoch ", state.best_epoch, "; ",
           summary.pairs_per_second, " pairs/s; embeddings of epoch ", state.best_epoch, " in ", out.string());
  return summary;
}

}  // namespace twotower
