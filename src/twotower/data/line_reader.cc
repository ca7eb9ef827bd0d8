#include "twotower/data/line_reader.h"

#include <cstring>

#include "twotower/common/error.h"

namespace twotower {
namespace {

constexpr size_t kInputChunk = 1 << 20;
constexpr size_t kInitialBuffer = 4 << 20;
constexpr size_t kInflateChunk = 1 << 20;
constexpr size_t kQueuedChunks = 4;

}  // namespace

LineReader::LineReader(const std::filesystem::path& path) : path_(path.string()) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path_, ": cannot read: it is a directory");
  file_ = std::fopen(path_.c_str(), "rb");
  if (!file_) fail(path_, ": cannot open: ", std::strerror(errno));
  file_size_ = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  in_.resize(kInputChunk);
  buffer_.resize(kInitialBuffer + kPadding);
  unsigned char magic[2] = {0, 0};
  size_t got = std::fread(magic, 1, 2, file_);
  gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::rewind(file_);
  if (gzip_) {
    // 15 + 32: any window size, gzip or zlib header detected automatically.
    if (inflateInit2(&zs_, 15 + 32) != Z_OK) fail(path_, ": cannot initialise zlib");
    inflater_ = std::thread([this] { inflate_loop(); });
  }
}

LineReader::~LineReader() {
  if (inflater_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    inflater_.join();
  }
  if (gzip_) inflateEnd(&zs_);
  if (file_) std::fclose(file_);
}

void LineReader::inflate_loop() {
  try {
    for (;;) {
      std::vector<char> chunk;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [&] { return stop_ || chunks_.size() < kQueuedChunks; });
        if (stop_) return;
        if (!spare_.empty()) {
          chunk = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      chunk.resize(kInflateChunk);
      size_t filled = 0;
      bool end = false;
      int64_t consumed = 0;
      while (filled < chunk.size() && !end) {
        if (zs_.avail_in == 0) {
          size_t n = std::fread(in_.data(), 1, in_.size(), file_);
          if (n == 0) {
            if (std::ferror(file_)) fail(path_, ": read error: ", std::strerror(errno));
            end = true;
            break;
          }
          consumed += static_cast<int64_t>(n);
          zs_.next_in = in_.data();
          zs_.avail_in = static_cast<uInt>(n);
        }
        zs_.next_out = reinterpret_cast<Bytef*>(chunk.data() + filled);
        zs_.avail_out = static_cast<uInt>(chunk.size() - filled);
        int rc = inflate(&zs_, Z_NO_FLUSH);
        filled = chunk.size() - zs_.avail_out;
        if (rc == Z_STREAM_END) {
          // A .gz file may hold several members one after another (as `cat a.gz b.gz` makes).
          inflateReset(&zs_);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
          fail(path_, ": corrupt gzip data near byte ", compressed_read_ + consumed, " (",
               zs_.msg ? zs_.msg : "zlib error", ")");
        }
      }
      chunk.resize(filled);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        compressed_read_ += consumed;
        if (!chunk.empty()) chunks_.push_back(std::move(chunk));
        if (end) producer_done_ = true;
      }
      changed_.notify_all();
      if (end) return;
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      producer_error_ = std::current_exception();
      producer_done_ = true;
    }
    changed_.notify_all();
  }
}

bool LineReader::fill() {
  if (eof_) return false;
  // Keep the unread tail at the front, and grow when one line fills the whole buffer.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - kPadding - end_ < kInputChunk) buffer_.resize(buffer_.size() * 2);
  size_t capacity = buffer_.size() - kPadding;
  if (!gzip_) {
    size_t n = std::fread(buffer_.data() + end_, 1, capacity - end_, file_);
    if (n == 0) {
      if (std::ferror(file_)) fail(path_, ": read error: ", std::strerror(errno));
      eof_ = true;
      return false;
    }
    end_ += n;
    bytes_read_ += static_cast<int64_t>(n);
    return true;
  }
  std::vector<char> chunk;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !chunks_.empty() || producer_done_; });
    if (chunks_.empty()) {
      if (producer_error_) std::rethrow_exception(producer_error_);
      eof_ = true;
      return false;
    }
    chunk = std::move(chunks_.front());
    chunks_.pop_front();
    bytes_read_ = compressed_read_;
  }
  changed_.notify_all();
  if (buffer_.size() - kPadding - end_ < chunk.size()) buffer_.resize(end_ + chunk.size() + kPadding);
  std::memcpy(buffer_.data() + end_, chunk.data(), chunk.size());
  end_ += chunk.size();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    spare_.push_back(std::move(chunk));
  }
  return true;
}

bool LineReader::next(std::string_view& line) {
  size_t scan_from = begin_;
  for (;;) {
    const char* start = buffer_.data() + scan_from;
    const void* nl = std::memchr(start, '\n', end_ - scan_from);
    if (nl) {
      size_t pos = static_cast<size_t>(static_cast<const char*>(nl) - buffer_.data());
      size_t len = pos - begin_;
      if (len > 0 && buffer_[pos - 1] == '\r') --len;
      line = std::string_view(buffer_.data() + begin_, len);
      begin_ = pos + 1;
      ++line_number_;
      return true;
    }
    size_t scanned = end_ - begin_;
    if (!fill()) {
      if (begin_ == end_) return false;
      // The last line has no newline; pad with zeros so readers may look past its end.
      std::memset(buffer_.data() + end_, 0, kPadding);
      size_t len = end_ - begin_;
      if (len > 0 && buffer_[end_ - 1] == '\r') --len;
      line = std::string_view(buffer_.data() + begin_, len);
      begin_ = end_;
      ++line_number_;
      return true;
    }
    scan_from = begin_ + scanned;
  }
}

std::vector<std::string> head_lines(const std::filesystem::path& path, size_t max_lines) {
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string_view line;
  while (lines.size() < max_lines && reader.next(line)) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    lines.emplace_back(line);
  }
  return lines;
}

}  // namespace twotower

namespace twotower {

int64_t estimated_text_size(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  if (ec) return 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return size;
  unsigned char magic[2] = {0, 0};
  bool gzip = std::fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  int64_t estimate = size;
  unsigned char tail[4];
  if (gzip && size >= 18 && std::fseek(f, -4, SEEK_END) == 0 && std::fread(tail, 1, 4, f) == 4) {
    int64_t isize = static_cast<int64_t>(tail[0]) | (static_cast<int64_t>(tail[1]) << 8) |
                    (static_cast<int64_t>(tail[2]) << 16) | (static_cast<int64_t>(tail[3]) << 24);
    constexpr int64_t kWrap = int64_t{1} << 32;
    while (isize < size) isize += kWrap;
    estimate = isize;
  }
  std::fclose(f);
  return estimate;
}

}  // namespace twotower
