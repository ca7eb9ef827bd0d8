#include "twotower/data/chunk_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "twotower/common/error.h"
#include "twotower/common/crc32.h"

namespace twotower {
namespace {

constexpr size_t kInputChunk = size_t{1} << 20;
constexpr size_t kQueuedChunks = 4;
// Chunks in flight in a parallel reader come back here; more than this are freed.
constexpr size_t kSpareChunks = 32;

}  // namespace

ChunkReader::ChunkReader(const std::filesystem::path& path, size_t chunk_bytes)
    : path_(path.string()), chunk_bytes_(std::max<size_t>(chunk_bytes, 1)) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path_, ": cannot read: it is a directory");
  file_ = std::fopen(path_.c_str(), "rb");
  if (!file_) fail(path_, ": cannot open: ", std::strerror(errno));
  file_size_ = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  unsigned char magic[2] = {0, 0};
  size_t got = std::fread(magic, 1, 2, file_);
  gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::rewind(file_);
  if (gzip_) {
    in_.resize(kInputChunk);
    // 15 + 16: gzip members of any window size. zlib's own check of the CRC is turned off:
    // crc32.h computes the same several times faster, and the trailer is checked here.
    if (inflateInit2(&zs_, 15 + 16) != Z_OK || inflateValidate(&zs_, 0) != Z_OK) {
      std::fclose(file_);
      fail(path_, ": cannot initialise zlib");
    }
  }
  producer_ = std::thread([this] { produce(); });
}

ChunkReader::~ChunkReader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  producer_.join();
  if (gzip_) inflateEnd(&zs_);
  std::fclose(file_);
}

size_t ChunkReader::read_some(char* dst, size_t n, bool& end) {
  if (!gzip_) {
    size_t got = std::fread(dst, 1, n, file_);
    if (got == 0) {
      if (std::ferror(file_)) fail(path_, ": read error: ", std::strerror(errno));
      end = true;
    }
    consumed_ += static_cast<int64_t>(got);
    return got;
  }
  zs_.next_out = reinterpret_cast<Bytef*>(dst);
  zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, UINT32_MAX));
  while (zs_.avail_out > 0) {
    if (zs_.avail_in == 0) {
      // The last bytes of the previous input: the start of a trailer cut by this refill.
      size_t used = in_used_;
      size_t keep = std::min(used, kTrailer);
      std::memmove(in_tail_, in_tail_ + keep, kTrailer - keep);
      std::memcpy(in_tail_ + kTrailer - keep, in_.data() + used - keep, keep);
      size_t got = std::fread(in_.data(), 1, in_.size(), file_);
      if (got == 0) {
        if (std::ferror(file_)) fail(path_, ": read error: ", std::strerror(errno));
        if (member_open_) fail(path_, ": truncated gzip data (the file ends inside a compressed stream)");
        end = true;
        break;
      }
      consumed_ += static_cast<int64_t>(got);
      in_used_ = got;
      zs_.next_in = in_.data();
      zs_.avail_in = static_cast<uInt>(got);
    }
    member_open_ = true;
    Bytef* out = zs_.next_out;
    int rc = inflate(&zs_, Z_NO_FLUSH);
    size_t produced = static_cast<size_t>(zs_.next_out - out);
    member_crc_ = crc32(member_crc_, out, produced);
    member_size_ += produced;
    if (rc == Z_STREAM_END) {
      check_trailer();
      // A .gz file may hold several members one after another (as `cat a.gz b.gz` makes).
      inflateReset(&zs_);
      member_open_ = false;
      member_crc_ = 0;
      member_size_ = 0;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      fail(path_, ": corrupt gzip data near byte ", consumed_ - static_cast<int64_t>(zs_.avail_in), " (",
           zs_.msg ? zs_.msg : "zlib error", ")");
    }
  }
  return static_cast<size_t>(reinterpret_cast<char*>(zs_.next_out) - dst);
}

