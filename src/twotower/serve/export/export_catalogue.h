// The id side of an export, torch-free: item and user ids with their lookups, titles, popularity,
// the category/brand vocabularies and each known user's seen items (train + valid).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace twotower {

struct ExportCatalogue {
  std::vector<std::string> item_ids;  // item index -> id (added items appended)
  std::vector<std::string> titles;    // item index -> title ("" when none)
  std::vector<int64_t> popularity;    // item index -> train + valid interactions (0 for added)
  std::unordered_map<std::string, int64_t> item_index;
  std::vector<std::string> user_ids;  // user index -> id
  std::unordered_map<std::string, int64_t> user_index;
  std::vector<int64_t> seen_offsets;  // [num_users + 1]: user u's seen items are
  std::vector<int64_t> seen_items;    //   seen_items[seen_offsets[u] .. seen_offsets[u + 1])
  std::unordered_map<std::string, int64_t> category_index;  // name -> index ("<unknown>" = 0)
  std::unordered_map<std::string, int64_t> brand_index;

  /// The item's index, or -1 when the catalogue has no such id.
  int64_t find_item(const std::string& id) const;
  /// The user's index, or -1.
  int64_t find_user(const std::string& id) const;
  /// The known user's seen items (item indices, in stored order).
  std::span<const int64_t> seen(int64_t user) const;
  /// Appends an item (popularity 0).
  void add_item(const std::string& id, const std::string& title);
};

/// Reads items.parquet, users.parquet, seen.parquet and features.json of an export version folder.
/// Throws naming the file when a column is missing or an index is out of range.
ExportCatalogue read_export_catalogue(const std::filesystem::path& dir);

}  // namespace twotower
