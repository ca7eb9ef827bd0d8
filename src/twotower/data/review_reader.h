// Reads a review file of any supported format in one streaming pass into interaction columns,
// mapping raw user and item ids to indices in order of first appearance in the file.
#pragma once

#include <cstdint>
#include <filesystem>

#include "twotower/data/bad_lines.h"
#include "twotower/data/chunk_reader.h"
#include "twotower/data/dataset.h"
#include "twotower/data/id_map.h"
#include "twotower/data/input_format.h"

namespace twotower {

struct ReviewReadOptions {
  ReviewFormat format = ReviewFormat::kAuto;  // kAuto: detected from the first line
  bool skip_bad_lines = false;                // count bad lines instead of stopping at the first
  bool progress = false;                      // a progress line on stderr
  int threads = 0;                            // parsing threads for JSON and CSV; 0: one per core
  size_t chunk_bytes = ChunkReader::kDefaultChunkBytes;  // lines are parsed in chunks of about this size
};

struct ReviewTable {
  ReviewFormat format = ReviewFormat::kAuto;  // the format actually read
  Interactions rows;                          // split is left empty
  IdMap users, items;                         // raw id <-> index, first appearance order
  BadLines bad{false};
  int64_t lines = 0;           // data lines seen (header and blank lines excluded)
  int64_t invalid_utf8_lines = 0;  // rows read from lines with invalid UTF-8 (text replaced by U+FFFD)
  int64_t file_bytes = 0;      // size of the file on disk
  bool has_timestamps = true;  // false: a RecBole file without timestamp; the row number is used
};

/// Reads every review of `path`. Required per format: a user id, an item id, a rating (JSON and
/// CSV; RecBole's is optional and absent ratings are NaN) and a timestamp (seconds; 2023's
/// milliseconds are divided by 1000). JSON lines and CSV are parsed on `threads` threads in
/// chunks of lines and merged in file order: the result is the same for any thread count and
/// chunk size. Throws `file:line: field "x": got ..., expected ...` on
/// the first bad line unless skip_bad_lines, and one sentence when no usable row remains.
ReviewTable read_reviews(const std::filesystem::path& path, const ReviewReadOptions& options);

}  // namespace twotower
