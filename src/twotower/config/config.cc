#include "twotower/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "twotower/common/error.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

template <typename E>
using Choices = std::vector<std::pair<const char*, E>>;

const Choices<OptimizerKind> kOptimizers{{"adam", OptimizerKind::kAdam}, {"sgd", OptimizerKind::kSgd}};
const Choices<EmbeddingOptimizerKind> kEmbeddingOptimizers{{"dense", EmbeddingOptimizerKind::kDense},
                                                           {"lazy_adam", EmbeddingOptimizerKind::kLazyAdam},
                                                           {"adagrad", EmbeddingOptimizerKind::kAdagrad}};
const Choices<CpuMatmul> kCpuMatmuls{{"onednn", CpuMatmul::kOneDnn}, {"torch", CpuMatmul::kTorch}};
const Choices<MatmulPrecision> kMatmulPrecisions{{"fp32", MatmulPrecision::kFp32}, {"bf16", MatmulPrecision::kBf16}};
const Choices<SchedulerKind> kSchedulers{
    {"none", SchedulerKind::kNone}, {"step", SchedulerKind::kStep}, {"cosine", SchedulerKind::kCosine}};
const Choices<LossKind> kLosses{
    {"bce", LossKind::kBce}, {"softmax", LossKind::kSoftmax}, {"mixed", LossKind::kMixed}, {"bpr", LossKind::kBpr}};
const Choices<DeviceKind> kDevices{{"auto", DeviceKind::kAuto}, {"cpu", DeviceKind::kCpu}, {"cuda", DeviceKind::kCuda}};
const Choices<IdPolicy> kIdPolicies{{"error", IdPolicy::kError}, {"clamp", IdPolicy::kClamp}};
const Choices<UserHistoryMode> kHistoryModes{{"last", UserHistoryMode::kLast}, {"before", UserHistoryMode::kBefore}};
const Choices<MetricMode> kMetricModes{{"auto", MetricMode::kAuto}, {"min", MetricMode::kMin}, {"max", MetricMode::kMax}};

template <typename E>
const char* name_of(const Choices<E>& choices, E value) {
  for (const auto& [name, v] : choices) {
    if (v == value) return name;
  }
  return "?";
}

std::string describe(const YAML::Node& node) {
  if (!node || node.IsNull()) return "nothing";
  if (node.IsScalar()) return "\"" + node.Scalar() + "\"";
  if (node.IsSequence()) return "a list";
  return "a map";
}

