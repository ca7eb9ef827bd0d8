#include "twotower/train/trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/common/memory.h"
#include "twotower/common/text.h"
#include "twotower/config/best_metric.h"
#include "twotower/data/model_inputs.h"
#include "twotower/model/embedding_export.h"
#include "twotower/train/batch_size.h"
#include "twotower/train/best_epoch.h"
#include "twotower/train/data_parallel.h"
#include "twotower/train/gpu/device_memory.h"
#include "twotower/train/epoch_runner.h"
#include "twotower/train/init_from.h"
#include "twotower/train/run_setup.h"
#include "twotower/train/run_writer.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

// Before any work: a best_metric that only the metrics hook could produce needs the hook, and
// one of the names it returns when they are known.
void check_best_metric(const TrainingConfig& t, const TrainOptions& options) {
  if (is_loss_best_metric(t.best_metric)) return;
  const auto& names = options.metric_names;
  if (options.metrics && (names.empty() || std::find(names.begin(), names.end(), t.best_metric) != names.end())) return;
  std::string expected = loss_best_metrics_text();
  for (const auto& n : options.metrics ? names : std::vector<std::string>{}) expected += ", " + n;
  fail("training.best_metric: got \"", t.best_metric, "\", expected one of ", expected,
       options.metrics ? "" : " (ranking metrics are computed only with the validation metrics on; --no-eval turns them off)");
}

// Ids without training pairs get no gradient; zeroed, they stay at the zero input that the id
// dropouts train the towers for.
void zero_unseen_ids(TwoTowerModel& model, const PairColumns& train) {
  const ModelSizes& sizes = model->sizes();
  torch::Tensor seen_users = torch::zeros({sizes.num_users}, torch::kBool).index_fill_(0, train.users, true);
  torch::Tensor seen_items = torch::zeros({sizes.num_items}, torch::kBool).index_fill_(0, train.items, true);
  model->zero_unseen_ids(seen_users, seen_items);
}

// The epoch's record for history.json.
nlohmann::json epoch_record(int64_t epoch, double train_loss, double val_loss, double seconds, int64_t pairs,
                            int64_t steps, double learning_rate) {
  return {{"epoch", epoch},
          {"train_loss", train_loss},
          {"val_loss", val_loss},
          {"learning_rate", learning_rate},
          {"seconds", seconds},
          {"pairs_per_s", seconds > 0 ? static_cast<double>(pairs) / seconds : 0.0},
          {"steps", steps}};
}

// The metrics hook's values on the epoch's embeddings, added to `record`; their names are added to
// `metric_names` in first-seen order.
void add_hook_metrics(const TrainOptions& options, const Matrix& users, const Matrix& items, const Dataset& data,
                      const Config& config, int64_t epoch, const torch::Device& device, nlohmann::json& record,
                      std::vector<std::string>& metric_names) {
  for (const auto& [name, value] : options.metrics(EpochEmbeddings{users, items, data, config, epoch, device})) {
    record[name] = value;
    if (std::find(metric_names.begin(), metric_names.end(), name) == metric_names.end()) metric_names.push_back(name);
  }
}

// What the collectives cost per step in the epoch just run (rank 0's view), for history.json.
void add_communication(nlohmann::json& record, const CommunicationStats& c, double epoch_seconds) {
  const double steps = static_cast<double>(std::max<int64_t>(c.steps, 1));
  record["comm_dense_bytes_per_step"] = static_cast<double>(c.dense_bytes) / steps;
  record["comm_sparse_bytes_per_step"] = static_cast<double>(c.sparse_bytes) / steps;
  record["comm_gather_bytes_per_step"] = static_cast<double>(c.gather_bytes) / steps;
  record["comm_share"] = epoch_seconds > 0 ? c.seconds / epoch_seconds : 0.0;
}

// The CUDA device of this rank: torchrun's LOCAL_RANK (0 outside torchrun).
int local_rank() {
  const char* value = std::getenv("LOCAL_RANK");
  int64_t rank = 0;
  if (value && (!parse_int64(value, &rank) || rank < 0 || rank > 65535)) {
    fail("LOCAL_RANK: got \"", value, "\", expected an integer in [0, 65535] (torchrun sets it)");
  }
  return static_cast<int>(rank);
}

// The run's state between stages: what the epochs read and update.
struct Run {
  const Config& config;
  const TrainOptions& options;
  DataParallel& dp;
  torch::Device device;
  Dataset& data;
  TwoTowerModel& model;
  Optimizers& optimizers;
  NegativeSampler& sampler;
  RunWriter& writer;
  TrainState state;
  nlohmann::json history = nlohmann::json::array();
};

