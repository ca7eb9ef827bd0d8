#include "twotower/serve/export/export_writer.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/common/format.h"
#include "twotower/common/log.h"
#include "twotower/config/config.h"
#include "twotower/data/dataset.h"
#include "twotower/data/forget.h"
#include "twotower/data/model_inputs.h"
#include "twotower/data/npy.h"
#include "twotower/data/parquet_io.h"
#include "twotower/eval/evaluate_run.h"
#include "twotower/model/embedding_export.h"
#include "twotower/serve/export/export_forget.h"
#include "twotower/serve/export/export_layout.h"
#include "twotower/train/checkpoint.h"
#include "twotower/train/run_setup.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

fs::path checkpoint_of(const fs::path& run_dir) {
  for (const char* name : {"best.pt", "last.pt"}) {
    if (fs::exists(run_dir / "checkpoints" / name)) return run_dir / "checkpoints" / name;
  }
  fail((run_dir / "checkpoints").string(), ": got no best.pt or last.pt, expected a trained run folder");
}

void write_items(const Dataset& data, const std::vector<int64_t>& seen_rows, const fs::path& path) {
  const size_t n = data.item_ids.size();
  std::vector<int64_t> idx(n), popularity(n, 0), category(n), brand(n);
  for (size_t i = 0; i < n; ++i) {
    idx[i] = static_cast<int64_t>(i);
    category[i] = data.items.category_idx[i];
    brand[i] = data.items.brand_idx[i];
  }
  for (int64_t r : seen_rows) ++popularity[static_cast<size_t>(data.interactions.item[static_cast<size_t>(r)])];
  ParquetWriter w;
  w.add_int64("item_idx", idx);
  w.add_string("item_id", data.item_ids);
  w.add_string("title", data.items.title);
  w.add_int64("category_idx", category);
  w.add_int64("brand_idx", brand);
  w.add_int64("popularity", popularity);
  w.write(path);
}

void write_users(const Dataset& data, const std::vector<int64_t>& seen_rows, const fs::path& dir) {
  std::vector<int64_t> idx(data.user_ids.size());
  for (size_t u = 0; u < idx.size(); ++u) idx[u] = static_cast<int64_t>(u);
  ParquetWriter users;
  users.add_int64("user_idx", idx);
  users.add_string("user_id", data.user_ids);
  users.write(dir / kUsersFile);
  std::vector<int64_t> seen_users, seen_items;
  seen_users.reserve(seen_rows.size());
  seen_items.reserve(seen_rows.size());
  for (int64_t r : seen_rows) {
    seen_users.push_back(data.interactions.user[static_cast<size_t>(r)]);
    seen_items.push_back(data.interactions.item[static_cast<size_t>(r)]);
  }
  ParquetWriter seen;
  seen.add_int64("user_idx", seen_users);
  seen.add_int64("item_idx", seen_items);
  seen.write(dir / kSeenFile);
}

nlohmann::json manifest_of(const Config& config, const Dataset& data, const TrainState& state, const fs::path& run_dir,
                           const fs::path& checkpoint, const std::string& version, int64_t dim, size_t num_seen) {
  nlohmann::json m;
  m["format_version"] = kExportFormatVersion;
  m["version"] = version;
  m["created_at"] = utc_now();
  m["source_run"] = fs::absolute(run_dir).lexically_normal().string();
  m["checkpoint"] = checkpoint.filename().string();
  m["epoch"] = state.epoch;
  m["best_epoch"] = state.best_epoch;
  m["dim"] = dim;
  m["num_users"] = data.num_users();
  m["num_items"] = data.num_items();
  m["num_seen"] = num_seen;
  m["num_categories"] = data.items.category_vocab.size();
  m["num_brands"] = data.items.brand_vocab.size();
  m["text_dim"] = config.data.emb_dim;
  m["user_history"] = config.model.user_history;
  // The zero id input with an empty history is a trained one with user-id dropout, or in a tower
  // without user ids that pools the items before each pair (every user's first pair has none;
  // the attention tower's start token alone). See Recommender.
  m["cold_user_vector"] = config.model.user_id_dropout > 0 ||
                          (!config.model.use_user_id && config.model.user_history_mode == UserHistoryMode::kBefore);
  m["config"] = config_to_yaml(config);
  return m;
}

constexpr int64_t kRecallQueries = 1000;

