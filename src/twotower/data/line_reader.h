// Streams the lines of a plain or gzip-compressed text file (detected from its first bytes,
// not its name) with no per-line allocation: a line-at-a-time view of a ChunkReader.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "twotower/data/chunk_reader.h"

namespace twotower {

class LineReader {
 public:
  /// Bytes kept readable after the end of every returned line (simdjson needs 64).
  static constexpr size_t kPadding = LineChunk::kPadding;

  /// Opens `path`; throws twotower::Error when it cannot be read.
  explicit LineReader(const std::filesystem::path& path) : chunks_(path) {}

  /// Reads the next line (without "\n" or "\r\n") into `line`; false at the end of the file.
  /// The view stays valid until the next call, and kPadding bytes after it are readable.
  bool next(std::string_view& line);

  /// 1-based number of the line last returned.
  int64_t line_number() const { return line_number_; }
  /// Size of the file on disk.
  int64_t file_size() const { return chunks_.file_size(); }
  bool compressed() const { return chunks_.compressed(); }
  const std::string& path() const { return chunks_.path(); }

 private:
  ChunkReader chunks_;  // decompression runs on its thread, overlapping the parsing of earlier lines
  std::unique_ptr<LineChunk> chunk_;
  size_t pos_ = 0;  // start of the next line in chunk_
  int64_t line_number_ = 0;
};

/// Reads the first `max_lines` non-empty lines of a file (plain or gzip), for format detection.
std::vector<std::string> head_lines(const std::filesystem::path& path, size_t max_lines);

}  // namespace twotower

namespace twotower {

/// The decompressed size of a file: its size when plain; for gzip the trailer's size field
/// (which holds the size modulo 4 GiB of the last member) lifted to at least the compressed size.
/// An estimate used to reserve memory, never to decide correctness.
int64_t estimated_text_size(const std::filesystem::path& path);

}  // namespace twotower