bool parse_int(const std::string& text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

bool parse_double(const std::string& text, double* out) {
  if (text.empty()) return false;
  std::istringstream in(text);
  in.imbue(std::locale::classic());
  in >> *out;
  return in && in.peek() == std::char_traits<char>::eof() && std::isfinite(*out);
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

// Reads typed values from the YAML tree, collecting every problem instead of stopping at one.
class Reader {
 public:
  Reader(YAML::Node root, std::string source, std::map<std::string, std::string> overridden)
      : root_(std::move(root)), source_(std::move(source)), overridden_(std::move(overridden)) {}

  void problem(const std::string& key, const YAML::Node& node, const std::string& expected) {
    auto it = overridden_.find(key);
    if (it == overridden_.end() && key.find('.') == std::string::npos) {  // a section made by an override
      it = std::find_if(overridden_.begin(), overridden_.end(),
                        [&](const auto& kv) { return kv.first.rfind(key + ".", 0) == 0; });
    }
    if (it != overridden_.end()) {
      problems_.push_back(input_error("override \"" + it->second + "\"", 0, key, describe(node), expected));
      return;
    }
    long long line = node && node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
    problems_.push_back(input_error(source_, line, key, describe(node), expected));
  }
  void add_problem(std::string message) { problems_.push_back(std::move(message)); }

  // The node at section.key, or an undefined node; registers the key as known.
  YAML::Node get(const std::string& section, const std::string& key) {
    known_[section].push_back(key);
    YAML::Node s = root_.IsMap() ? root_[section] : YAML::Node();
    if (!s || !s.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    return s[key];
  }

  void read_int(const std::string& section, const std::string& key, int64_t& out, int64_t min,
                const std::string& expected) {
    YAML::Node n = get(section, key);
    if (!n) return;
    int64_t v = 0;
    if (!n.IsScalar() || !parse_int(n.Scalar(), &v) || v < min) return problem(section + "." + key, n, expected);
    out = v;
  }

  void read_seed(const std::string& section, const std::string& key, uint64_t& out) {
    YAML::Node n = get(section, key);
    if (!n) return;
    const std::string& s = n.IsScalar() ? n.Scalar() : std::string();
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) {
      return problem(section + "." + key, n, "an integer in [0, 2^64)");
    }
    out = v;
  }

  // Accepts v when lo <= v (lo < v if lo_open) and v <= hi (v < hi if hi_open).
  void read_double(const std::string& section, const std::string& key, double& out, double lo, bool lo_open,
                   double hi, bool hi_open, const std::string& expected) {
    YAML::Node n = get(section, key);
    if (!n) return;
    double v = 0;
    bool ok = n.IsScalar() && parse_double(n.Scalar(), &v) && (lo_open ? v > lo : v >= lo) &&
              (hi_open ? v < hi : v <= hi);
    if (!ok) return problem(section + "." + key, n, expected);
    out = v;
  }

  void read_bool(const std::string& section, const std::string& key, bool& out) {
    YAML::Node n = get(section, key);
    if (!n) return;
    const std::string& s = n.IsScalar() ? n.Scalar() : std::string();
    if (s == "true" || s == "True" || s == "yes") {
      out = true;
    } else if (s == "false" || s == "False" || s == "no") {
      out = false;
    } else {
      problem(section + "." + key, n, "true or false");
    }
  }

  void read_string(const std::string& section, const std::string& key, std::string& out, bool allow_null) {
    YAML::Node n = get(section, key);
    if (!n) return;
    if (n.IsNull() && allow_null) {
      out.clear();
    } else if (n.IsScalar()) {
      out = n.Scalar();
    } else {
      problem(section + "." + key, n, allow_null ? "a string or null" : "a string");
    }
  }

  void read_int_list(const std::string& section, const std::string& key, std::vector<int64_t>& out) {
    YAML::Node n = get(section, key);
    if (!n) return;
    std::vector<int64_t> values;
    bool ok = n.IsSequence();
    for (size_t i = 0; ok && i < n.size(); ++i) {
      int64_t v = 0;
      ok = n[i].IsScalar() && parse_int(n[i].Scalar(), &v) && v >= 1;
      values.push_back(v);
    }
    if (!ok) return problem(section + "." + key, n, "a list of integers >= 1, e.g. [256, 128]");
    out = std::move(values);
  }

  template <typename E>
  void read_choice(const std::string& section, const std::string& key, E& out, const Choices<E>& choices) {
    YAML::Node n = get(section, key);
    if (!n) return;
    std::vector<std::string> names;
    for (const auto& [name, value] : choices) {
      names.push_back(name);
      if (n.IsScalar() && n.Scalar() == name) {
        out = value;
        return;
      }
    }
    problem(section + "." + key, n, "one of " + join_names(names));
  }

  void read_split_list(const std::string& section, const std::string& key, std::vector<std::string>& out) {
    YAML::Node n = get(section, key);
    if (!n) return;
    std::vector<std::string> values;
    bool ok = n.IsSequence() && n.size() > 0;
    for (size_t i = 0; ok && i < n.size(); ++i) {
      ok = n[i].IsScalar() && is_split(n[i].Scalar());
      if (ok) values.push_back(n[i].Scalar());
    }
    if (!ok) return problem(section + "." + key, n, "a non-empty list of train, valid, test");
    out = std::move(values);
  }

  void read_split(const std::string& section, const std::string& key, std::string& out) {
    YAML::Node n = get(section, key);
    if (!n) return;
    if (!n.IsScalar() || !is_split(n.Scalar())) return problem(section + "." + key, n, "one of train, valid, test");
    out = n.Scalar();
  }

  // Flags every key that no read_* call asked for, and sections that are not maps.
  void check_unknown() {
    if (!root_ || root_.IsNull()) return;
    if (!root_.IsMap()) return problem("", root_, "a map with sections data, model, training");
    for (const auto& entry : root_) {
      std::string section = entry.first.Scalar();
      auto known = known_.find(section);
      if (known == known_.end()) {
        problem(section, entry.first, "a section: data, model or training");
        continue;
      }
      if (entry.second.IsNull()) continue;
      if (!entry.second.IsMap()) {
        problem(section, entry.second, "a map of keys");
        continue;
      }
      std::set<std::string> names(known->second.begin(), known->second.end());
      for (const auto& kv : entry.second) {
        std::string key = kv.first.Scalar();
        if (!names.count(key)) {
          problem(section + "." + key, kv.first, "a known key of " + section + ": " + join_names(known->second));
        }
      }
    }
  }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  static bool is_split(const std::string& s) { return s == "train" || s == "valid" || s == "test"; }

  YAML::Node root_;
  std::string source_;
  std::map<std::string, std::string> overridden_;  // "section.key" -> the override text
  std::map<std::string, std::vector<std::string>> known_;
  std::vector<std::string> problems_;
};

// The output width of a tower: embedding_dim with an output layer, else the last hidden width
// (or the concatenated input width when there are no hidden layers).
int64_t tower_width(const ModelConfig& m, const std::vector<int64_t>& hidden, int64_t inputs) {
  if (m.output_layer) return m.embedding_dim;
  return hidden.empty() ? inputs * m.embedding_dim : hidden.back();
}

void check_cross_fields(const Config& c, Reader& reader, const std::string& source) {
  const ModelConfig& m = c.model;
  if (c.data.data_path.empty()) {
    reader.add_problem(input_error(source, 0, "data.data_path", "nothing", "a prepared data folder"));
  }
  int64_t item_inputs = m.use_item_id + m.use_category + m.use_brand + m.use_text;
  if (item_inputs == 0) {
    reader.add_problem(input_error(source, 0, "model.use_item_id", "no item input",
                                   "at least one of use_item_id, use_category, use_brand, use_text"));
    return;
  }
  if (m.user_history > 0 && !m.use_item_id) {
    reader.add_problem(input_error(source, 0, "model.user_history", str_cat(m.user_history, " with use_item_id false"),
                                   "0, or use_item_id true (the history pools item id embeddings)"));
  }
  int64_t user_width = tower_width(m, m.user_mlp_hidden, 1);
  int64_t item_width = tower_width(m, m.item_mlp_hidden, item_inputs);
  if (user_width != item_width) {
    reader.add_problem(input_error(source, 0, "model.output_layer",
                                   str_cat("false with user width ", user_width, " and item width ", item_width),
                                   "towers of equal output width (same last hidden size)"));
  }
}

}  // namespace

const char* to_string(OptimizerKind kind) { return name_of(kOptimizers, kind); }
const char* to_string(EmbeddingOptimizerKind kind) { return name_of(kEmbeddingOptimizers, kind); }
const char* to_string(CpuMatmul kind) { return name_of(kCpuMatmuls, kind); }
const char* to_string(MatmulPrecision precision) { return name_of(kMatmulPrecisions, precision); }
const char* to_string(SchedulerKind kind) { return name_of(kSchedulers, kind); }
const char* to_string(LossKind kind) { return name_of(kLosses, kind); }
const char* to_string(DeviceKind kind) { return name_of(kDevices, kind); }
const char* to_string(IdPolicy policy) { return name_of(kIdPolicies, policy); }
const char* to_string(MetricMode mode) { return name_of(kMetricModes, mode); }
const char* to_string(UserHistoryMode mode) { return name_of(kHistoryModes, mode); }

Config parse_config(const std::string& yaml_text, const std::string& source,
                    const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    fail(source, ":", e.mark.line + 1, ": not valid YAML: ", e.msg);
  }
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);

  std::vector<std::string> problems;
  std::map<std::string, std::string> overridden;
  for (const std::string& text : overrides) {
    size_t eq = text.find('=');
    size_t dot = text.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq || text.find('.', dot + 1) < eq) {
      problems.push_back(str_cat("override \"", text, "\": expected section.key=value, e.g. training.batch_size=512"));
      continue;
    }
    std::string section = text.substr(0, dot), key = text.substr(dot + 1, eq - dot - 1);
    YAML::Node value;
    try {
      value = YAML::Load(text.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      problems.push_back(str_cat("override \"", text, "\": value is not valid YAML: ", e.msg));
      continue;
    }
    if (!root.IsMap()) break;  // reported by check_unknown
    if (!root[section] || !root[section].IsMap()) root[section] = YAML::Node(YAML::NodeType::Map);
    root[section][key] = value;
    overridden[section + "." + key] = text;
  }

  Config c;
  Reader r(root, source, overridden);
  DataConfig& d = c.data;
  r.read_string("data", "data_path", d.data_path, false);
  r.read_string("data", "text_embeddings", d.text_embeddings, true);
  r.read_string("data", "text_embeddings_column", d.text_embeddings_column, false);
  r.read_int("data", "emb_dim", d.emb_dim, 1, "an integer >= 1");
  r.read_int("data", "neg_ratio", d.neg_ratio, 1, "an integer >= 1");
  r.read_seed("data", "seed", d.seed);
  r.read_bool("data", "negatives_exclude_positive", d.negatives_exclude_positive);
  r.read_split_list("data", "train_splits", d.train_splits);
  r.read_split("data", "valid_split", d.valid_split);

  ModelConfig& m = c.model;
  r.read_int("model", "embedding_dim", m.embedding_dim, 1, "an integer >= 1");
  r.read_int_list("model", "user_mlp_hidden", m.user_mlp_hidden);
  r.read_int_list("model", "item_mlp_hidden", m.item_mlp_hidden);
  r.read_double("model", "dropout", m.dropout, 0, false, 1, true, "a number in [0, 1)");
  r.read_bool("model", "use_item_id", m.use_item_id);
  r.read_bool("model", "use_category", m.use_category);
  r.read_bool("model", "use_brand", m.use_brand);
  r.read_bool("model", "use_text", m.use_text);
  r.read_bool("model", "last_layer_activation", m.last_layer_activation);
  r.read_bool("model", "output_layer", m.output_layer);
  r.read_double("model", "embedding_init_std", m.embedding_init_std, 0, true, HUGE_VAL, false, "a number > 0");
  r.read_choice("model", "out_of_range_ids", m.out_of_range_ids, kIdPolicies);
  r.read_int("model", "user_history", m.user_history, 0, "an integer >= 0 (0 = off)");
  r.read_choice("model", "user_history_mode", m.user_history_mode, kHistoryModes);
  r.read_double("model", "item_id_dropout", m.item_id_dropout, 0, false, 1, true, "a number in [0, 1)");
  r.read_double("model", "user_id_dropout", m.user_id_dropout, 0, false, 1, true, "a number in [0, 1)");
  r.read_bool("model", "pool_categories", m.pool_categories);

  TrainingConfig& t = c.training;
  r.read_int("training", "batch_size", t.batch_size, 1, "an integer >= 1");
  r.read_int("training", "num_epochs", t.num_epochs, 1, "an integer >= 1");
  r.read_double("training", "learning_rate", t.learning_rate, 0, true, HUGE_VAL, false, "a number > 0");
  r.read_double("training", "embedding_learning_rate", t.embedding_learning_rate, 0, false, HUGE_VAL, false,
                "a number >= 0 (0 = learning_rate)");
  r.read_double("training", "weight_decay", t.weight_decay, 0, false, HUGE_VAL, false, "a number >= 0");
  r.read_choice("training", "optimizer", t.optimizer, kOptimizers);
  r.read_double("training", "momentum", t.momentum, 0, false, 1, true, "a number in [0, 1)");
  r.read_choice("training", "scheduler", t.scheduler, kSchedulers);
  r.read_int("training", "step_size", t.step_size, 1, "an integer >= 1");
  r.read_double("training", "gamma", t.gamma, 0, true, 1, false, "a number in (0, 1]");
  r.read_double("training", "min_learning_rate", t.min_learning_rate, 0, false, HUGE_VAL, false, "a number >= 0");
  r.read_double("training", "clip_grad_norm", t.clip_grad_norm, 0, false, HUGE_VAL, false, "a number >= 0 (0 = off)");
  r.read_choice("training", "loss", t.loss, kLosses);
  r.read_double("training", "logit_scale", t.logit_scale, 0, true, HUGE_VAL, false, "a number > 0");
  r.read_bool("training", "learn_logit_scale", t.learn_logit_scale);
  r.read_double("training", "temperature", t.temperature, 0, true, HUGE_VAL, false, "a number > 0");
  r.read_bool("training", "logq_correction", t.logq_correction);
  r.read_bool("training", "mask_accidental_hits", t.mask_accidental_hits);
  r.read_int("training", "mixed_negatives", t.mixed_negatives, 1, "an integer >= 1");
  r.read_string("training", "best_metric", t.best_metric, false);
  r.read_choice("training", "best_metric_mode", t.best_metric_mode, kMetricModes);
  r.read_int("training", "early_stopping_patience", t.early_stopping_patience, 0, "an integer >= 0 (0 = off)");
  r.read_int("training", "max_steps_per_epoch", t.max_steps_per_epoch, 0, "an integer >= 0 (0 = all)");
  r.read_string("training", "output_dir", t.output_dir, false);
  r.read_choice("training", "device", t.device, kDevices);
  r.read_int("training", "threads", t.threads, 0, "an integer >= 0 (0 = all cores)");
  r.read_choice("training", "embedding_optimizer", t.embedding_optimizer, kEmbeddingOptimizers);
  r.read_bool("training", "shared_user_tower", t.shared_user_tower);
  r.read_bool("training", "prefetch", t.prefetch);
  r.read_choice("training", "cpu_matmul", t.cpu_matmul, kCpuMatmuls);
  r.read_choice("training", "matmul_precision", t.matmul_precision, kMatmulPrecisions);
  r.check_unknown();
  check_cross_fields(c, r, source);

  for (const auto& p : r.problems()) problems.push_back(p);
  if (!problems.empty()) {
    std::string message = str_cat(source, ": ", problems.size(), " problem", problems.size() > 1 ? "s" : "",
                                  " in the configuration:");
    for (const auto& p : problems) message += "\n  " + p;
    fail(message);
  }
  return c;
}

