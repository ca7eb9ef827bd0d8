// The run configuration: typed structs parsed once from YAML (plus key=value overrides).
//
// Key names follow the reference system (data.data_path, data.neg_ratio, model.embedding_dim,
// training.batch_size, ...); every departure from the reference design is a named key here, with
// its default and allowed range beside it. configs/default.yaml lists every key with a comment;
// configs/reference.yaml holds the reference design's values.
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
enum class LossKind { kBce, kSoftmax, kMixed, kBpr };
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

struct DataConfig {
  std::string data_path;                     // prepared folder (required)
  std::string text_embeddings;               // .npy [num_items, d] or .parquet; "" = zeros [num_items, emb_dim]
  std::string text_embeddings_column = "embedding";  // the .parquet's list<float> column
  int64_t emb_dim = 768;                     // text width, >= 1; must equal the .npy's width
  int64_t neg_ratio = 1;                     // uniform negatives per positive, >= 1
  uint64_t seed = 42;                        // seeds every generator of a run
  bool negatives_exclude_positive = false;   // resample a negative equal to its positive (reference: no)
  std::vector<std::string> train_splits{"train"};  // each of train | valid | test
  std::string valid_split = "valid";               // train | valid | test; validation loss and metrics
};

struct ModelConfig {
  int64_t embedding_dim = 128;                     // >= 1; every embedding and the output width
  std::vector<int64_t> user_mlp_hidden{256, 128};  // each >= 1; may be empty
  std::vector<int64_t> item_mlp_hidden{256, 128};
  double dropout = 0.1;                            // [0, 1)
  bool use_item_id = true;                         // item tower inputs
  bool use_category = true;
  bool use_brand = true;
  bool use_text = true;
  bool last_layer_activation = true;   // ReLU + dropout after the last hidden layer (reference: yes)
  bool output_layer = true;            // Linear(hidden[-1] -> embedding_dim) (reference: yes)
  double embedding_init_std = 1.0;     // > 0; id embeddings ~ N(0, std^2) (torch default 1)
  IdPolicy out_of_range_ids = IdPolicy::kError;  // error | clamp (clamps are counted and reported)
  int64_t user_history = 0;            // >= 0; add the mean id embedding of the user's last N training
                                       //   items (the target excluded) to the user embedding; 0 = off
  UserHistoryMode user_history_mode = UserHistoryMode::kLast;  // last | before (see the enum)
  double item_id_dropout = 0.0;        // [0, 1); training only: an item's id embedding is zeroed with
                                       //   this probability, so the content inputs learn to carry it
  double user_id_dropout = 0.0;        // [0, 1); the same for user id embeddings: the tower learns an
                                       //   input for users without history (cold users)
  bool pool_categories = false;        // category input = mean over every level of the path
                                       //   (items.category_ids) instead of the most specific one
};

struct TrainingConfig {
  int64_t batch_size = 1024;             // positives per step, >= 1
  int64_t num_epochs = 5;                // >= 1
  double learning_rate = 1e-3;           // > 0
  double embedding_learning_rate = 0.0;  // >= 0; id embeddings' rate, 0 = learning_rate
  double weight_decay = 1e-5;            // >= 0, L2 added to the gradient (torch's Adam/SGD)
  OptimizerKind optimizer = OptimizerKind::kAdam;  // adam | sgd
  double momentum = 0.9;                 // [0, 1), SGD only
  SchedulerKind scheduler = SchedulerKind::kNone;  // none | step | cosine, stepped once per epoch
  int64_t step_size = 1;                 // >= 1, step: epochs between decays
  double gamma = 0.1;                    // (0, 1], step: decay factor
  double min_learning_rate = 0.0;        // >= 0, cosine: the floor reached after num_epochs
  double clip_grad_norm = 1.0;           // >= 0, global L2 norm; 0 = off
  LossKind loss = LossKind::kBce;        // bce | softmax | mixed | bpr
  double logit_scale = 1.0;              // > 0, bce and bpr logit = scale * cosine
  bool learn_logit_scale = false;        // bce/bpr: logit_scale is a trained parameter (its start value)
  double temperature = 0.05;             // > 0, softmax and mixed logit = cosine / temperature
  bool logq_correction = true;           // softmax/mixed: subtract log(sampling probability) of each
                                         //   in-batch candidate (item frequency in the training pairs)
  bool mask_accidental_hits = true;      // softmax/mixed: a candidate equal to the row's positive is
                                         //   not a negative
  int64_t mixed_negatives = 256;         // >= 1, mixed: uniform items shared by the batch
  std::string best_metric = "val_loss";  // val_loss, train_loss or a metric of the metrics hook
                                         //   (twotower train: recall@10, ndcg@10, recall@20, ndcg@20)
  MetricMode best_metric_mode = MetricMode::kAuto;  // auto | min | max
  int64_t early_stopping_patience = 0;   // >= 0, epochs without improvement; 0 = off
  int64_t max_steps_per_epoch = 0;       // >= 0, 0 = whole epoch (speed runs)
  std::string output_dir = "runs/default";
  DeviceKind device = DeviceKind::kAuto;  // auto | cpu | cuda
  int64_t threads = 0;                    // >= 0, intra-op threads; 0 = all cores
  // Speed (issue 7).
  EmbeddingOptimizerKind embedding_optimizer = EmbeddingOptimizerKind::kDense;  // dense | lazy_adam | adagrad
  bool shared_user_tower = false;  // each positive's user tower computed once for its negatives (one dropout mask)
  bool prefetch = true;            // assemble the next batch on a background thread
  CpuMatmul cpu_matmul = CpuMatmul::kOneDnn;  // onednn | torch: the towers' CPU matrix products
  MatmulPrecision matmul_precision = MatmulPrecision::kFp32;  // fp32 | bf16 (oneDNN's products only)
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

}  // namespace twotower