void ChunkReader::check_trailer() {
  // zlib has just read the member's last 8 bytes: CRC-32 and size modulo 2^32, little-endian.
  unsigned char trailer[kTrailer];
  size_t in_buffer = static_cast<size_t>(zs_.next_in - in_.data());
  size_t from_tail = kTrailer - std::min(in_buffer, kTrailer);
  std::memcpy(trailer, in_tail_ + kTrailer - from_tail, from_tail);
  std::memcpy(trailer + from_tail, zs_.next_in - (kTrailer - from_tail), kTrailer - from_tail);
  auto word = [&](size_t at) {
    return static_cast<uint32_t>(trailer[at]) | static_cast<uint32_t>(trailer[at + 1]) << 8 |
           static_cast<uint32_t>(trailer[at + 2]) << 16 | static_cast<uint32_t>(trailer[at + 3]) << 24;
  };
  int64_t at = consumed_ - static_cast<int64_t>(zs_.avail_in);
  if (word(0) != member_crc_) fail(path_, ": corrupt gzip data near byte ", at, " (incorrect data check)");
  if (word(4) != static_cast<uint32_t>(member_size_)) {
    fail(path_, ": corrupt gzip data near byte ", at, " (incorrect length check)");
  }
}

void ChunkReader::produce() {
  try {
    std::vector<char> carry;  // the start of a line cut at the end of the previous chunk
    int64_t index = 0;
    for (;;) {
      std::unique_ptr<LineChunk> chunk;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || chunks_.size() < kQueuedChunks; });
        if (stop_) return;
        if (!spare_.empty()) {
          chunk = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      if (!chunk) chunk = std::make_unique<LineChunk>();
      std::vector<char>& b = chunk->bytes;
      size_t capacity = std::max(chunk_bytes_, carry.size() + chunk_bytes_ / 2 + 1);
      if (b.size() < capacity + LineChunk::kPadding) b.resize(capacity + LineChunk::kPadding);
      if (!carry.empty()) std::memcpy(b.data(), carry.data(), carry.size());
      size_t filled = carry.size(), scan_from = carry.size();
      bool end = false;
      const char* last_newline = nullptr;
      for (;;) {
        while (filled < capacity && !end) filled += read_some(b.data() + filled, capacity - filled, end);
        last_newline = static_cast<const char*>(memrchr(b.data() + scan_from, '\n', filled - scan_from));
        if (last_newline || end) break;
        // One line fills the whole chunk: grow it.
        scan_from = filled;
        capacity *= 2;
        b.resize(capacity + LineChunk::kPadding);
      }
      size_t size = end ? filled : static_cast<size_t>(last_newline - b.data()) + 1;
      carry.assign(b.data() + size, b.data() + filled);
      std::memset(b.data() + size, 0, LineChunk::kPadding);
      chunk->size = size;
      chunk->index = index++;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (size > 0) chunks_.push_back(std::move(chunk));
        if (end) done_ = true;
      }
      changed_.notify_all();
      if (end) return;
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      done_ = true;
    }
    changed_.notify_all();
  }
}

std::unique_ptr<LineChunk> ChunkReader::next() {
  std::unique_ptr<LineChunk> chunk;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !chunks_.empty() || done_; });
    if (chunks_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return nullptr;
    }
    chunk = std::move(chunks_.front());
    chunks_.pop_front();
  }
  changed_.notify_all();
  // A UTF-8 byte-order mark (as Windows tools save JSON and CSV) is not part of the first line.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (chunk->index == 0 && chunk->text().substr(0, kBom.size()) == kBom) {
    std::memmove(chunk->bytes.data(), chunk->bytes.data() + kBom.size(), chunk->size - kBom.size());
    chunk->size -= kBom.size();
  }
  return chunk;
}

void ChunkReader::recycle(std::unique_ptr<LineChunk> chunk) {
  if (!chunk) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (spare_.size() < kSpareChunks) spare_.push_back(std::move(chunk));
}

}  // namespace twotower
