#include "twotower/train/init_from.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower/config/config_keys.h"
#include "twotower/data/forget.h"
#include "twotower/data/parquet_io.h"
#include "twotower/model/linear.h"
#include "twotower/train/checkpoint.h"
#include "twotower/train/new_item_ranks.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

// The keys that decide the parameters' shapes and the optimizers' state layout.
constexpr const char* kShapeKeys[] = {"model.embedding_dim",      "model.user_mlp_hidden", "model.item_mlp_hidden",
                                      "model.use_item_id",        "model.use_category",    "model.use_brand",
                                      "model.use_text",           "model.last_layer_activation",
                                      "model.output_layer",       "training.learn_logit_scale",
                                      "training.optimizer",       "training.embedding_optimizer"};

std::string key_value(const ConfigKey& key, const Config& config) {
  YAML::Emitter out;
  out << YAML::Flow;
  key.write(out, config);
  return out.c_str();
}

void check_shape_keys(const Config& now, const Config& run, const fs::path& run_yaml) {
  std::vector<std::string> names(std::begin(kShapeKeys), std::end(kShapeKeys));
  if (now.model.use_text) names.emplace_back("data.emb_dim");
  for (const ConfigKey& key : config_keys()) {
    const std::string name = key.section + "." + key.name;
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    const std::string got = key_value(key, now), expected = key_value(key, run);
    if (got == expected) continue;
    fail("training.init_from: ", name, ": got ", got, ", expected ", expected, " (the value in ", run_yaml.string(),
         "; a continued run keeps the model's shape)");
  }
}

// `old_values` must be the first entries of `values`.
void check_prefix(const std::vector<std::string>& values, const std::vector<std::string>& old_values,
                  const fs::path& file, const fs::path& old_file, const char* what) {
  const std::string remedy = " (the run's data; make the new data with twotower prepare --extend " +
                             old_file.parent_path().string() + ")";
  if (values.size() < old_values.size()) {
    fail(file.string(), ": got ", values.size(), " ", what, "s, expected at least the ", old_values.size(), " of ",
         old_file.string(), remedy);
  }
  for (size_t i = 0; i < old_values.size(); ++i) {
    if (values[i] == old_values[i]) continue;
    fail(file.string(), ": ", what, " ", i, ": got \"", values[i], "\", expected \"", old_values[i], "\" as in ",
         old_file.string(), remedy);
  }
}

// The old data's interactions must be the first rows of the new data's, in order.
int64_t check_old_interactions(const fs::path& old_dir, const Dataset& data, const fs::path& new_dir) {
  const fs::path path = old_dir / "interactions_mapped.parquet";
  ParquetTable table(path, {"user_idx", "item_idx"});
  const std::vector<int64_t> users = table.int64_column("user_idx"), items = table.int64_column("item_idx");
  const auto& in = data.interactions;
  if (users.size() > in.size()) {
    fail(new_dir.string(), ": got ", in.size(), " interactions, expected at least the ", users.size(), " of ",
         path.string());
  }
  for (size_t r = 0; r < users.size(); ++r) {
    if (users[r] == in.user[r] && items[r] == in.item[r]) continue;
    fail((new_dir / "interactions_mapped.parquet").string(), ":", r + 1, ": got (user_idx ", in.user[r],
         ", item_idx ", in.item[r], "), expected (", users[r], ", ", items[r], ") as in ", path.string(),
         " (the old interactions come first, unchanged, in a folder made by twotower prepare --extend)");
  }
  return static_cast<int64_t>(users.size());
}

std::map<std::string, torch::Tensor> parameters_by_name(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : module.named_parameters()) out.emplace(p.key(), p.value());
  return out;
}

// The dense optimizer's per-parameter state, grown like the parameters (Adam, SGD).
void continue_dense_state(torch::optim::Optimizer& old, torch::optim::Optimizer& now) {
  auto& old_groups = old.param_groups();
  auto& groups = now.param_groups();
  if (old_groups.size() != groups.size()) fail("dense optimizer: got ", old_groups.size(), " groups, expected ", groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& old_params = old_groups[g].params();
    const auto& params = groups[g].params();
    if (old_params.size() != params.size()) {
      fail("dense optimizer group ", g, ": got ", old_params.size(), " parameters, expected ", params.size());
    }
    for (size_t i = 0; i < params.size(); ++i) {
      auto found = old.state().find(old_params[i].unsafeGetTensorImpl());
      if (found == old.state().end()) continue;
      std::unique_ptr<torch::optim::OptimizerParamState> state = found->second->clone();
      const std::string what = "optimizer state of parameter " + std::to_string(i);
      if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(state.get())) {
        adam->exp_avg(grown_copy(adam->exp_avg(), params[i], what));
        adam->exp_avg_sq(grown_copy(adam->exp_avg_sq(), params[i], what));
        if (adam->max_exp_avg_sq().defined()) adam->max_exp_avg_sq(grown_copy(adam->max_exp_avg_sq(), params[i], what));
      } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(state.get())) {
        if (sgd->momentum_buffer().defined()) sgd->momentum_buffer(grown_copy(sgd->momentum_buffer(), params[i], what));
      }
      now.state()[params[i].unsafeGetTensorImpl()] = std::move(state);
    }
  }
}

