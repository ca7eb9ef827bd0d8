#include "twotower/serve/export/export_forget.h"

#include <algorithm>
#include <unordered_set>

#include <torch/torch.h>

#include "twotower/common/error.h"
#include "twotower/data/dataset.h"
#include "twotower/data/npy.h"
#include "twotower/data/parquet_io.h"
#include "twotower/serve/export/export_layout.h"
#include "twotower/serve/export/export_model.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

// users.parquet with "" for the forgotten ids; returns how many ids were not blank before.
int64_t blank_user_ids(const fs::path& file, const std::unordered_set<int64_t>& forget) {
  const ParquetTable table(file);
  const std::vector<int64_t> idx = table.int64_column("user_idx");
  std::vector<std::string> ids = table.string_column("user_id");
  int64_t blanked = 0;
  for (size_t r = 0; r < idx.size(); ++r) {
    if (!forget.count(idx[r])) continue;
    blanked += ids[r].empty() ? 0 : 1;
    ids[r].clear();
  }
  ParquetWriter w;
  w.add_int64("user_idx", idx);
  w.add_string("user_id", ids);
  w.write(file);
  return blanked;
}

// seen.parquet without the forgotten users' rows; items.parquet's popularity without them.
void remove_seen(const fs::path& dir, const std::unordered_set<int64_t>& forget) {
  const ParquetTable seen(dir / kSeenFile);
  const std::vector<int64_t> users = seen.int64_column("user_idx"), items = seen.int64_column("item_idx");
  const ParquetTable catalogue(dir / kItemsFile);
  std::vector<int64_t> popularity = catalogue.int64_column("popularity");
  std::vector<int64_t> kept_users, kept_items;
  for (size_t r = 0; r < users.size(); ++r) {
    if (!forget.count(users[r])) {
      kept_users.push_back(users[r]);
      kept_items.push_back(items[r]);
    } else if (items[r] >= 0 && items[r] < static_cast<int64_t>(popularity.size())) {
      popularity[static_cast<size_t>(items[r])] = std::max<int64_t>(0, popularity[static_cast<size_t>(items[r])] - 1);
    }
  }
  ParquetWriter w;
  w.add_int64("user_idx", kept_users);
  w.add_int64("item_idx", kept_items);
  w.write(dir / kSeenFile);
  ParquetWriter items_out;
  items_out.add_int64("item_idx", catalogue.int64_column("item_idx"));
  items_out.add_string("item_id", catalogue.string_column("item_id"));
  items_out.add_string("title", catalogue.string_column("title"));
  items_out.add_int64("category_idx", catalogue.int64_column("category_idx"));
  items_out.add_int64("brand_idx", catalogue.int64_column("brand_idx"));
  items_out.add_int64("popularity", popularity);
  items_out.write(dir / kItemsFile);
}

// model.pt with zero rows in the user id table, when the model has one.
void zero_user_rows(const fs::path& dir, const nlohmann::json& manifest, const std::vector<int64_t>& users) {
  TrainState state;
  TwoTowerModel model = load_export_model(dir, manifest, &state);
  if (!model->user_tower->embedding) return;
  torch::NoGradGuard no_grad;
  torch::Tensor& table = model->user_tower->embedding->weight;
  table.index_fill_(0, torch::tensor(users, torch::kLong), 0.0);
  save_model_checkpoint(dir / kModelFile, model, state);
}

}  // namespace

int64_t forget_users_in_export_version(const fs::path& dir, const std::vector<int64_t>& users) {
  nlohmann::json manifest = read_manifest(dir);
  verify_export_files(dir, manifest);
  Matrix vectors = read_npy(dir / kUserEmbeddingsFile);
  std::vector<int64_t> known;
  for (int64_t u : users) {
    if (u >= 0 && u < vectors.rows) known.push_back(u);
  }
  if (known.empty()) return 0;
  const std::unordered_set<int64_t> forget(known.begin(), known.end());
  for (int64_t u : known) std::fill(vectors.row(u), vectors.row(u) + vectors.cols, 0.0f);
  write_npy(vectors, dir / kUserEmbeddingsFile);
  const int64_t blanked = blank_user_ids(dir / kUsersFile, forget);
  remove_seen(dir, forget);
  zero_user_rows(dir, manifest, known);
  for (const char* name : {kUserEmbeddingsFile, kUsersFile, kSeenFile, kItemsFile, kModelFile}) {
    manifest["files"][name] = manifest_checksum(dir / name);
  }
  const int64_t before = manifest.contains("forgotten_users") ? manifest_int(manifest, "forgotten_users", 0) : 0;
  manifest["forgotten_users"] = before + blanked;
  write_json_file(manifest, dir / kManifestFile);
  return blanked;
}

std::vector<fs::path> forget_users_in_exports(const fs::path& parent, const std::vector<int64_t>& users) {
  std::vector<fs::path> versions;
  if (fs::exists(parent / kManifestFile)) {
    versions.push_back(parent);
  } else if (fs::is_directory(parent)) {
    for (const auto& entry : fs::directory_iterator(parent)) {
      if (export_version_number(entry.path().filename().string()) > 0 && fs::exists(entry.path() / kManifestFile)) {
        versions.push_back(entry.path());
      }
    }
  }
  if (versions.empty()) resolve_export_dir(parent);  // throws naming the folder
  std::sort(versions.begin(), versions.end());
  std::vector<fs::path> changed;
  for (const fs::path& dir : versions) {
    if (forget_users_in_export_version(dir, users) > 0) changed.push_back(dir);
  }
  return changed;
}

}  // namespace twotower
