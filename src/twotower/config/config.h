// The run configuration: typed structs parsed once from YAML (plus key=value overrides).
//
// Key names follow the reference system (data.data_path, data.neg_ratio, model.embedding_dim,
// training.batch_size, ...); every departure from the reference design is a named key. The
// structs hold the values and their defaults (the reference design's); each key's name, allowed
// values and meaning are written once, in config/config_keys.cc, from which parsing, writing and
// configs/default.yaml are derived. configs/reference.yaml holds the reference design's values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace twotower {

enum class OptimizerKind { kAdam, kSgd };
enum class SchedulerKind { kNone, kStep, kCosine };
/// bce: sigmoid on positives and neg_ratio uniform negatives (the reference); softmax: in-batch
/// sampled softmax; mixed: in-batch plus mixed_negatives uniform items; bpr: pairwise on
/// neg_ratio uniform negatives. Formulas in train/loss.h.
/// full: softmax over every item of the catalogue.
enum class LossKind { kBce, kSoftmax, kMixed, kBpr, kFull };
enum class DeviceKind { kAuto, kCpu, kCuda };
/// What the model does with a user or item id outside its vocabulary.
enum class IdPolicy { kError, kClamp };
/// Whether a larger or a smaller value of the best-epoch metric is better; kAuto: smaller when
/// the metric's name contains "loss", larger otherwise.
enum class MetricMode { kAuto, kMin, kMax };
/// How the id embedding tables are updated: by the dense optimizer with the rest (the
/// reference), or row-wise, only the rows a batch touches (lazy Adam, AdaGrad).
enum class EmbeddingOptimizerKind { kDense, kLazyAdam, kAdagrad };
/// Who multiplies CPU fp32 matrices in the towers' Linear layers (model/linear.h).
enum class CpuMatmul {
  kOneDnn,  // oneDNN (at::native::mkldnn_matmul) where LibTorch has it, else torch
  kTorch,   // torch::mm / torch::nn::functional::linear (MKL in the CPU wheel)
};
/// The inputs of the towers' oneDNN matrix products (model/linear.h).
enum class MatmulPrecision {
  kFp32,  // fp32 throughout
  kBf16,  // bf16 inputs and product, fp32 accumulation inside the product
};
/// Which items model.user_history pools for a training pair: the user's last N training items
/// with the pair's own item left out (kLast), or the N items the user interacted with before
/// that pair (kBefore: the input a served model sees when it predicts the user's next item).
enum class UserHistoryMode { kLast, kBefore };
/// How the user tower reads a history (model.user_history items): the mean of their id
/// embeddings (kMean), or causal self-attention over them with positions, read after the last
/// item (kAttention, model/sequence_encoder.h).
enum class HistoryPooling { kMean, kAttention };
/// What a run continued from another (training.init_from) trains on: every training interaction
/// of the extended data (kFull), or the interactions the old run's data lacked plus a replay
/// sample of the old ones (kNewReplay; train/init_from.h).
enum class IncrementalMode { kFull, kNewReplay };
enum class RefitMode { kFresh, kContinue };

/// The `data:` section (each key documented in config_keys.cc).
struct DataConfig {
  std::string data_path;
  std::string text_embeddings;
  std::string text_embeddings_column = "embedding";
  int64_t emb_dim = 768;
  int64_t neg_ratio = 1;
  uint64_t seed = 42;
  bool negatives_exclude_positive = false;
  std::vector<std::string> train_splits{"train"};
  std::string valid_split = "valid";
};