// Zero rows, in the user id table and in its dense optimizer state, for the users the new data
// has forgotten (data/forget.h): nothing learned from them carries into the continued run.
// Returns how many rows were zeroed.
int64_t zero_forgotten_users(TwoTowerModel& model, Optimizers& optimizers, const std::vector<int64_t>& forgotten) {
  if (forgotten.empty() || !model->user_tower->embedding) return 0;
  torch::NoGradGuard no_grad;
  torch::Tensor& table = model->user_tower->embedding->weight;
  const torch::Tensor rows = torch::tensor(forgotten, torch::kLong).to(table.device());
  table.index_fill_(0, rows, 0.0);
  auto found = optimizers.dense->state().find(table.unsafeGetTensorImpl());
  if (found != optimizers.dense->state().end()) {
    if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(found->second.get())) {
      adam->exp_avg().index_fill_(0, rows, 0.0);
      adam->exp_avg_sq().index_fill_(0, rows, 0.0);
      if (adam->max_exp_avg_sq().defined()) adam->max_exp_avg_sq().index_fill_(0, rows, 0.0);
    } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(found->second.get())) {
      if (sgd->momentum_buffer().defined()) sgd->momentum_buffer().index_fill_(0, rows, 0.0);
    }
  }
  if (optimizers.rows) optimizers.rows->zero_rows(table, rows);
  return static_cast<int64_t>(forgotten.size());
}

}  // namespace

torch::Tensor grown_copy(const torch::Tensor& old, const torch::Tensor& like, const std::string& what) {
  const bool fits = old.dim() == like.dim() && old.dim() > 0 && old.size(0) <= like.size(0) &&
                    old.sizes().slice(1).equals(like.sizes().slice(1));
  if (!fits && !(old.dim() == 0 && like.dim() == 0)) {
    fail(what, ": got shape ", old.sizes(), ", expected ", like.sizes(), " (or fewer rows of it)");
  }
  torch::NoGradGuard no_grad;
  torch::Tensor out = torch::zeros_like(like);
  if (old.dim() == 0) return out.copy_(old);
  out.narrow(0, 0, old.size(0)).copy_(old);
  return out;
}

ContinuedRun::ContinuedRun(const Config& config, const Dataset& data) : config_(config), run_(config.training.init_from) {
  const fs::path yaml = run_ / "config.yaml";
  if (!fs::exists(yaml)) fail("training.init_from: got ", run_.string(), ", expected a run folder (no config.yaml there)");
  if (!fs::exists(run_ / "checkpoints" / "last.pt")) {
    fail("training.init_from: got ", run_.string(), ", expected a run with checkpoints/last.pt (none there)");
  }
  run_config_ = load_config(yaml);
  check_shape_keys(config, run_config_, yaml);
  const fs::path old_dir = run_config_.data.data_path, new_dir = config.data.data_path;
  const std::vector<std::string> old_users = read_id_map(old_dir / "uid2idx.json");
  const std::vector<std::string> old_items = read_id_map(old_dir / "iid2idx.json");
  check_prefix(data.user_ids, old_users, new_dir / "uid2idx.json", old_dir / "uid2idx.json", "user_idx");
  check_prefix(data.item_ids, old_items, new_dir / "iid2idx.json", old_dir / "iid2idx.json", "item_idx");
  ItemFeatures old_features;
  if (fs::exists(old_dir / "features.json")) {
    const nlohmann::json f = read_json_file(old_dir / "features.json");
    old_features.category_vocab = f.at("categories").get<std::vector<std::string>>();
    old_features.brand_vocab = f.at("brands").get<std::vector<std::string>>();
  }
  check_prefix(data.items.category_vocab, old_features.category_vocab, new_dir / "features.json",
               old_dir / "features.json", "category");
  check_prefix(data.items.brand_vocab, old_features.brand_vocab, new_dir / "features.json", old_dir / "features.json",
               "brand");
  old_interactions_ = check_old_interactions(old_dir, data, new_dir);
  old_sizes_.num_users = static_cast<int64_t>(old_users.size());
  old_sizes_.num_items = static_cast<int64_t>(old_items.size());
  old_sizes_.num_categories = static_cast<int64_t>(old_features.category_vocab.size());
  old_sizes_.num_brands = static_cast<int64_t>(old_features.brand_vocab.size());
  old_sizes_.text_dim = config.data.emb_dim;
}

