// Item text embeddings for the item tower: a [num_items, width] float32 matrix whose row r belongs
// to item_idx r (the order of iid2idx.json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "twotower/data/matrix.h"

namespace twotower {

/// Reads item text embeddings from
///  - a `.npy` float matrix: row r is item_idx r, so it must have exactly one row per item; or
///  - a `.parquet` file with a list-of-numbers column `column` (one vector per row) and a key
///    column: `item_idx` (integers) or, failing that, `item_id` (raw ids, mapped through
///    `item_ids`, the item_idx -> raw id list of iid2idx.json). Every item needs exactly one row;
///    rows for ids outside the catalogue are an error, as are vectors of unequal width.
/// Every value must be finite: the first NaN or infinity is an error naming its row and column.
/// Errors name the file, and the row or id, with what was got and what was expected.
Matrix read_text_embeddings(const std::filesystem::path& path, const std::string& column,
                            const std::vector<std::string>& item_ids);

}  // namespace twotower
