#include "twotower/data/review_recbole_parser.h"

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/common/progress.h"
#include "twotower/common/text.h"
#include "twotower/data/bad_lines.h"
#include "twotower/data/delimited_fields.h"
#include "twotower/data/line_reader.h"

namespace twotower {
namespace {

constexpr int64_t kProgressEvery = 1 << 16;
constexpr size_t kSampleLines = 1024;

/// Appends rows and ids, for RecBole files, read line by line on one thread (the header decides
/// the columns and a missing timestamp is the row number); reserves memory from an estimate of
/// the row count once the first lines show the average line length (an overestimate costs
/// address space, not resident memory).
class Sink {
 public:
  Sink(ReviewTable& table, const std::filesystem::path& path) : t_(table), text_bytes_(estimated_text_size(path)) {}

  /// Queues one row. Rows are resolved one line late: the id-table slots of this row are
  /// prefetched now and looked up after the next line is parsed, hiding the cache miss.
  void add(std::string_view user, std::string_view item, float rating, int64_t timestamp) {
    bool same_user = pending_ && user == next_.user;
    bool same_item = pending_ && item == next_.item;
    resolve();
    next_.same_user = same_user;
    next_.same_item = same_item;
    if (!same_user) {
      next_.user.assign(user);
      next_.user_hash = IdMap::hash(user);
      t_.users.prefetch(next_.user_hash);
    }
    if (!same_item) {
      next_.item.assign(item);
      next_.item_hash = IdMap::hash(item);
      t_.items.prefetch(next_.item_hash);
    }
    next_.rating = rating;
    next_.timestamp = timestamp;
    pending_ = true;
  }

  /// Stores the queued row; call once after the last add().
  void resolve() {
    if (!pending_) return;
    pending_ = false;
    // Files are often grouped by user (RecBole) or item (Amazon): a run of one id skips the lookup.
    if (!next_.same_user) user_index_ = t_.users.intern(next_.user, next_.user_hash);
    if (!next_.same_item) item_index_ = t_.items.intern(next_.item, next_.item_hash);
    auto& r = t_.rows;
    r.user.push_back(user_index_);
    r.item.push_back(item_index_);
    r.rating.push_back(next_.rating);
    r.timestamp.push_back(next_.timestamp);
  }

  void saw_line(size_t length) {
    if (reserved_) return;
    sample_bytes_ += length + 1;
    if (++sample_lines_ < kSampleLines) return;
    reserved_ = true;
    double per_line = static_cast<double>(sample_bytes_) / static_cast<double>(sample_lines_);
    auto estimate = static_cast<size_t>(static_cast<double>(text_bytes_) / per_line * 1.05) + kSampleLines;
    t_.rows.reserve(estimate);
  }

 private:
  struct Row {
    std::string user, item;  // reused buffers: no allocation once they are long enough
    uint64_t user_hash = 0, item_hash = 0;
    bool same_user = false, same_item = false;
    float rating = 0;
    int64_t timestamp = 0;
  };
  ReviewTable& t_;
  Row next_;
  bool pending_ = false;
  int32_t user_index_ = -1, item_index_ = -1;
  int64_t text_bytes_;
  size_t sample_bytes_ = 0, sample_lines_ = 0;
  bool reserved_ = false;
};

void read_recbole(LineReader& reader, ReviewTable& t, Sink& sink, Progress* progress) {
  std::string_view line;
  std::vector<std::string_view> f;
  while (reader.next(line) && is_blank(line)) {
  }
  if (reader.line_number() == 0 || is_blank(line)) return;
  split_fields(line, '\t', f);
  int user_col = -1, item_col = -1, rating_col = -1, time_col = -1;
  for (size_t c = 0; c < f.size(); ++c) {
    std::string_view name = f[c].substr(0, f[c].find(':'));
    if (name == "user_id") user_col = static_cast<int>(c);
    if (name == "item_id") item_col = static_cast<int>(c);
    if (name == "rating") rating_col = static_cast<int>(c);
    if (name == "timestamp") time_col = static_cast<int>(c);
  }
  const size_t columns = f.size();
  if (user_col < 0 || item_col < 0) {
    fail(input_error(reader.path(), reader.line_number(), user_col < 0 ? "user_id" : "item_id",
                     str_cat("a header without it (", quote_token(line), ")"),
                     "a RecBole .inter header naming user_id:token and item_id:token"));
  }
  t.has_timestamps = time_col >= 0;
  while (reader.next(line)) {
    if (is_blank(line)) continue;
    ++t.lines;
    sink.saw_line(line.size());
    if (progress && t.lines % kProgressEvery == 0) progress->add(kProgressEvery);
    auto bad = [&](std::string_view field, const std::string& got, const std::string& expected) {
      t.bad.report(input_error(reader.path(), reader.line_number(), std::string(field), got, expected));
    };
    split_fields(line, '\t', f);
    if (f.size() != columns) {
      bad("", std::to_string(f.size()) + " tab-separated fields", std::to_string(columns) + " as in the header");
      continue;
    }
    std::string_view user = f[static_cast<size_t>(user_col)], item = f[static_cast<size_t>(item_col)];
    if (user.empty() || item.empty()) {
      bad(user.empty() ? "user_id" : "item_id", "an empty string", "an id");
      continue;
    }
    if (!valid_utf8_id(user) || !valid_utf8_id(item)) {
      bad(valid_utf8_id(user) ? "item_id" : "user_id", "invalid UTF-8 bytes", "a UTF-8 string (an id)");
      continue;
    }
    double rating = NAN;
    if (rating_col >= 0) {
      std::string_view r = trim(f[static_cast<size_t>(rating_col)]);
      if (!r.empty() && !parse_double(r, &rating)) {
        bad("rating", quote_token(r), "a number");
        continue;
      }
    }
    int64_t time = t.lines - 1;
    if (time_col >= 0 && !parse_time(trim(f[static_cast<size_t>(time_col)]), time)) {
      bad("timestamp", quote_token(f[static_cast<size_t>(time_col)]), "a number");
      continue;
    }
    sink.add(user, item, static_cast<float>(rating), time);
  }
}

}  // namespace

void read_recbole_reviews(const std::filesystem::path& path, ReviewTable& t, Progress* progress) {
  LineReader reader(path);
  t.file_bytes = reader.file_size();
  Sink sink(t, path);
  read_recbole(reader, t, sink, progress);
  sink.resolve();
  if (progress) progress->add(t.lines % kProgressEvery);
}

}  // namespace twotower
