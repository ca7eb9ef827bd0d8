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

#include "twotower/common/atomic_file.h"
#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower/config/best_metric.h"
#include "twotower/config/config_keys.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

std::string describe(const YAML::Node& node) {
  if (!node || node.IsNull()) return "nothing";
  if (node.IsScalar()) return "\"" + node.Scalar() + "\"";
  if (node.IsSequence()) return "a list";
  return "a map";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

// Reads the keys of config_keys() from the YAML tree, collecting every problem instead of
// stopping at one.
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

  // Every key of the table that the tree sets, read into `config`.
  void read_keys(Config& config) {
    for (const ConfigKey& key : config_keys()) {
      YAML::Node section = root_.IsMap() ? root_[key.section] : YAML::Node();
      if (!section || !section.IsMap()) continue;
      YAML::Node node = section[key.name];
      if (node && !key.read(node, config)) problem(key.section + "." + key.name, node, key.expected);
    }
  }

  // Flags every key the table does not have, and sections that are not maps.
  void check_unknown() {
    if (!root_ || root_.IsNull()) return;
    if (!root_.IsMap()) return problem("", root_, "a map with sections data, model, training");
    for (const auto& entry : root_) {
      const std::string section = entry.first.Scalar();
      std::vector<std::string> known;
      for (const ConfigKey& key : config_keys()) {
        if (key.section == section) known.push_back(key.name);
      }
      if (known.empty()) {
        problem(section, entry.first, "a section: data, model or training");
        continue;
      }
      if (entry.second.IsNull()) continue;
      if (!entry.second.IsMap()) {
        problem(section, entry.second, "a map of keys");
        continue;
      }
      for (const auto& kv : entry.second) {
        const std::string key = kv.first.Scalar();
        if (std::find(known.begin(), known.end(), key) == known.end()) {
          problem(section + "." + key, kv.first, "a known key of " + section + ": " + join_names(known));
        }
      }
    }
  }

  const std::vector<std::string>& problems() const { return problems_; }

 private:
  YAML::Node root_;
  std::string source_;
  std::map<std::string, std::string> overridden_;  // "section.key" -> the override text
  std::vector<std::string> problems_;
};

// The output width of a tower: embedding_dim with an output layer, else the last hidden width
// (or the concatenated input width when there are no hidden layers).
int64_t tower_width(const ModelConfig& m, const std::vector<int64_t>& hidden, int64_t inputs) {
  if (m.output_layer) return m.embedding_dim;
  return hidden.empty() ? inputs * m.embedding_dim : hidden.back();
}

// training.refit selects the epoch count on validation: a metric that validation gives, a
// validation split that is not trained on.
void check_refit(const Config& c, Reader& reader, const std::string& source) {
  const TrainingConfig& t = c.training;
  if (t.best_metric == "train_loss" || t.best_metric == "last") {
    reader.add_problem(input_error(source, 0, "training.best_metric", str_cat(t.best_metric, " with refit true"),
                                   "a validation metric (val_loss, recall@K or ndcg@K) that selects the epochs"));
  }
  const auto& splits = c.data.train_splits;
  if (std::find(splits.begin(), splits.end(), c.data.valid_split) != splits.end()) {
    reader.add_problem(input_error(source, 0, "data.train_splits", str_cat("a list with ", c.data.valid_split, " and refit true"),
                                   "splits without data.valid_split (refit adds it for the final model)"));
  }
}

// Attention pooling encodes whole histories (model/sequence_encoder.h) and trains on every prefix
// of each with a softmax loss.
void check_attention(const Config& c, Reader& reader, const std::string& source) {
  const ModelConfig& m = c.model;
  if (m.user_history < 1) {
    reader.add_problem(input_error(source, 0, "model.user_history", "0 with user_history_pooling attention",
                                   "the longest history attended to (>= 1)"));
  }
  if (m.user_history_mode != UserHistoryMode::kBefore) {
    reader.add_problem(input_error(source, 0, "model.user_history_mode", "last with user_history_pooling attention",
                                   "before (a training pair attends to the items before it)"));
  }
  if (m.embedding_dim % m.attention_heads != 0) {
    reader.add_problem(input_error(source, 0, "model.attention_heads",
                                   str_cat(m.attention_heads, " with embedding_dim ", m.embedding_dim),
                                   "a divisor of embedding_dim"));
  }
  const LossKind loss = c.training.loss;
  if (loss != LossKind::kSoftmax && loss != LossKind::kMixed && loss != LossKind::kFull) {
    reader.add_problem(input_error(source, 0, "training.loss", str_cat(to_string(loss), " with attention pooling"),
                                   "softmax, mixed or full (training scores every prefix of a history)"));
  }
}