/// The `model:` section.
struct ModelConfig {
  int64_t embedding_dim = 128;
  std::vector<int64_t> user_mlp_hidden{256, 128};
  std::vector<int64_t> item_mlp_hidden{256, 128};
  double dropout = 0.1;
  bool use_item_id = true;
  bool use_category = true;
  bool use_brand = true;
  bool use_text = true;
  bool last_layer_activation = true;
  bool output_layer = true;
  double embedding_init_std = 1.0;
  IdPolicy out_of_range_ids = IdPolicy::kError;
  int64_t user_history = 0;
  UserHistoryMode user_history_mode = UserHistoryMode::kLast;
  HistoryPooling user_history_pooling = HistoryPooling::kMean;
  int64_t attention_blocks = 2;
  int64_t attention_heads = 2;
  double attention_dropout = 0.2;
  bool use_user_id = true;
  double item_id_dropout = 0.0;
  double user_id_dropout = 0.0;
  bool pool_categories = false;
};

/// The `training:` section.
struct TrainingConfig {
  int64_t batch_size = 1024;
  int64_t num_epochs = 5;
  double learning_rate = 1e-3;
  double embedding_learning_rate = 0.0;
  double weight_decay = 1e-5;
  OptimizerKind optimizer = OptimizerKind::kAdam;
  double momentum = 0.9;
  SchedulerKind scheduler = SchedulerKind::kNone;
  int64_t step_size = 1;
  double gamma = 0.1;
  double min_learning_rate = 0.0;
  double clip_grad_norm = 1.0;
  LossKind loss = LossKind::kBce;
  double logit_scale = 1.0;
  bool learn_logit_scale = false;
  double temperature = 0.05;
  bool logq_correction = true;
  bool mask_accidental_hits = true;
  int64_t mixed_negatives = 256;
  std::string best_metric = "val_loss";
  MetricMode best_metric_mode = MetricMode::kAuto;
  int64_t early_stopping_patience = 0;
  bool refit = false;
  RefitMode refit_mode = RefitMode::kFresh;
  int64_t refit_epochs = 1;
  int64_t max_steps_per_epoch = 0;
  std::string output_dir = "runs/default";
  std::string init_from;
  IncrementalMode incremental = IncrementalMode::kFull;
  double replay_ratio = 1.0;
  DeviceKind device = DeviceKind::kAuto;
  int64_t threads = 0;
  int64_t trace_steps = 0;
  EmbeddingOptimizerKind embedding_optimizer = EmbeddingOptimizerKind::kDense;
  bool shared_user_tower = false;
  bool prefetch = true;
  bool fused_adam = true;
  bool cuda_graph = false;
  CpuMatmul cpu_matmul = CpuMatmul::kOneDnn;
  MatmulPrecision matmul_precision = MatmulPrecision::kFp32;
};

struct Config {
  DataConfig data;
  ModelConfig model;
  TrainingConfig training;
};

/// Parses YAML text; `source` names it in messages. Unknown keys and bad values are errors, all
/// listed in one exception: `source:line: field "training.batch_size": got "x", expected ...`.
/// @param overrides  "section.key=value" strings (value in YAML syntax) applied before checking
Config parse_config(const std::string& yaml_text, const std::string& source,
                    const std::vector<std::string>& overrides = {});
/// Reads a YAML file and parses it as above.
Config load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides = {});

/// The resolved configuration as YAML with every key (parse_config reads it back unchanged).
std::string config_to_yaml(const Config& config);
/// Every key with its comment (config_keys.h) and `config`'s values, after `header` (comment lines):
/// the text of configs/default.yaml. parse_config reads it back to `config`.
std::string documented_config_yaml(const Config& config, const std::string& header);
/// Writes config_to_yaml to a temporary file beside `path`, then renames it.
void save_config(const Config& config, const std::filesystem::path& path);

const char* to_string(OptimizerKind kind);
const char* to_string(SchedulerKind kind);
const char* to_string(LossKind kind);
const char* to_string(DeviceKind kind);
const char* to_string(IdPolicy policy);
const char* to_string(MetricMode mode);
const char* to_string(EmbeddingOptimizerKind kind);
const char* to_string(CpuMatmul kind);
const char* to_string(MatmulPrecision precision);
const char* to_string(UserHistoryMode mode);
const char* to_string(HistoryPooling pooling);
const char* to_string(IncrementalMode mode);
const char* to_string(RefitMode mode);

}  // namespace twotower
