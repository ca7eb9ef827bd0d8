#include "twotower/serve/export/export_catalogue.h"

#include "twotower/common/error.h"
#include "twotower/data/dataset.h"
#include "twotower/data/parquet_io.h"
#include "twotower/serve/export/export_layout.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

// Checks that column `idx` of `file` is 0, 1, 2, ... (rows in index order).
void check_in_order(const std::vector<int64_t>& idx, const fs::path& file, const char* column) {
  for (size_t r = 0; r < idx.size(); ++r) {
    if (idx[r] != static_cast<int64_t>(r)) {
      fail(file.string(), ":", r + 1, ": column \"", column, "\": got ", idx[r], ", expected ", r);
    }
  }
}

std::unordered_map<std::string, int64_t> index_of(const std::vector<std::string>& names) {
  std::unordered_map<std::string, int64_t> out;
  for (size_t i = 0; i < names.size(); ++i) out.emplace(names[i], static_cast<int64_t>(i));
  return out;
}

void read_seen(ExportCatalogue& c, const fs::path& file) {
  const ParquetTable seen(file);
  const std::vector<int64_t> users = seen.int64_column("user_idx"), items = seen.int64_column("item_idx");
  const auto num_users = static_cast<int64_t>(c.user_ids.size());
  const auto num_items = static_cast<int64_t>(c.item_ids.size());
  c.seen_offsets.assign(static_cast<size_t>(num_users + 1), 0);
  for (size_t r = 0; r < users.size(); ++r) {
    if (users[r] < 0 || users[r] >= num_users || items[r] < 0 || items[r] >= num_items) {
      fail(file.string(), ":", r + 1, ": got user_idx ", users[r], ", item_idx ", items[r], ", expected [0, ",
           num_users, ") and [0, ", num_items, ")");
    }
    ++c.seen_offsets[static_cast<size_t>(users[r] + 1)];
  }
  for (size_t u = 0; u < static_cast<size_t>(num_users); ++u) c.seen_offsets[u + 1] += c.seen_offsets[u];
  c.seen_items.assign(users.size(), 0);
  std::vector<int64_t> next(c.seen_offsets.begin(), c.seen_offsets.end() - 1);
  for (size_t r = 0; r < users.size(); ++r) {
    c.seen_items[static_cast<size_t>(next[static_cast<size_t>(users[r])]++)] = items[r];
  }
}

}  // namespace

int64_t ExportCatalogue::find_item(const std::string& id) const {
  const auto it = item_index.find(id);
  return it == item_index.end() ? -1 : it->second;
}

int64_t ExportCatalogue::find_user(const std::string& id) const {
  const auto it = user_index.find(id);
  return it == user_index.end() ? -1 : it->second;
}

std::span<const int64_t> ExportCatalogue::seen(int64_t user) const {
  const auto u = static_cast<size_t>(user);
  return {seen_items.data() + seen_offsets[u], static_cast<size_t>(seen_offsets[u + 1] - seen_offsets[u])};
}

void ExportCatalogue::add_item(const std::string& id, const std::string& title) {
  item_index.emplace(id, static_cast<int64_t>(item_ids.size()));
  item_ids.push_back(id);
  titles.push_back(title);
  popularity.push_back(0);
}

ExportCatalogue read_export_catalogue(const fs::path& dir) {
  ExportCatalogue c;
  const ParquetTable items(dir / kItemsFile);
  check_in_order(items.int64_column("item_idx"), dir / kItemsFile, "item_idx");
  c.item_ids = items.string_column("item_id");
  c.titles = items.string_column("title");
  c.popularity = items.int64_column("popularity");
  c.item_index = index_of(c.item_ids);
  const ParquetTable users(dir / kUsersFile);
  check_in_order(users.int64_column("user_idx"), dir / kUsersFile, "user_idx");
  c.user_ids = users.string_column("user_id");
  c.user_index = index_of(c.user_ids);
  c.user_index.erase("");  // forgotten users (serve/export/export_forget.h): no request names them
  read_seen(c, dir / kSeenFile);
  const nlohmann::json features = read_json_file(dir / kFeaturesFile);
  c.category_index = index_of(features.value("categories", std::vector<std::string>{"<unknown>"}));
  c.brand_index = index_of(features.value("brands", std::vector<std::string>{"<unknown>"}));
  return c;
}

}  // namespace twotower