// What a captured step (train/gpu/step_graph.h) cannot hold: the host, a row-wise or torch's own
// optimizer update, batches of histories of varying widths.
void check_cuda_graph(const Config& c, Reader& reader, const std::string& source) {
  const TrainingConfig& t = c.training;
  const auto problem = [&](const char* field, const std::string& got, const char* expected) {
    reader.add_problem(input_error(source, 0, field, got + " with cuda_graph true", expected));
  };
  if (t.device == DeviceKind::kCpu) problem("training.device", "cpu", "cuda or auto (a CUDA graph needs a GPU)");
  if (t.optimizer != OptimizerKind::kAdam || !t.fused_adam) {
    problem("training.optimizer", t.optimizer == OptimizerKind::kAdam ? "adam without fused_adam" : to_string(t.optimizer),
            "adam with fused_adam true (the captured update is ATen's fused Adam)");
  }
  if (t.embedding_optimizer != EmbeddingOptimizerKind::kDense) {
    problem("training.embedding_optimizer", to_string(t.embedding_optimizer), "dense (row-wise updates touch data-dependent rows)");
  }
  if (c.model.user_history_pooling == HistoryPooling::kAttention) {
    problem("model.user_history_pooling", "attention", "mean (batches of histories change shape)");
  }
}

void check_cross_fields(const Config& c, Reader& reader, const std::string& source) {
  if (c.training.cuda_graph) check_cuda_graph(c, reader, source);
  if (!is_loss_best_metric(c.training.best_metric) && !is_ranking_best_metric(c.training.best_metric)) {
    reader.add_problem(input_error(source, 0, "training.best_metric", "\"" + c.training.best_metric + "\"",
                                   loss_best_metrics_text() + ", recall@K or ndcg@K (K >= 1)"));
  }
  if (c.training.refit) check_refit(c, reader, source);
  if (c.training.incremental == IncrementalMode::kNewReplay && c.training.init_from.empty()) {
    reader.add_problem(input_error(source, 0, "training.incremental", "new+replay with training.init_from null",
                                   "full, or a run folder in training.init_from (new+replay continues a run)"));
  }
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
  if (!m.use_user_id && m.user_history == 0) {
    reader.add_problem(input_error(source, 0, "model.use_user_id", "false with user_history 0",
                                   "true, or user_history >= 1 (the user tower needs an input)"));
  }
  if (m.user_history_pooling == HistoryPooling::kAttention) check_attention(c, reader, source);
  int64_t user_width = tower_width(m, m.user_mlp_hidden, 1);
  int64_t item_width = tower_width(m, m.item_mlp_hidden, item_inputs);
  if (user_width != item_width) {
    reader.add_problem(input_error(source, 0, "model.output_layer",
                                   str_cat("false with user width ", user_width, " and item width ", item_width),
                                   "towers of equal output width (same last hidden size)"));
  }
}

}  // namespace

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
  r.read_keys(c);
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

std::string config_to_yaml(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string section;
  for (const ConfigKey& key : config_keys()) {
    if (key.section != section) {
      if (!section.empty()) out << YAML::EndMap;
      section = key.section;
      out << YAML::Key << section << YAML::Value << YAML::BeginMap;
    }
    out << YAML::Key << key.name << YAML::Value;
    key.write(out, c);
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string documented_config_yaml(const Config& c, const std::string& header) {
  constexpr size_t kCommentColumn = 33;
  std::string text = header, section;
  for (const ConfigKey& key : config_keys()) {
    if (key.section != section) {
      section = key.section;
      text += "\n" + section + ":\n";
    }
    YAML::Emitter value;
    key.write(value, c);
    std::string line = "  " + key.name + ": " + (std::string(value.c_str()) == "~" ? "null" : value.c_str());
    if (key.doc.empty()) {
      text += line + "\n";
      continue;
    }
    std::stringstream doc(key.doc);
    std::string part;
    for (bool first = true; std::getline(doc, part); first = false) {
      if (!first) line.clear();
      line.resize(std::max(kCommentColumn, line.size() + 1), ' ');
      text += line + "# " + part + "\n";
    }
  }
  return text;
}

void save_config(const Config& config, const fs::path& path) {
  write_file_atomically(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp);
    if (!out) fail(tmp.string(), ": cannot open for writing");
    out << config_to_yaml(config);
    if (!out) fail(tmp.string(), ": write failed");
  });
}

}  // namespace twotower