// The epoch loop from state.epoch to num_epochs (or an early stop): train, validate, select the
// best epoch, write the checkpoints and history after each.
void run_epochs(Run& run, const PairColumns& train, const PairColumns& valid, TrainSummary& summary) {
  const TrainingConfig& t = run.config.training;
  std::vector<int64_t> train_items(train.items.data_ptr<int64_t>(), train.items.data_ptr<int64_t>() + train.size());
  Objective objective(run.config, train_items, run.model->sizes().num_items, run.device, &run.dp);
  EpochRunner runner(run.model, run.optimizers, run.sampler, objective, run.config, run.dp,
                     run.dp.active() ? std::function<void()>() : run.options.between_steps);
  const bool root = run.dp.is_root();
  const BestEpochTracker best(t);
  double train_seconds = 0;
  int64_t pairs_this_run = 0;
  std::vector<std::string> metric_names;
  for (int64_t epoch = run.state.epoch + 1; epoch <= t.num_epochs; ++epoch) {
    set_learning_rates(run.optimizers, t, run.state.scheduler_step);
    // Rank 0 continues the one process's generator (checkpointed); the others draw their rows'
    // dropout from a stream of their own, seeded per epoch so that a resume repeats it.
    if (!root) torch::manual_seed(run.dp.rank_seed(run.config.data.seed, epoch));
    run.dp.reset_stats();
    const auto start = std::chrono::steady_clock::now();
    int64_t pairs = 0;
    const double train_loss = runner.run(train, epoch, run.state.step, pairs);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    train_seconds += seconds;
    pairs_this_run += pairs;
    // Validation and the best epoch are rank 0's; the others wait for its stop decision. With a
    // metrics hook the epoch's vectors are made once, for the hook and the validation loss.
    const bool ranks = root && static_cast<bool>(run.options.metrics);
    const Matrix users = ranks ? embed_all_users(run.model, run.device) : Matrix();
    const Matrix items = ranks ? embed_all_items(run.model, run.device) : Matrix();
    const double val_loss = !root ? NAN
                            : ranks ? validation_loss(users, items, valid, run.model, run.config)
                                    : validation_loss(run.model, valid, run.config, run.device);
    nlohmann::json record = epoch_record(epoch, train_loss, val_loss, seconds, pairs, run.state.step,
                                         run.optimizers.learning_rate());
    if (run.dp.active()) add_communication(record, run.dp.stats(), seconds);
    if (!run.device.is_cpu()) record["device_peak_mib"] = static_cast<double>(device_peak_bytes(run.device)) / 1048576.0;
    if (ranks) add_hook_metrics(run.options, users, items, run.data, run.config, epoch, run.device, record, metric_names);
    const bool better = root && best.update(record, epoch, metric_names, run.state);
    run.history.push_back(record);
    log_info("epoch ", epoch, "/", t.num_epochs, ": ", record.dump(), better ? " (best)" : "");
    log_memory("after the epoch");

    run.state.epoch = epoch;
    run.state.scheduler_step = epoch;
    run.state.history_json = run.history.dump();
    run.state.sampler_state = run.sampler.state();
    capture_rng_state(run.state);
    run.writer.write_epoch(run.model, run.optimizers, run.state, better, run.history);
    if (run.options.after_epoch) run.options.after_epoch(epoch);
    if (run.dp.rank_zero_says(root && best.should_stop(run.state))) {
      log_info("early stopping: ", t.best_metric, " has not improved for ", run.state.epochs_without_improvement,
               " epochs (best ", run.state.best_value, " at epoch ", run.state.best_epoch, ")");
      summary.stopped_early = true;
      break;
    }
  }
  run.writer.write_plot(run.history, metric_names);
  summary.graph_replays = runner.graph_replays();
  if (t.cuda_graph) log_info("cuda graph: ", summary.graph_replays, " of ", run.state.step, " steps replayed");
  summary.pairs_per_second = train_seconds > 0 ? static_cast<double>(pairs_this_run) / train_seconds : 0.0;
}

// After the epochs: the best epoch's model, exported as the run's embeddings.
void finish(Run& run, TrainSummary& summary) {
  summary.epochs_done = run.state.epoch;
  summary.history = nlohmann::json::array();
  if (!run.dp.is_root()) return;
  summary.clamped_user_ids = run.model->clamped_user_ids();
  summary.clamped_item_ids = run.model->clamped_item_ids();
  if (summary.clamped_user_ids + summary.clamped_item_ids > 0) {
    log_warn("clamped out-of-range ids: ", summary.clamped_user_ids, " user ids, ", summary.clamped_item_ids,
             " item ids");
  }
  // The optimizers' state (two moments per parameter) is no longer needed: freed before the best
  // checkpoint is read, so the two never sit in memory together.
  run.optimizers = Optimizers();
  release_large_allocations();
  // The model in memory is the last epoch's: read the best one back only when it differs.
  const fs::path& best = run.writer.best_checkpoint();
  if (run.state.best_epoch != run.state.epoch && fs::exists(best)) load_checkpoint(best, run.model, nullptr);
  export_embeddings(run.model, run.data, run.config, run.device, run.writer.dir());
  summary.best_epoch = run.state.best_epoch;
  summary.best_value = run.state.best_value;
  summary.history = run.history;
}

}  // namespace