std::vector<int64_t> ContinuedRun::pair_rows(const std::vector<int64_t>& train_rows) const {
  const TrainingConfig& t = config_.training;
  if (t.incremental == IncrementalMode::kFull) return train_rows;
  std::vector<int64_t> old_rows, rows;
  for (int64_t r : train_rows) (r < old_interactions_ ? old_rows : rows).push_back(r);
  if (rows.empty()) {
    fail("training.incremental: got new+replay, expected full: no training interaction of ", config_.data.data_path,
         " is beyond the ", old_interactions_, " of the run's data");
  }
  const auto wanted = static_cast<size_t>(std::llround(t.replay_ratio * static_cast<double>(rows.size())));
  const size_t replay = std::min(wanted, old_rows.size());
  std::mt19937_64 rng(config_.data.seed);
  for (size_t i = 0; i < replay; ++i) {
    std::uniform_int_distribution<size_t> pick(i, old_rows.size() - 1);
    std::swap(old_rows[i], old_rows[pick(rng)]);
  }
  log_info("new+replay: ", rows.size(), " new training interactions and ", replay, " of the ", old_rows.size(),
           " old ones (replay_ratio ", t.replay_ratio, ")");
  rows.insert(rows.end(), old_rows.begin(), old_rows.begin() + static_cast<std::ptrdiff_t>(replay));
  std::sort(rows.begin(), rows.end());
  return rows;
}

nlohmann::json ContinuedRun::load_into(TwoTowerModel& model, Optimizers& optimizers, const Dataset& data,
                                       const torch::Device& device) const {
  TwoTowerModel old(config_.model, old_sizes_, matmul_options(config_.training));
  if (config_.training.learn_logit_scale) old->add_logit_scale(config_.training.logit_scale);
  Optimizers old_optimizers = make_optimizers(old, config_.training);
  const fs::path last = run_ / "checkpoints" / "last.pt";
  const TrainState state = load_checkpoint(last, old, old_optimizers.dense.get(), old_optimizers.rows.get());
  const std::map<std::string, torch::Tensor> old_params = parameters_by_name(*old);
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, p] : parameters_by_name(*model)) {
      auto found = old_params.find(name);
      if (found == old_params.end()) fail(last.string(), ": got no parameter \"", name, "\", expected one per parameter");
      p.copy_(grown_copy(found->second.to(p.device()), p, last.string() + ": parameter \"" + name + "\""));
    }
  }
  continue_dense_state(*old_optimizers.dense, *optimizers.dense);
  if (optimizers.rows) optimizers.rows->continue_from(*old_optimizers.rows);
  const std::vector<int64_t> forgotten = read_forgotten_users(config_.data.data_path);
  const int64_t zeroed = zero_forgotten_users(model, optimizers, forgotten);
  const ModelSizes& now = model->sizes();
  nlohmann::json report = {
      {"run", run_.string()},
      {"checkpoint", last.string()},
      {"run_epochs", state.epoch},
      {"incremental", to_string(config_.training.incremental)},
      {"old", {{"users", old_sizes_.num_users}, {"items", old_sizes_.num_items},
               {"categories", old_sizes_.num_categories}, {"brands", old_sizes_.num_brands},
               {"interactions", old_interactions_}, {"parameters", count_parameters(*old)}}},
      {"new", {{"users", now.num_users}, {"items", now.num_items}, {"categories", now.num_categories},
               {"brands", now.num_brands}, {"interactions", static_cast<int64_t>(data.interactions.size())},
               {"parameters", count_parameters(*model)}}},
      {"new_rows", "zero (the input of an id without a row), with zero optimizer state"},
      {"forgotten_user_rows_zeroed", zeroed},
  };
  // Without new items there is nothing to rank before the first update (a refit that continues
  // its selection, train/refit.h, on the same data).
  report["new_item_ranks"] = now.num_items > old_sizes_.num_items
                                 ? new_item_ranks(model, data, config_, old_sizes_.num_items, device)
                                 : nlohmann::json{{"new", {{"targets", 0}}}, {"skipped", "no new items"}};
  log_info("continued from ", last.string(), " (epoch ", state.epoch, "): ", report["old"].dump(), " -> ",
           report["new"].dump(), "; new items before any update: ", report["new_item_ranks"].dump());
  return report;
}

}  // namespace twotower
