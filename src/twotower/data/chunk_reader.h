// Reads a plain or gzip-compressed text file (detected from its first bytes, not its name) as
// chunks of whole lines. A background thread reads and inflates ahead of the consumer, so that
// decompression overlaps the parsing of earlier chunks, and the chunks can be parsed by several
// threads at once (ordered_chunks.h).
#pragma once

#include <zlib.h>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace twotower {

/// A run of whole lines: bytes [0, size) end with '\n', except in the file's last chunk, whose
/// last line may have none. kPadding zero bytes follow (simdjson reads up to 64 bytes past a line).
struct LineChunk {
  static constexpr size_t kPadding = 64;

  std::vector<char> bytes;   // size() >= size + kPadding
  size_t size = 0;
  int64_t index = 0;         // 0, 1, 2, ... in file order

  std::string_view text() const { return {bytes.data(), size}; }
};

/// Calls `f(line, line_number)` for every line of `chunk` in order: a line without its "\n" or
/// "\r\n", numbered from `first_line` (the number of its first line), blank lines included.
/// Returns the number of lines.
template <typename F>
int64_t for_each_line(const LineChunk& chunk, int64_t first_line, F&& f) {
  const char* p = chunk.bytes.data();
  const char* end = p + chunk.size;
  int64_t n = 0;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* stop = nl ? nl : end;
    size_t len = static_cast<size_t>(stop - p);
    if (len > 0 && p[len - 1] == '\r') --len;
    f(std::string_view(p, len), first_line + n);
    ++n;
    p = nl ? nl + 1 : end;
  }
  return n;
}

class ChunkReader {
 public:
  static constexpr size_t kDefaultChunkBytes = size_t{1} << 20;

  /// Opens `path` and starts reading; throws twotower::Error when it cannot be read.
  /// @param chunk_bytes  the size a chunk is cut at (the next line end after it); a line longer
  ///                     than that makes its chunk grow to hold it
  explicit ChunkReader(const std::filesystem::path& path, size_t chunk_bytes = kDefaultChunkBytes);
  ~ChunkReader();
  ChunkReader(const ChunkReader&) = delete;
  ChunkReader& operator=(const ChunkReader&) = delete;

  /// The next chunk in file order, or nullptr after the last one; a UTF-8 byte-order mark at the
  /// start of the file is dropped. Rethrows a read or gzip error once the chunks before it have
  /// been returned. One caller at a time.
  std::unique_ptr<LineChunk> next();
  /// Hands a chunk back so that its buffer is reused (optional; any thread).
  void recycle(std::unique_ptr<LineChunk> chunk);

  /// Size of the file on disk.
  int64_t file_size() const { return file_size_; }
  bool compressed() const { return gzip_; }
  const std::string& path() const { return path_; }

 private:
  /// Background thread: cuts the file into chunks_ (at most kQueuedChunks waiting).
  void produce();
  /// Appends up to `n` bytes (raw or inflated) at `dst`; sets `end` at the end of the file.
  size_t read_some(char* dst, size_t n, bool& end);
  /// At the end of a gzip member: its trailer must hold the CRC and size of what was inflated.
  void check_trailer();

  std::string path_;
  std::FILE* file_ = nullptr;
  bool gzip_ = false;
  int64_t file_size_ = 0;
  size_t chunk_bytes_;
  // Owned by the producer thread.
  z_stream zs_{};
  std::vector<unsigned char> in_;  // compressed input
  int64_t consumed_ = 0;           // file bytes read so far
  bool member_open_ = false;       // inside a gzip member whose end has not been seen
  uint32_t member_crc_ = 0;        // CRC-32 of the member's bytes inflated so far
  uint64_t member_size_ = 0;       // and their number
  static constexpr size_t kTrailer = 8;
  size_t in_used_ = 0;                   // bytes of in_ filled by the last read
  unsigned char in_tail_[kTrailer] = {};  // the last kTrailer bytes of the input before in_

  std::thread producer_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<LineChunk>> chunks_;  // complete, waiting to be read
  std::vector<std::unique_ptr<LineChunk>> spare_;  // handed back, reused
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
};

}  // namespace twotower
