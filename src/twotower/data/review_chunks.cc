#include "twotower/data/review_chunks.h"

#include <algorithm>

#include "twotower/common/error.h"
#include "twotower/common/progress.h"
#include "twotower/data/line_reader.h"
#include "twotower/data/ordered_chunks.h"

namespace twotower {
namespace {

/// Interns the rows of parsed chunks in file order into the table, and reports their bad lines
/// with file:line. Rows are reserved from an estimate of the row count once the first chunk
/// shows the average line length (an overestimate costs address space, not resident memory).
class Merger {
 public:
  Merger(ReviewTable& table, const std::filesystem::path& path, Progress* progress)
      : t_(table), file_(path.string()), text_bytes_(estimated_text_size(path)), progress_(progress) {}

  void operator()(const LineChunk& chunk, const ParsedChunk& p) {
    for (const ParsedChunk::Bad& b : p.bad) t_.bad.report(input_error(file_, lines_ + b.line + 1, b.field, b.got, b.expected));
    if (!reserved_ && p.lines > 0) {
      reserved_ = true;
      double per_line = static_cast<double>(chunk.size) / static_cast<double>(p.lines);
      t_.rows.reserve(static_cast<size_t>(static_cast<double>(text_bytes_) / per_line * kReserveMargin) + p.rows.size());
    }
    lines_ += p.lines;
    t_.lines += p.data_lines;
    t_.invalid_utf8_lines += p.invalid_utf8_lines;
    if (progress_) progress_->add(p.data_lines);
    // The table slots of a row a few rows ahead are prefetched, hiding the cache misses; files
    // are often grouped by user (RecBole) or item (Amazon), and a run of one id skips the lookup.
    constexpr size_t kAhead = 16;
    const size_t n = p.rows.size();
    for (size_t i = 0; i < std::min(n, kAhead); ++i) prefetch(p.rows[i]);
    std::string_view last_user, last_item;
    int32_t user_index = -1, item_index = -1;
    auto& r = t_.rows;
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) prefetch(p.rows[i + kAhead]);
      const ParsedChunk::Row& row = p.rows[i];
      std::string_view user = p.user(row), item = p.item(row);
      if (user_index < 0 || user != last_user) user_index = t_.users.intern(user, row.user_hash), last_user = user;
      if (item_index < 0 || item != last_item) item_index = t_.items.intern(item, row.item_hash), last_item = item;
      r.user.push_back(user_index);
      r.item.push_back(item_index);
      r.rating.push_back(row.rating);
      r.timestamp.push_back(row.timestamp);
    }
  }

 private:
  static constexpr double kReserveMargin = 1.05;
  [[gnu::always_inline]] void prefetch(const ParsedChunk::Row& row) const {
    t_.users.prefetch(row.user_hash);
    t_.items.prefetch(row.item_hash);
  }

  ReviewTable& t_;
  std::string file_;
  int64_t text_bytes_;
  Progress* progress_;
  int64_t lines_ = 0;  // lines of the chunks merged so far
  bool reserved_ = false;
};

}  // namespace

void read_chunks_in_order(const std::filesystem::path& path, const ReviewReadOptions& options,
                          const ChunkParser& parse, ReviewTable& table, Progress* progress) {
  ChunkReader source(path, options.chunk_bytes);
  table.file_bytes = source.file_size();
  Merger merger(table, path, progress);
  parse_chunks_in_order<ParsedChunk>(source, parse_threads(options.threads), parse, merger);
}

}  // namespace twotower
