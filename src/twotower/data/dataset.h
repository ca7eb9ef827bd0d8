// The prepared data set: what `twotower prepare` writes and every later stage reads.
//
// Folder layout (the reference system's file names, so a folder made for it loads here):
//   interactions_mapped.parquet  user_idx int64, item_idx int64, rating float (null if none),
//                                timestamp int64 (seconds; a position for order-only data),
//                                split string ("train" | "valid" | "test")
//   uid2idx.json, iid2idx.json   {"raw id": idx, ...}
//   splits.json                  how the split was made, its cutoffs and counts
// and ours (optional when loading, so a reference-layout folder still loads):
//   items.parquet                item_idx, item_id, title, brand, categories (" > "-joined path),
//                                description, text (cleaned), category_idx, brand_idx,
//                                category_ids (list<int32>: every level of the path)
//   features.json                {"categories": [...], "brands": [...]} (index 0 = "<unknown>")
//   stats.json                   counts, sparsity, rating histogram, time range, coverage
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace twotower {

enum class Split : int8_t { kTrain = 0, kValid = 1, kTest = 2 };

/// "train", "valid" or "test": the labels of interactions_mapped.parquet.
const char* split_name(Split split);
/// Parses "train" | "valid" | "test" (also "validation", "val"); throws otherwise.
Split parse_split(const std::string& name);

/// One row per interaction, as parallel columns.
struct Interactions {
  std::vector<int64_t> user;       // user_idx in [0, num_users)
  std::vector<int64_t> item;       // item_idx in [0, num_items)
  std::vector<float> rating;       // NaN where the source has no rating
  std::vector<int64_t> timestamp;  // seconds since epoch, or a position for order-only data
  std::vector<Split> split;

  size_t size() const { return user.size(); }
  /// Reserves `n` rows in every column.
  void reserve(size_t n);
};

/// Item features, one row per item_idx. Index 0 of each vocabulary is "<unknown>".
struct ItemFeatures {
  std::vector<std::string> title, brand, categories, description, text;
  std::vector<int32_t> category_idx;               // most specific category, 0 = unknown
  std::vector<int32_t> brand_idx;                  // 0 = unknown
  std::vector<std::vector<int32_t>> category_ids;  // every level of the path, broad to narrow
  std::vector<std::string> category_vocab{"<unknown>"};
  std::vector<std::string> brand_vocab{"<unknown>"};

  /// Resizes every per-item column to `n` rows (new rows are empty / unknown).
  void resize(size_t n);
};

struct Dataset {
  Interactions interactions;
  std::vector<std::string> user_ids;  // user_idx -> raw id
  std::vector<std::string> item_ids;  // item_idx -> raw id
  ItemFeatures items;                 // items.title.size() == item_ids.size()
  nlohmann::json splits;              // splits.json
  nlohmann::json stats;               // stats.json (may be empty when loaded)

  int64_t num_users() const { return static_cast<int64_t>(user_ids.size()); }
  int64_t num_items() const { return static_cast<int64_t>(item_ids.size()); }
  /// Indices of the interactions in `split`, in stored order.
  std::vector<int64_t> rows_of(Split split) const;
};

/// Writes every file of the layout above into `dir` (which must exist).
void save_dataset(const Dataset& data, const std::filesystem::path& dir);

/// What load_dataset reads of items.parquet: everything, or only the feature indices, leaving
/// title, brand, categories, description and text empty (training and evaluation never read
/// them; skipping them keeps them out of memory).
enum class ItemText { kLoad, kSkip };

/// Reads a prepared folder; items.parquet and features.json are optional. Checks that every
/// index is inside its map and names the file and the offending value otherwise.
Dataset load_dataset(const std::filesystem::path& dir, ItemText text = ItemText::kLoad);

/// Reads {"raw": idx} and returns the ids ordered by idx; throws on gaps or repeats.
std::vector<std::string> read_id_map(const std::filesystem::path& path);
/// Writes {"raw id": idx, ...} with ids[idx] in index order, through a temporary file and a rename.
void write_id_map(const std::vector<std::string>& ids, const std::filesystem::path& path);

/// Reads a whole JSON file; the message names the file on a parse error.
nlohmann::json read_json_file(const std::filesystem::path& path);
/// Writes JSON (indented) to a temporary file beside `path`, then renames it.
void write_json_file(const nlohmann::json& value, const std::filesystem::path& path);

}  // namespace twotower
