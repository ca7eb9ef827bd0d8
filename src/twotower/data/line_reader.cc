#include "twotower/data/line_reader.h"

#include <cstring>

#include "twotower/common/error.h"
#include "twotower/common/text.h"

namespace twotower {

bool LineReader::next(std::string_view& line) {
  while (!chunk_ || pos_ >= chunk_->size) {
    chunks_.recycle(std::move(chunk_));
    chunk_ = chunks_.next();
    pos_ = 0;
    if (!chunk_) return false;
  }
  const char* start = chunk_->bytes.data() + pos_;
  size_t rest = chunk_->size - pos_;
  const void* nl = std::memchr(start, '\n', rest);
  size_t len = nl ? static_cast<size_t>(static_cast<const char*>(nl) - start) : rest;
  pos_ += nl ? len + 1 : len;
  if (len > 0 && start[len - 1] == '\r') --len;
  line = std::string_view(start, len);
  ++line_number_;
  return true;
}

std::vector<std::string> head_lines(const std::filesystem::path& path, size_t max_lines) {
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string_view line;
  while (lines.size() < max_lines && reader.next(line)) {
    if (is_blank(line)) continue;
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
