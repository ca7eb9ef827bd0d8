// Builds the item table of a prepared data set: one row per item, features from metadata.
#pragma once

#include <string>
#include <vector>

#include "twotower/data/dataset.h"
#include "twotower/data/meta_reader.h"

namespace twotower {

struct CatalogueCounts {
  int64_t reviewed = 0;          // items with at least one interaction
  int64_t reviewed_with_meta = 0;
  int64_t catalogue_only = 0;    // items only in the metadata (added after the reviewed ones)
};

/// Sets data.item_ids and data.items. Items with interactions keep their indices [0, n); unless
/// `reviewed_only`, the metadata items without interactions follow in metadata file order.
/// Per item: title, brand and description cleaned (clean_text); the category path is the
/// metadata path with HTML removed, empty and immediately repeated levels dropped, or
/// [main_category] when the path is empty; text = title and description joined by ". ".
/// Vocabularies (index 0 "<unknown>") list brands and category path prefixes ("A", "A > B")
/// in order of first appearance by item index; category_idx is the full path's entry and
/// category_ids every prefix's. `meta` may be null: every item then gets empty features.
CatalogueCounts build_items(const std::vector<std::string>& reviewed_item_ids, const Metadata* meta,
                            bool reviewed_only, Dataset& data);

/// Continues a catalogue (prepare --extend): appends `new_item_ids` (none already in
/// data.item_ids) after the existing items, then, unless `reviewed_only`, the metadata items not
/// yet in the catalogue in metadata file order. Existing items keep their index and features and
/// the vocabularies every entry and index; new brands and category prefixes are appended, each
/// new item's features built as build_items builds them. Returns what was appended (reviewed:
/// new_item_ids.size()).
CatalogueCounts append_items(const std::vector<std::string>& new_item_ids, const Metadata* meta, bool reviewed_only,
                             Dataset& data);

/// The category path of a record after cleaning (see build_items).
std::vector<std::string> clean_category_path(const MetaRecord& record);

}  // namespace twotower
