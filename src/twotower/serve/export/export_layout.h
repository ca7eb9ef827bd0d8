// The layout of a serving export, shared by its writer (`twotower export`) and its readers (the
// recommender, the Python tests). An export parent folder holds versions v000001, v000002, ...;
// each version is written as a hidden temporary folder and renamed into place, so a reader sees a
// whole version or none. One version holds:
//   manifest.json          format_version, version, created_at, source run and checkpoint, counts,
//                          dims, model facts (user_history, cold_user_vector), the config (YAML
//                          text), and {"files": {name: {"bytes", "crc32"}}} of every other file
//   item_embeddings.npy    [num_items, dim] float32 unit rows (the run's item vectors)
//   user_embeddings.npy    [num_users, dim] float32 unit rows, each user's train + valid history
//                          pooled as `twotower evaluate` ranks with
//   items.parquet          item_idx int64, item_id string, title string, category_idx int64,
//                          brand_idx int64, popularity int64 (train + valid interactions)
//   users.parquet          user_idx int64, user_id string
//   seen.parquet           user_idx int64, item_idx int64: each train + valid interaction
//   features.json          {"categories": [...], "brands": [...]} (index 0 = "<unknown>")
//   config.yaml            the run's resolved config
//   model.pt               the best checkpoint's model (both towers; no optimizer state)
//   item_index_hnsw.faiss  optional (`export --hnsw`): the item vectors' HNSW graph (faiss format),
//                          described by manifest["hnsw"] {"file", "m", "ef_construction",
//                          "ef_search", "recall_at_10"} (recall against exact on known users)
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace twotower {

inline constexpr int64_t kExportFormatVersion = 1;
inline constexpr const char* kManifestFile = "manifest.json";
inline constexpr const char* kItemEmbeddingsFile = "item_embeddings.npy";
inline constexpr const char* kUserEmbeddingsFile = "user_embeddings.npy";
inline constexpr const char* kItemsFile = "items.parquet";
inline constexpr const char* kUsersFile = "users.parquet";
inline constexpr const char* kSeenFile = "seen.parquet";
inline constexpr const char* kFeaturesFile = "features.json";
inline constexpr const char* kConfigFile = "config.yaml";
inline constexpr const char* kModelFile = "model.pt";
inline constexpr const char* kHnswFile = "item_index_hnsw.faiss";

/// "v000007" for 7.
std::string export_version_name(int64_t number);
/// The number of a version folder name ("v000007" -> 7), or -1 when `name` is not one.
int64_t export_version_number(const std::string& name);
/// The next free version name under `parent` (v000001 when it has none or does not exist).
std::string next_export_version(const std::filesystem::path& parent);

/// The version folder to load for `path`: `path` itself when it holds manifest.json, else its
/// highest-numbered version folder that holds one. Throws naming `path` when there is none.
std::filesystem::path resolve_export_dir(const std::filesystem::path& path);

/// Reads `dir`/manifest.json and checks that it is an object with format_version; throws naming
/// the file and the value got and expected.
nlohmann::json read_manifest(const std::filesystem::path& dir);

/// The integer field `key` of a manifest, >= `min`. Throws naming manifest.json, the field, the
/// value got and what is expected.
int64_t manifest_int(const nlohmann::json& manifest, const char* key, int64_t min);
/// The boolean field `key` of a manifest, `fallback` when it is absent. Throws for another type.
bool manifest_bool(const nlohmann::json& manifest, const char* key, bool fallback);

/// {"bytes": size, "crc32": zlib CRC-32 as 8 hex digits} of a file.
nlohmann::json manifest_checksum(const std::filesystem::path& path);
/// Checks every file listed under manifest["files"] against its size and CRC-32; throws naming
/// the first file that is missing or differs, with the values got and expected. Each name must be
/// a plain file of `dir` (no folder part, no "." or ".."); the size is compared before the CRC is
/// read, so a listed file larger than stated is refused without reading it.
void verify_export_files(const std::filesystem::path& dir, const nlohmann::json& manifest);

}  // namespace twotower
