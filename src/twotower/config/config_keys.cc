#include "twotower/config/config_keys.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <utility>

#include "twotower/common/enum_names.h"
#include "twotower/common/format.h"
#include "twotower/common/text.h"

namespace twotower {
namespace {

const EnumName<OptimizerKind> kOptimizers[] = {{OptimizerKind::kAdam, "adam"}, {OptimizerKind::kSgd, "sgd"}};
const EnumName<EmbeddingOptimizerKind> kEmbeddingOptimizers[] = {{EmbeddingOptimizerKind::kDense, "dense"},
                                                                 {EmbeddingOptimizerKind::kLazyAdam, "lazy_adam"},
                                                                 {EmbeddingOptimizerKind::kAdagrad, "adagrad"}};
const EnumName<CpuMatmul> kCpuMatmuls[] = {{CpuMatmul::kOneDnn, "onednn"}, {CpuMatmul::kTorch, "torch"}};
const EnumName<MatmulPrecision> kMatmulPrecisions[] = {{MatmulPrecision::kFp32, "fp32"}, {MatmulPrecision::kBf16, "bf16"}};
const EnumName<SchedulerKind> kSchedulers[] = {
    {SchedulerKind::kNone, "none"}, {SchedulerKind::kStep, "step"}, {SchedulerKind::kCosine, "cosine"}};
const EnumName<LossKind> kLosses[] = {
    {LossKind::kBce, "bce"}, {LossKind::kSoftmax, "softmax"}, {LossKind::kMixed, "mixed"}, {LossKind::kBpr, "bpr"},
    {LossKind::kFull, "full"}};
const EnumName<DeviceKind> kDevices[] = {{DeviceKind::kAuto, "auto"}, {DeviceKind::kCpu, "cpu"}, {DeviceKind::kCuda, "cuda"}};
const EnumName<IdPolicy> kIdPolicies[] = {{IdPolicy::kError, "error"}, {IdPolicy::kClamp, "clamp"}};
const EnumName<UserHistoryMode> kHistoryModes[] = {{UserHistoryMode::kLast, "last"}, {UserHistoryMode::kBefore, "before"}};
const EnumName<HistoryPooling> kHistoryPoolings[] = {{HistoryPooling::kMean, "mean"},
                                                     {HistoryPooling::kAttention, "attention"}};
const EnumName<RefitMode> kRefitModes[] = {{RefitMode::kFresh, "fresh"}, {RefitMode::kContinue, "continue"}};
const EnumName<IncrementalMode> kIncrementalModes[] = {{IncrementalMode::kFull, "full"},
                                                       {IncrementalMode::kNewReplay, "new+replay"}};
const EnumName<MetricMode> kMetricModes[] = {{MetricMode::kAuto, "auto"}, {MetricMode::kMin, "min"}, {MetricMode::kMax, "max"}};

// A value type of the table: how a YAML node reads into it, how it is written, what is allowed.
template <typename T>
struct Type {
  std::string expected;
  std::function<bool(const YAML::Node&, T&)> read;
  std::function<void(YAML::Emitter&, const T&)> write;
};

const std::string* scalar(const YAML::Node& n) { return n.IsScalar() ? &n.Scalar() : nullptr; }

Type<int64_t> integer(int64_t min, std::string expected) {
  return {std::move(expected),
          [min](const YAML::Node& n, int64_t& out) {
            int64_t v = 0;
            if (!scalar(n) || !parse_int64(n.Scalar(), &v) || v < min) return false;
            out = v;
            return true;
          },
          [](YAML::Emitter& e, const int64_t& v) { e << v; }};
}

// v in [lo, hi], either end open when its flag says so.
Type<double> real(double lo, bool lo_open, double hi, bool hi_open, std::string expected) {
  return {std::move(expected),
          [=](const YAML::Node& n, double& out) {
            double v = 0;
            if (!scalar(n) || !parse_double(n.Scalar(), &v)) return false;
            if (lo_open ? v <= lo : v < lo) return false;
            if (hi_open ? v >= hi : v > hi) return false;
            out = v;
            return true;
          },
          [](YAML::Emitter& e, const double& v) { e << shortest_number(v); }};
}
Type<double> positive() { return real(0, true, HUGE_VAL, false, "a number > 0"); }
Type<double> non_negative(std::string expected = "a number >= 0") {
  return real(0, false, HUGE_VAL, false, std::move(expected));
}
Type<double> probability() { return real(0, false, 1, true, "a number in [0, 1)"); }

Type<bool> boolean() {
  return {"true or false",
          [](const YAML::Node& n, bool& out) {
            const std::string s = scalar(n) ? n.Scalar() : std::string();
            if (s == "true" || s == "True" || s == "yes") {
              out = true;
            } else if (s == "false" || s == "False" || s == "no") {
              out = false;
            } else {
              return false;
            }
            return true;
          },
          [](YAML::Emitter& e, const bool& v) { e << (v ? "true" : "false"); }};
}

Type<uint64_t> seed() {
  return {"an integer in [0, 2^64)",
          [](const YAML::Node& n, uint64_t& out) {
            const std::string s = scalar(n) ? n.Scalar() : std::string();
            uint64_t v = 0;
            auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return false;
            out = v;
            return true;
          },
          [](YAML::Emitter& e, const uint64_t& v) { e << v; }};
}

// A string; with `nullable`, null reads as "" and "" is written as null.
Type<std::string> text(bool nullable) {
  return {nullable ? "a string or null" : "a string",
          [nullable](const YAML::Node& n, std::string& out) {
            if (n.IsNull() && nullable) {
              out.clear();
            } else if (n.IsScalar()) {
              out = n.Scalar();
            } else {
              return false;
            }
            return true;
          },
          [nullable](YAML::Emitter& e, const std::string& v) {
            if (nullable && v.empty()) {
              e << YAML::Null;
            } else {
              e << v;
            }
          }};
}

bool is_split(const YAML::Node& n) {
  return n.IsScalar() && (n.Scalar() == "train" || n.Scalar() == "valid" || n.Scalar() == "test");
}

Type<std::string> split() {
  return {"one of train, valid, test",
          [](const YAML::Node& n, std::string& out) {
            if (!is_split(n)) return false;
            out = n.Scalar();
            return true;
          },
          [](YAML::Emitter& e, const std::string& v) { e << v; }};
}

// A flow sequence of `item`s, non-empty when `non_empty`.
template <typename T>
Type<std::vector<T>> list_of(const std::function<bool(const YAML::Node&, T&)>& item, bool non_empty,
                             std::string expected) {
  return {std::move(expected),
          [item, non_empty](const YAML::Node& n, std::vector<T>& out) {
            if (!n.IsSequence() || (non_empty && n.size() == 0)) return false;
            std::vector<T> values(n.size());
            for (size_t i = 0; i < n.size(); ++i) {
              if (!item(n[i], values[i])) return false;
            }
            out = std::move(values);
            return true;
          },
          [](YAML::Emitter& e, const std::vector<T>& values) {
            e << YAML::Flow << YAML::BeginSeq;
            for (const auto& v : values) e << v;
            e << YAML::EndSeq;
          }};
}

Type<std::vector<int64_t>> layer_sizes() {
  return list_of<int64_t>(integer(1, "").read, false, "a list of integers >= 1, e.g. [256, 128]");
}
Type<std::vector<std::string>> splits() {
  return list_of<std::string>(split().read, true, "a non-empty list of train, valid, test");
}

template <typename E, size_t N>
Type<E> choice(const EnumName<E> (&names)[N]) {
  std::string expected = "one of ";
  for (size_t i = 0; i < N; ++i) expected += (i ? ", " : "") + std::string(names[i].name);
  return {expected,
          [&names](const YAML::Node& n, E& out) {
            std::optional<E> value = n.IsScalar() ? enum_value(names, n.Scalar()) : std::nullopt;
            if (value) out = *value;
            return value.has_value();
          },
          [&names](YAML::Emitter& e, const E& v) { e << enum_name(names, v); }};
}

const char* section_name(DataConfig Config::*) { return "data"; }
const char* section_name(ModelConfig Config::*) { return "model"; }
const char* section_name(TrainingConfig Config::*) { return "training"; }

template <typename S, typename T>
ConfigKey key(S Config::*section, T S::*member, const char* name, const Type<T>& type, const char* doc) {
  return {section_name(section), name, type.expected, doc,
          [section, member, read = type.read](const YAML::Node& n, Config& c) { return read(n, (c.*section).*member); },
          [section, member, write = type.write](YAML::Emitter& e, const Config& c) { write(e, (c.*section).*member); }};
}

std::vector<ConfigKey> data_keys() {
  const auto d = &Config::data;
  return {
      key(d, &DataConfig::data_path, "data_path", text(false), "prepared folder (twotower prepare); required"),
      key(d, &DataConfig::text_embeddings, "text_embeddings", text(true),
          ".npy float32 [num_items, d] aligned with iid2idx.json (twotower embed),\n"
          "or .parquet with an item_idx or item_id column and a list<float> column;\n"
          "null = zeros of width emb_dim (the reference without text)"),
      key(d, &DataConfig::text_embeddings_column, "text_embeddings_column", text(false), "the .parquet's vector column"),
      key(d, &DataConfig::emb_dim, "emb_dim", integer(1, "an integer >= 1"),
          "text width (>= 1); must equal the embeddings' width when given"),
      key(d, &DataConfig::neg_ratio, "neg_ratio", integer(1, "an integer >= 1"),
          "uniform random negatives per positive (>= 1)"),
      key(d, &DataConfig::seed, "seed", seed(), "seeds the permutation, negatives, dropout and initialization"),
      key(d, &DataConfig::negatives_exclude_positive, "negatives_exclude_positive", boolean(),
          "resample a negative equal to its positive (the reference does not)"),
      key(d, &DataConfig::train_splits, "train_splits", splits(), "splits trained on (train | valid | test)"),
      key(d, &DataConfig::valid_split, "valid_split", split(), "split for the validation loss and metrics each epoch"),
  };
}

std::vector<ConfigKey> model_keys() {
  const auto m = &Config::model;
  return {
      key(m, &ModelConfig::embedding_dim, "embedding_dim", integer(1, "an integer >= 1"),
          "width of every embedding and of the towers' output (>= 1)"),
      key(m, &ModelConfig::user_mlp_hidden, "user_mlp_hidden", layer_sizes(),
          "hidden layers: Linear, ReLU, Dropout each (may be [])"),
      key(m, &ModelConfig::item_mlp_hidden, "item_mlp_hidden", layer_sizes(), "the item tower's hidden layers"),
      key(m, &ModelConfig::dropout, "dropout", probability(), "[0, 1)"),
      key(m, &ModelConfig::use_item_id, "use_item_id", boolean(), "item tower inputs, concatenated: id, category, brand"),
      key(m, &ModelConfig::use_category, "use_category", boolean(), "  embeddings and Linear(text width -> embedding_dim)"),
      key(m, &ModelConfig::use_brand, "use_brand", boolean(), "  (reference: all true)"),
      key(m, &ModelConfig::use_text, "use_text", boolean(), ""),
      key(m, &ModelConfig::last_layer_activation, "last_layer_activation", boolean(),
          "ReLU + dropout after the last hidden layer (reference: true)"),
      key(m, &ModelConfig::output_layer, "output_layer", boolean(),
          "Linear(last hidden -> embedding_dim) before the L2 norm (reference: true)"),
      key(m, &ModelConfig::embedding_init_std, "embedding_init_std", positive(),
          "id embeddings start at N(0, std^2) (> 0; reference: torch's default 1)"),
      key(m, &ModelConfig::out_of_range_ids, "out_of_range_ids", choice(kIdPolicies),
          "error | clamp: an id outside the vocabulary fails, or is clamped and counted"),
      key(m, &ModelConfig::user_history, "user_history", integer(0, "an integer >= 0 (0 = off)"),
          "add the mean id embedding of N of the user's items (see the mode) to\n"
          "the user embedding (>= 0; 0 = off, the reference)"),
      key(m, &ModelConfig::user_history_mode, "user_history_mode", choice(kHistoryModes),
          "last: a training pair pools the user's last N training items, its own\n"
          "item left out; before: the N items the user had before that pair (what\n"
          "the served model sees when it predicts the next item)"),
      key(m, &ModelConfig::user_history_pooling, "user_history_pooling", choice(kHistoryPoolings),
          "mean: the mean of the history's id embeddings; attention: causal self-attention\n"
          "over them with learned positions and a learned start token, read after the\n"
          "last item (as SASRec; needs user_history_mode: before; training then batches\n"
          "whole user histories and encodes every prefix at once)"),
      key(m, &ModelConfig::attention_blocks, "attention_blocks", integer(1, "an integer >= 1"),
          "attention: blocks of (layer norm, self-attention, layer norm, feed-forward) (>= 1)"),
      key(m, &ModelConfig::attention_heads, "attention_heads", integer(1, "an integer >= 1 dividing embedding_dim"),
          "attention: heads per block (>= 1, dividing embedding_dim)"),
      key(m, &ModelConfig::attention_dropout, "attention_dropout", probability(),
          "attention: dropout on the inputs, attention weights and residual branches, [0, 1)"),
      key(m, &ModelConfig::use_user_id, "use_user_id", boolean(),
          "the user tower adds the user's id embedding to the pooled history (reference:\n"
          "true; false: the tower reads the history alone and the table is not built)"),
      key(m, &ModelConfig::item_id_dropout, "item_id_dropout", probability(),
          "training: zero an item's id embedding with this probability, so text,\n"
          "category and brand learn to carry items unseen in training, [0, 1)"),
      key(m, &ModelConfig::user_id_dropout, "user_id_dropout", probability(),
          "the same for user ids: trains the input of users without training history\n"
          "(ids without training pairs start and stay at zero when a dropout is on)"),
      key(m, &ModelConfig::pool_categories, "pool_categories", boolean(),
          "category input = mean over every level of the category path"),
  };
}

std::vector<ConfigKey> optimization_keys() {
  const auto t = &Config::training;
  return {
      key(t, &TrainingConfig::batch_size, "batch_size", integer(0, "an integer >= 0 (0 = auto)"),
          "positives per step (>= 1; reference 1024); 0 = auto: the power of two nearest\n"
          "training pairs / 256, within [64, 1024] (train/batch_size.h)"),
      key(t, &TrainingConfig::num_epochs, "num_epochs", integer(1, "an integer >= 1"), "(>= 1; reference 5)"),
      key(t, &TrainingConfig::learning_rate, "learning_rate", positive(), "(> 0)"),
      key(t, &TrainingConfig::embedding_learning_rate, "embedding_learning_rate",
          non_negative("a number >= 0 (0 = learning_rate)"),
          "id embeddings' learning rate (>= 0); 0 = learning_rate (reference)"),
      key(t, &TrainingConfig::weight_decay, "weight_decay", non_negative(),
          "L2 on every parameter, as torch's Adam/SGD weight_decay (>= 0)"),
      key(t, &TrainingConfig::optimizer, "optimizer", choice(kOptimizers), "adam | sgd"),
      key(t, &TrainingConfig::momentum, "momentum", probability(), "sgd only, [0, 1)"),
      key(t, &TrainingConfig::scheduler, "scheduler", choice(kSchedulers), "none | step | cosine, stepped once per epoch"),
      key(t, &TrainingConfig::step_size, "step_size", integer(1, "an integer >= 1"), "step: epochs between decays (>= 1)"),
      key(t, &TrainingConfig::gamma, "gamma", real(0, true, 1, false, "a number in (0, 1]"),
          "step: factor per decay, (0, 1]"),
      key(t, &TrainingConfig::min_learning_rate, "min_learning_rate", non_negative(),
          "cosine: rate after num_epochs (>= 0)"),
      key(t, &TrainingConfig::clip_grad_norm, "clip_grad_norm", non_negative("a number >= 0 (0 = off)"),
          "clip the global L2 norm of all gradients (>= 0; 0 = off)"),
  };
}

std::vector<ConfigKey> loss_keys() {
  const auto t = &Config::training;
  return {
      key(t, &TrainingConfig::loss, "loss", choice(kLosses),
          "bce (reference): binary cross-entropy on positives and neg_ratio uniform negatives\n"
          "softmax: in-batch sampled softmax (the other positives are the negatives)\n"
          "mixed: softmax over in-batch plus mixed_negatives uniform items\n"
          "bpr: -log sigmoid(scale * (pos - neg)) with neg_ratio uniform negatives\n"
          "full: softmax over every item of the catalogue (no sampling; its cost grows\n"
          "with the catalogue)"),
      key(t, &TrainingConfig::logit_scale, "logit_scale", positive(), "bce/bpr logit = logit_scale * cosine (> 0)"),
      key(t, &TrainingConfig::learn_logit_scale, "learn_logit_scale", boolean(),
          "bce/bpr: train the logit scale (starting at logit_scale)"),
      key(t, &TrainingConfig::temperature, "temperature", positive(), "softmax/mixed/full logit = cosine / temperature (> 0)"),
      key(t, &TrainingConfig::logq_correction, "logq_correction", boolean(),
          "softmax/mixed: subtract log(item's sampling probability) from its logit"),
      key(t, &TrainingConfig::mask_accidental_hits, "mask_accidental_hits", boolean(),
          "softmax/mixed: the row's own item elsewhere in the batch is no negative"),
      key(t, &TrainingConfig::mixed_negatives, "mixed_negatives", integer(1, "an integer >= 1"),
          "mixed: uniform items shared by the batch (>= 1)"),
  };
}

std::vector<ConfigKey> run_keys() {
  const auto t = &Config::training;
  return {
      key(t, &TrainingConfig::best_metric, "best_metric", text(false),
          "val_loss (reference), train_loss, or recall@K, ndcg@K (validation, full ranking,\n"
          "computed each epoch by twotower train for K = 10 and 20), or last (the last epoch)"),
      key(t, &TrainingConfig::best_metric_mode, "best_metric_mode", choice(kMetricModes),
          "auto | min | max (auto: min for names with \"loss\", else max)"),
      key(t, &TrainingConfig::early_stopping_patience, "early_stopping_patience",
          integer(0, "an integer >= 0 (0 = off)"), "stop after this many epochs without a better best_metric (0 = off)"),
      key(t, &TrainingConfig::refit, "refit", boolean(),
          "train on train_splits with validation into output_dir/selection, then the final\n"
          "model on train_splits + valid_split into output_dir, keeping its last epoch (train/refit.h)"),
      key(t, &TrainingConfig::refit_mode, "refit_mode", choice(kRefitModes),
          "fresh: a new model trains for the selection's best epoch count; continue: the\n"
          "selection's final state (its checkpoints/last.pt, optimizer state included) trains on"),
      key(t, &TrainingConfig::refit_epochs, "refit_epochs", integer(1, "an integer >= 1"),
          "  for refit_epochs more epochs (continue only; >= 1)"),
      key(t, &TrainingConfig::max_steps_per_epoch, "max_steps_per_epoch", integer(0, "an integer >= 0 (0 = all)"),
          "stop each epoch after this many steps (0 = whole epoch; speed runs)"),
      key(t, &TrainingConfig::output_dir, "output_dir", text(false),
          "config.yaml, train.log, history.json, training_history.png, checkpoints/"),
      key(t, &TrainingConfig::init_from, "init_from", text(true),
          "a run folder to continue from (its checkpoints/last.pt), on data that extends the run's\n"
          "(twotower prepare --extend): old rows and their optimizer state kept, new rows zero; null = off"),
      key(t, &TrainingConfig::incremental, "incremental", choice(kIncrementalModes),
          "with init_from: full (every training interaction) | new+replay (the new ones and a sample of the old)"),
      key(t, &TrainingConfig::replay_ratio, "replay_ratio", non_negative(),
          "new+replay: old training interactions sampled per new one (>= 0; capped at all of them)"),
      key(t, &TrainingConfig::device, "device", choice(kDevices), "auto | cpu | cuda (auto: cuda when available)"),
      key(t, &TrainingConfig::threads, "threads", integer(0, "an integer >= 0 (0 = all cores)"),
          "intra-op threads (>= 0; 0 = all cores)"),
      key(t, &TrainingConfig::trace_steps, "trace_steps", integer(0, "an integer >= 0 (0 = off)"),
          "trace this many steps of the first epoch, after its first 10, with PyTorch's profiler\n"
          "(a GPU's kernels, the CPU's operators) into output_dir/trace.json (Chrome trace format);\n"
          "the log gives the kernels' share of the traced time (0 = off)"),
  };
}

std::vector<ConfigKey> speed_keys() {
  const auto t = &Config::training;
  return {
      key(t, &TrainingConfig::embedding_optimizer, "embedding_optimizer", choice(kEmbeddingOptimizers),
          "dense (with the rest, the reference) | lazy_adam | adagrad (row-wise: touched rows only)"),
      key(t, &TrainingConfig::shared_user_tower, "shared_user_tower", boolean(),
          "each positive's user tower computed once for its negatives (one dropout mask per user)"),
      key(t, &TrainingConfig::prefetch, "prefetch", boolean(), "assemble the next batch on a background thread"),
      key(t, &TrainingConfig::fused_adam, "fused_adam", boolean(),
          "optimizer adam: each parameter's update in one pass (ATen's fused kernel; rounding\n"
          "differs from false, torch::optim::Adam's step of about ten tensor operations); on the\n"
          "CPU the id tables' gradients stay sparse and dense Adam moves every row from them"),
      key(t, &TrainingConfig::cuda_graph, "cuda_graph", boolean(),
          "on a CUDA device: each full batch's step (forward, backward, clip, Adam) replayed from a\n"
          "CUDA graph captured after 3 eager steps; the same arithmetic, one launch per step (needs\n"
          "optimizer adam, fused_adam, embedding_optimizer dense, one process, mean pooling)"),
      key(t, &TrainingConfig::cpu_matmul, "cpu_matmul", choice(kCpuMatmuls),
          "onednn | torch: who multiplies the layers' CPU fp32 matrices (model/linear.h)"),
      key(t, &TrainingConfig::matmul_precision, "matmul_precision", choice(kMatmulPrecisions),
          "fp32 | bf16: oneDNN's products on bf16 copies (AVX512-BF16 or AMX CPUs; fp32 accumulation)"),
  };
}

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> all;
    for (auto part : {data_keys(), model_keys(), optimization_keys(), loss_keys(), run_keys(), speed_keys()}) {
      for (auto& k : part) all.push_back(std::move(k));
    }
    return all;
  }();
  return keys;
}

const char* to_string(OptimizerKind kind) { return enum_name(kOptimizers, kind); }
const char* to_string(EmbeddingOptimizerKind kind) { return enum_name(kEmbeddingOptimizers, kind); }
const char* to_string(CpuMatmul kind) { return enum_name(kCpuMatmuls, kind); }
const char* to_string(MatmulPrecision precision) { return enum_name(kMatmulPrecisions, precision); }
const char* to_string(SchedulerKind kind) { return enum_name(kSchedulers, kind); }
const char* to_string(IncrementalMode mode) { return enum_name(kIncrementalModes, mode); }
const char* to_string(RefitMode mode) { return enum_name(kRefitModes, mode); }
const char* to_string(LossKind kind) { return enum_name(kLosses, kind); }
const char* to_string(DeviceKind kind) { return enum_name(kDevices, kind); }
const char* to_string(IdPolicy policy) { return enum_name(kIdPolicies, policy); }
const char* to_string(MetricMode mode) { return enum_name(kMetricModes, mode); }
const char* to_string(UserHistoryMode mode) { return enum_name(kHistoryModes, mode); }
const char* to_string(HistoryPooling pooling) { return enum_name(kHistoryPoolings, pooling); }

}  // namespace twotower
