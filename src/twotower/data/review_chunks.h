// The shared half of the line-parallel review readers (JSON lines, CSV): what a worker makes of
// one chunk of lines, and the loop that parses chunks on worker threads and merges them into a
// ReviewTable in file order. The per-format parsers (review_json_parser, review_csv_parser) fill
// a ParsedChunk from a LineChunk.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "twotower/common/text.h"
#include "twotower/data/chunk_reader.h"
#include "twotower/data/id_map.h"
#include "twotower/data/review_reader.h"

namespace twotower {

class Progress;

/// What a worker makes of one chunk: its rows with their raw ids, and its bad lines, in file order.
/// Ids are copied out of the line (simdjson's views die with the next parse) and hashed here, so
/// that the merging thread only probes the id tables.
struct ParsedChunk {
  struct Row {
    uint64_t user_hash = 0, item_hash = 0;
    size_t user_begin = 0, user_size = 0, item_begin = 0, item_size = 0;  // in ids
    float rating = 0;
    int64_t timestamp = 0;
  };
  struct Bad {
    int64_t line = 0;  // 0-based within the chunk
    std::string field, got, expected;
  };
  std::string ids;
  std::vector<Row> rows;
  std::vector<Bad> bad;
  int64_t lines = 0;       // every line, blank ones included (for numbering)
  int64_t data_lines = 0;  // non-blank lines
  int64_t invalid_utf8_lines = 0;  // rows whose text had invalid UTF-8, replaced by U+FFFD
  // Scratch space of the worker parsing into this slot.
  simdjson::dom::parser json;
  std::string number_text[3];
  std::vector<std::string_view> fields;

  /// Empties the result for the next chunk (the scratch space keeps its memory).
  void clear() {
    ids.clear();
    rows.clear();
    bad.clear();
    lines = data_lines = invalid_utf8_lines = 0;
  }

  /// Appends one row, copying and hashing its ids.
  void add(std::string_view user, std::string_view item, float rating, int64_t timestamp) {
    Row& r = rows.emplace_back();
    r.user_hash = IdMap::hash(user);
    r.item_hash = IdMap::hash(item);
    r.user_begin = ids.size();
    r.user_size = user.size();
    ids.append(user);
    r.item_begin = ids.size();
    r.item_size = item.size();
    ids.append(item);
    r.rating = rating;
    r.timestamp = timestamp;
  }

  /// The ids of row `r`, views into `ids`.
  std::string_view user(const Row& r) const { return {ids.data() + r.user_begin, r.user_size}; }
  std::string_view item(const Row& r) const { return {ids.data() + r.item_begin, r.item_size}; }
};

/// Runs `parse_line(line, bad)` over the non-blank lines of `chunk`, where
/// `bad(field, got, expected)` records a bad line.
template <typename ParseLine>
void parse_lines(const LineChunk& chunk, ParsedChunk& p, const ParseLine& parse_line) {
  p.clear();
  p.lines = for_each_line(chunk, 0, [&](std::string_view line, int64_t number) {
    if (is_blank(line)) return;
    ++p.data_lines;
    auto bad = [&](std::string_view field, std::string got, std::string expected) {
      p.bad.push_back({number, std::string(field), std::move(got), std::move(expected)});
    };
    parse_line(line, bad);
  });
}

/// Parses one chunk into its (reused) result; must reset what it fills (ParsedChunk::clear).
using ChunkParser = std::function<void(const LineChunk& chunk, ParsedChunk& result)>;

/// Reads `path` in chunks of about options.chunk_bytes: `parse` runs on parse_threads(options.threads)
/// worker threads, and the parsed chunks are merged into `table` in file order (ids interned in
/// order of first appearance, bad lines reported as `file:line: ...` through table.bad), so the
/// result is the same for any thread count and chunk size. Sets table.file_bytes and adds to
/// table.lines; counts data lines on `progress` when given. Throws what `parse` or table.bad throws.
void read_chunks_in_order(const std::filesystem::path& path, const ReviewReadOptions& options,
                          const ChunkParser& parse, ReviewTable& table, Progress* progress);

}  // namespace twotower