Config load_config(const fs::path& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path);
  if (!in) fail(path.string(), ": cannot open the configuration file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string(), overrides);
}

namespace {

// Shortest text that reads back as the same double (1e-05, 0.001).
std::string number(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

}  // namespace

std::string config_to_yaml(const Config& c) {
  YAML::Emitter out;
  auto kv = [&out](const char* key, const auto& value) { out << YAML::Key << key << YAML::Value << value; };
  auto real = [&out](const char* key, double value) {
    out << YAML::Key << key << YAML::Value << number(value);
  };
  auto list = [&out](const char* key, const auto& values) {
    out << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& v : values) out << v;
    out << YAML::EndSeq;
  };
  auto boolean = [&out](const char* key, bool value) {
    out << YAML::Key << key << YAML::Value << (value ? "true" : "false");
  };
  const DataConfig& d = c.data;
  const ModelConfig& m = c.model;
  const TrainingConfig& t = c.training;
  out << YAML::BeginMap;
  out << YAML::Key << "data" << YAML::Value << YAML::BeginMap;
  kv("data_path", d.data_path);
  if (d.text_embeddings.empty()) {
    out << YAML::Key << "text_embeddings" << YAML::Value << YAML::Null;
  } else {
    kv("text_embeddings", d.text_embeddings);
  }
  kv("text_embeddings_column", d.text_embeddings_column);
  kv("emb_dim", d.emb_dim);
  kv("neg_ratio", d.neg_ratio);
  kv("seed", d.seed);
  boolean("negatives_exclude_positive", d.negatives_exclude_positive);
  list("train_splits", d.train_splits);
  kv("valid_split", d.valid_split);
  out << YAML::EndMap;

