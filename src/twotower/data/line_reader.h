// Streams the lines of a plain or gzip-compressed text file (detected from its first bytes,
// not its name) with no per-line allocation.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <string_view>
#include <vector>

#include <zlib.h>

namespace twotower {

class LineReader {
 public:
  /// Bytes kept readable after the end of every returned line (simdjson needs 64).
  static constexpr size_t kPadding = 64;

  /// Opens `path`; throws twotower::Error when it cannot be read.
  explicit LineReader(const std::filesystem::path& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// Reads the next line (without "\n" or "\r\n") into `line`; false at the end of the file.
  /// The view stays valid until the next call, and kPadding bytes after it are readable.
  bool next(std::string_view& line);

  /// 1-based number of the line last returned.
  int64_t line_number() const { return line_number_; }
  /// Bytes of the file consumed so far (compressed bytes for .gz).
  int64_t bytes_read() const { return bytes_read_; }
  /// Size of the file on disk.
  int64_t file_size() const { return file_size_; }
  bool compressed() const { return gzip_; }
  const std::string& path() const { return path_; }

 private:
  /// Appends decompressed or raw bytes after buffer_[end_]; false when nothing is left.
  bool fill();
  /// Background thread: inflates the file into chunks_ (at most kQueuedChunks waiting).
  void inflate_loop();

  std::string path_;
  std::FILE* file_ = nullptr;
  bool gzip_ = false;
  bool eof_ = false;
  z_stream zs_{};
  std::vector<unsigned char> in_;  // compressed input chunk
  // Decompression runs on its own thread, overlapping the parsing of the previous chunk.
  std::thread inflater_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<char>> chunks_;  // decompressed, waiting to be read
  std::vector<std::vector<char>> spare_;  // returned chunks, reused
  bool producer_done_ = false, stop_ = false;
  std::exception_ptr producer_error_;
  int64_t compressed_read_ = 0;  // written by the inflater under mutex_
  std::vector<char> buffer_;       // decoded bytes [begin_, end_) not yet returned
  size_t begin_ = 0, end_ = 0;
  int64_t line_number_ = 0;
  int64_t bytes_read_ = 0;
  int64_t file_size_ = 0;
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