TrainSummary run_training(const Config& given, const TrainOptions& options) {
  if (given.training.refit) {
    fail("run_training: got training.refit true, expected a single run (train() in train/refit.h runs a refit)");
  }
  keep_large_allocations();
  Config config = resolved_paths(given);
  const TrainingConfig& t = config.training;
  check_best_metric(t, options);
  const bool root = !options.group || options.group->getRank() == 0;
  // The other ranks say only what goes wrong; rank 0 logs the run.
  if (!root) set_log_level(LogLevel::kWarn);
  RunWriter writer(config, options.resume, root);
  const torch::Device device = setup_device(t, options.group ? local_rank() : 0);
  DataParallel dp(options.group, device);
  if (dp.active()) {
    log_info("data-parallel: ", dp.world_size(), " ranks (", dp.describe(), "), global batch ", t.batch_size,
             " split over them");
  }

  log_memory("start");
  Dataset data = load_dataset(config.data.data_path, ItemText::kSkip);
  // The id maps' JSON trees and the decoded Parquet are gone; malloc keeps freed memory under the
  // trim threshold set above, so it is handed back once here, before the model is made.
  trim_heap();
  log_memory("data loaded");
  const std::vector<int64_t> train_rows = rows_in_splits(data.interactions, config.data.train_splits);
  std::optional<ContinuedRun> continued;
  if (!t.init_from.empty()) continued.emplace(config, data);
  TwoTowerModel model = build_model(config, data, train_rows, device);
  log_info("model: ", model->describe_parameters());
  log_memory("model and item features");

  // The replicas start from rank 0's parameters; the ranks exchange the tables' touched rows.
  dp.broadcast_parameters(model->parameters());
  if (dp.active()) use_sparse_table_gradients(model);
  Optimizers optimizers = make_optimizers(model, t);
  if (optimizers.rows) log_info("embeddings: row-wise ", to_string(t.embedding_optimizer), " (only the rows a batch touches)");
  NegativeSampler sampler(data.num_items(), config.data.seed);
  if (continued && !options.resume) {
    // Every rank loads the old run; rank 0 writes the report.
    const nlohmann::json report = continued->load_into(model, optimizers, data, device);
    if (dp.is_root()) write_json_file(report, writer.dir() / "init_from.json");
  }
  const PairColumns train = training_pairs(data, config, continued ? continued->pair_rows(train_rows) : train_rows);
  const PairColumns valid = validation_pairs(data, config);
  if (train.size() == 0) fail("data.train_splits: no interaction of ", config.data.data_path, " is in them");
  if (t.batch_size == 0) {
    config.training.batch_size = auto_batch_size(train.size());
    log_info("training.batch_size auto: ", t.batch_size, " for ", train.size(), " training pairs (", kAutoBatchRule, ")");
  }
  // What ran: the values resolved above, in config.yaml and in every checkpoint.
  writer.write_config(config);
  Run run{config, options, dp, device, data, model, optimizers, sampler, writer, TrainState{}};
  run.state.config_yaml = config_to_yaml(config);
  if (options.resume) {
    run.state = resume_run(writer.last_checkpoint(), writer.previous_checkpoint(), config, model, optimizers, sampler,
                           run.history);
  }
  // A continued run keeps the trained rows of ids it has no pairs for (new ids start at zero).
  if (!continued) zero_unseen_ids(model, train);
  log_info("data: ", data.num_users(), " users, ", data.num_items(), " items, ", train.size(), " training pairs, ",
           valid.size(), " validation pairs");
  log_memory("optimizers and training pairs");

  TrainSummary summary;
  run_epochs(run, train, valid, summary);
  finish(run, summary);
  const std::string kept = t.best_metric == "last" ? std::string("the last epoch kept")
                                                   : str_cat("best ", t.best_metric, " ", run.state.best_value);
  log_info("done: ", kept, " (epoch ", run.state.best_epoch, "); ", summary.pairs_per_second,
           " pairs/s; embeddings of epoch ", run.state.best_epoch, " in ", writer.dir().string());
  return summary;
}

}  // namespace twotower