  out << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
  kv("embedding_dim", m.embedding_dim);
  list("user_mlp_hidden", m.user_mlp_hidden);
  list("item_mlp_hidden", m.item_mlp_hidden);
  real("dropout", m.dropout);
  boolean("use_item_id", m.use_item_id);
  boolean("use_category", m.use_category);
  boolean("use_brand", m.use_brand);
  boolean("use_text", m.use_text);
  boolean("last_layer_activation", m.last_layer_activation);
  boolean("output_layer", m.output_layer);
  real("embedding_init_std", m.embedding_init_std);
  kv("out_of_range_ids", to_string(m.out_of_range_ids));
  kv("user_history", m.user_history);
  kv("user_history_mode", to_string(m.user_history_mode));
  real("item_id_dropout", m.item_id_dropout);
  real("user_id_dropout", m.user_id_dropout);
  boolean("pool_categories", m.pool_categories);
  out << YAML::EndMap;

  out << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
  kv("batch_size", t.batch_size);
  kv("num_epochs", t.num_epochs);
  real("learning_rate", t.learning_rate);
  real("embedding_learning_rate", t.embedding_learning_rate);
  real("weight_decay", t.weight_decay);
  kv("optimizer", to_string(t.optimizer));
  real("momentum", t.momentum);
  kv("scheduler", to_string(t.scheduler));
  kv("step_size", t.step_size);
  real("gamma", t.gamma);
  real("min_learning_rate", t.min_learning_rate);
  real("clip_grad_norm", t.clip_grad_norm);
  kv("loss", to_string(t.loss));
  real("logit_scale", t.logit_scale);
  boolean("learn_logit_scale", t.learn_logit_scale);
  real("temperature", t.temperature);
  boolean("logq_correction", t.logq_correction);
  boolean("mask_accidental_hits", t.mask_accidental_hits);
  kv("mixed_negatives", t.mixed_negatives);
  kv("best_metric", t.best_metric);
  kv("best_metric_mode", to_string(t.best_metric_mode));
  kv("early_stopping_patience", t.early_stopping_patience);
  kv("max_steps_per_epoch", t.max_steps_per_epoch);
  kv("output_dir", t.output_dir);
  kv("device", to_string(t.device));
  kv("threads", t.threads);
  kv("embedding_optimizer", to_string(t.embedding_optimizer));
  kv("shared_user_tower", t.shared_user_tower);
  kv("prefetch", t.prefetch);
  kv("cpu_matmul", to_string(t.cpu_matmul));
  kv("matmul_precision", to_string(t.matmul_precision));
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

void save_config(const Config& config, const fs::path& path) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp);
    if (!out) fail(tmp.string(), ": cannot open for writing");
    out << config_to_yaml(config);
    if (!out) fail(tmp.string(), ": write failed");
  }
  fs::rename(tmp, path);
}

}  // namespace twotower
