// `twotower prepare --extend BASE`: a prepared folder (dataset.h) continued with a new review file
// (+ the catalogue's metadata now), so that a run trained on BASE can continue on the result
// (train/init_from.h).
//
// What the extended folder keeps and what it changes:
//   - every user and item of BASE keeps its index; new users and items are appended, in order of
//     first appearance in the new review file, then (with --meta and without
//     --reviewed-items-only) the catalogue's items not seen before, in metadata file order;
//   - BASE's interactions come first, unchanged and in their order; the new ones follow;
//   - items of BASE keep their features; the category and brand vocabularies keep every entry
//     and index and grow with the new items' (item_features.h: append_items);
//   - the split is recomputed over all interactions with the method asked for (leave-last-out:
//     per user by timestamp, ties by row, so a user's new interactions become their newest and
//     their last one the test item; time: global cutoffs over all timestamps). Without metadata
//     the folder equals what prepare writes for BASE's reviews followed by the new ones;
//   - embed_cache/ of BASE (twotower embed's vectors by text) is copied, so `twotower embed`
//     on the new folder embeds only the new items' texts;
//   - stats.json has "extend": users, items and interactions before and new.
// No filtering: k-core and duplicate filters would remove ids that old checkpoints index.
#pragma once

#include <filesystem>

#include "twotower/data/prepare.h"

namespace twotower {

/// Extends `base` with options.reviews (and options.meta) into options.out. Throws before
/// writing anything, naming the file, field, value got and value expected: options that filter,
/// an out folder that is `base`, a --meta catalogue that lacks an item of `base` which had
/// metadata (items are never removed: old checkpoints index them), and bad input as prepare does.
PrepareResult extend_prepared(const std::filesystem::path& base, const PrepareOptions& options);

}  // namespace twotower
