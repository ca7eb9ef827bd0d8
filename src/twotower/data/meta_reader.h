// Reads item metadata (Amazon 2014 Python-literal, 2014/2018/2023 JSON lines, RecBole .item)
// into one record per distinct item id; values are raw (cleaning happens in item_features).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "twotower/data/bad_lines.h"
#include "twotower/data/id_map.h"
#include "twotower/data/input_format.h"

namespace twotower {

struct MetaRecord {
  std::string item_id;
  std::string title;
  std::string brand;                    // 2014/2018 "brand", 2023 "store"
  std::vector<std::string> categories;  // one path, broad to narrow (the longest when several)
  std::string description;              // description (and 2023 features) joined by spaces
  std::string main_category;            // 2018 "main_cat", 2023 "main_category"
};

struct MetaReadOptions {
  MetaFormat format = MetaFormat::kAuto;
  bool skip_bad_lines = false;
};

struct Metadata {
  MetaFormat format = MetaFormat::kAuto;
  std::vector<MetaRecord> records;  // first occurrence of each item id, in file order
  IdMap index;                      // item id -> position in records
  int64_t lines = 0;                // data lines read
  int64_t duplicates = 0;           // lines whose item id was seen before (skipped)
  int64_t invalid_utf8_lines = 0;   // JSON lines with invalid UTF-8, their text fields read with U+FFFD
  BadLines bad{false};
};

/// Reads `path`. A line without an item id, or one that does not parse, is a bad line
/// (`file:line: field "asin": got nothing, expected ...`); every other field may be missing.
/// An item id repeated on a later line keeps the first line's record.
Metadata read_metadata(const std::filesystem::path& path, const MetaReadOptions& options);

}  // namespace twotower