// Builds the HNSW graph of the exported item vectors, writes it, returns manifest["hnsw"].
nlohmann::json write_hnsw(const fs::path& dir, IndexOptions options) {
  options.kind = IndexKind::kHnsw;
  const Matrix items = read_npy(dir / kItemEmbeddingsFile), users = read_npy(dir / kUserEmbeddingsFile);
  const TopKIndex index(items.data, items.cols, options);
  index.save((dir / kHnswFile).string());
  const double recall = index.recall_at(spread_rows(users.data, users.cols, kRecallQueries), 10);
  log_info("export: hnsw (M ", options.hnsw_m, ", efConstruction ", options.hnsw_ef_construction, "): recall@10 ",
           recall, " at efSearch ", options.hnsw_ef_search, " against exact on known users' vectors");
  return {{"file", kHnswFile}, {"m", options.hnsw_m}, {"ef_construction", options.hnsw_ef_construction},
          {"ef_search", options.hnsw_ef_search}, {"recall_at_10", recall}};
}

// Writes every file of the version into `dir` (an empty folder).
ExportSummary write_version(const fs::path& run_dir, const fs::path& dir, const std::string& version,
                            const ExportOptions& options) {
  Config config = load_config(run_dir / "config.yaml");
  config.data.data_path = data_path_from_run(run_dir).string();
  config = resolved_paths(config);
  const Dataset data = load_dataset(config.data.data_path);
  const torch::Device cpu(torch::kCPU);
  TwoTowerModel model = build_model(config, data, rows_in_splits(data.interactions, config.data.train_splits), cpu);
  const fs::path checkpoint = checkpoint_of(run_dir);
  const TrainState state = load_checkpoint(checkpoint, model, nullptr);
  model->eval();
  export_embeddings(model, data, config, cpu, dir);
  save_model_checkpoint(dir / kModelFile, model, state);
  save_config(config, dir / kConfigFile);
  const std::vector<int64_t> seen_rows = rows_in_splits(data.interactions, {"train", "valid"});
  write_items(data, seen_rows, dir / kItemsFile);
  write_users(data, seen_rows, dir);
  write_json_file({{"categories", data.items.category_vocab}, {"brands", data.items.brand_vocab}},
                  dir / kFeaturesFile);
  const int64_t dim = read_npy(dir / kItemEmbeddingsFile).cols;
  nlohmann::json manifest = manifest_of(config, data, state, run_dir, checkpoint, version, dim, seen_rows.size());
  std::vector<const char*> files = {kItemEmbeddingsFile, kUserEmbeddingsFile, kItemsFile, kUsersFile,
                                     kSeenFile,           kFeaturesFile,       kConfigFile, kModelFile};
  if (options.hnsw) {
    manifest["hnsw"] = write_hnsw(dir, options.index);
    files.push_back(kHnswFile);
  }
  for (const char* name : files) manifest["files"][name] = manifest_checksum(dir / name);
  write_json_file(manifest, dir / kManifestFile);
  // Users forgotten in the data (data/forget.h) get no id, vector or id row here either.
  const std::vector<int64_t> forgotten = read_forgotten_users(config.data.data_path);
  if (!forgotten.empty()) forget_users_in_export_version(dir, forgotten);
  return {dir, version, data.num_users(), data.num_items(), dim};
}

}  // namespace

ExportSummary write_export(const fs::path& run_dir, const fs::path& out_parent, const ExportOptions& options) {
  if (!fs::exists(run_dir / "config.yaml")) {
    fail((run_dir / "config.yaml").string(), ": not found (a run folder holds the config it was trained with)");
  }
  fs::create_directories(out_parent);
  const std::string version = next_export_version(out_parent);
  const fs::path tmp = out_parent / str_cat(".", version, ".tmp-", ::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  ExportSummary summary;
  try {
    summary = write_version(run_dir, tmp, version, options);
    summary.dir = out_parent / version;
    std::error_code ec;
    fs::rename(tmp, summary.dir, ec);
    if (ec) fail("export: cannot rename ", tmp.string(), " to ", summary.dir.string(), ": ", ec.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
  log_info("export: ", summary.dir.string(), ": ", summary.num_users, " users, ", summary.num_items, " items, dim ",
           summary.dim, " (from ", run_dir.string(), ")");
  return summary;
}

}  // namespace twotower
