#include "twotower/data/review_reader.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <string_view>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/data/json_line.h"
#include "twotower/common/progress.h"
#include "twotower/data/line_reader.h"

namespace twotower {
namespace {

constexpr int64_t kProgressEvery = 1 << 16;
constexpr size_t kSampleLines = 1024;

bool blank(std::string_view line) { return line.find_first_not_of(" \t") == std::string_view::npos; }

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool parse_int64(std::string_view s, int64_t& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

bool parse_double(std::string_view s, double& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

/// A timestamp written as an integer, or as a float (RecBole writes "1393372800.0").
bool parse_time(std::string_view s, int64_t& out) {
  if (parse_int64(s, out)) return true;
  double d = 0;
  if (!parse_double(s, d) || !std::isfinite(d)) return false;
  out = std::llround(d);
  return true;
}

/// Appends rows and ids; reserves memory from an estimate of the row count once the first lines
/// show the average line length (an overestimate costs address space, not resident memory).
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

// Strings keep their quotes in messages (got "five"); numbers, booleans and null do not.
std::string json_got(simdjson::dom::element value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  std::string text = simdjson::minify(value);
  constexpr size_t kMaxGot = 42;
  return text.size() > kMaxGot ? text.substr(0, kMaxGot) + "..." : text;
}

struct JsonKeys {
  std::string_view user, item, item_fallback, rating, time;
  int64_t time_divisor;
};

// The DOM parser validates the whole line and dispatches at run time to the fastest kernels the
// CPU has (the On-Demand API would be fixed at compile time, to its portable fallback here).
void read_json(LineReader& reader, ReviewTable& t, Sink& sink, const JsonKeys& keys, Progress* progress) {
  simdjson::dom::parser parser;
  std::string user_number, item_number, fallback_number;
  const std::string& file = reader.path();
  std::string_view line;
  while (reader.next(line)) {
    if (blank(line)) continue;
    ++t.lines;
    sink.saw_line(line.size());
    if (progress && t.lines % kProgressEvery == 0) progress->add(kProgressEvery);
    auto bad = [&](std::string_view field, const std::string& got, const std::string& expected) {
      t.bad.report(input_error(file, reader.line_number(), std::string(field), got, expected));
    };
    simdjson::dom::object object;
    if (!parse_json_object(parser, line, object, bad)) continue;
    std::string_view user, item, item_fallback;
    simdjson::dom::element rating_value, time_value;
    bool has_user = false, has_item = false, has_fallback = false, has_rating = false, has_time = false;
    bool failed = false;
    for (auto [key, value] : object) {
      bool is_user = key == keys.user, is_item = key == keys.item;
      bool is_fallback = !keys.item_fallback.empty() && key == keys.item_fallback;
      if (is_user || is_item || is_fallback) {
        std::string_view id;
        if (value.is_string()) {
          id = value.get_string().value_unsafe();
        } else if (value.is_number()) {
          // A numeric id is used as its JSON text.
          std::string& text = is_user ? user_number : is_item ? item_number : fallback_number;
          text = simdjson::minify(value);
          id = text;
        } else {
          bad(key, json_got(value), "a string (an id)");
          failed = true;
          break;
        }
        if (is_user) user = id, has_user = true;
        if (is_item) item = id, has_item = true;
        if (is_fallback) item_fallback = id, has_fallback = true;
      } else if (key == keys.rating) {
        rating_value = value, has_rating = true;
      } else if (key == keys.time) {
        time_value = value, has_time = true;
      }
    }
    if (failed) continue;
    if (!has_item && has_fallback) item = item_fallback, has_item = true;
    if (!has_user) {
      bad(keys.user, "nothing", "a string (the user id)");
      continue;
    }
    if (!has_item) {
      bad(keys.item, "nothing", "a string (the item id)");
      continue;
    }
    if (!has_rating) {
      bad(keys.rating, "nothing", "a number (the rating)");
      continue;
    }
    if (!has_time) {
      bad(keys.time, "nothing", "an integer timestamp");
      continue;
    }
    double rating = 0;
    if (rating_value.get_double().get(rating)) {
      bad(keys.rating, json_got(rating_value), "a number");
      continue;
    }
    int64_t time = 0;
    if (time_value.get_int64().get(time)) {
      double d = 0;
      if (time_value.get_double().get(d) || !std::isfinite(d)) {
        bad(keys.time, json_got(time_value), "an integer timestamp");
        continue;
      }
      time = std::llround(d);
    }
    sink.add(user, item, static_cast<float>(rating), time / keys.time_divisor);
  }
}

// Splits `line` on `sep` into `fields` (views into the line); RFC 4180 quotes are honoured when
// a field starts with '"' (the quotes are removed, doubled quotes are not unescaped).
void split_fields(std::string_view line, char sep, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t i = 0;
  for (;;) {
    if (i < line.size() && line[i] == '"') {
      size_t end = i + 1;
      while (end < line.size() && !(line[end] == '"' && (end + 1 == line.size() || line[end + 1] == sep))) ++end;
      fields.push_back(line.substr(i + 1, end - i - 1));
      i = end + 1;
      if (i >= line.size()) return;
      ++i;
      continue;
    }
    size_t end = line.find(sep, i);
    if (end == std::string_view::npos) {
      fields.push_back(line.substr(i));
      return;
    }
    fields.push_back(line.substr(i, end - i));
    i = end + 1;
  }
}

void read_csv(LineReader& reader, ReviewTable& t, Sink& sink, Progress* progress) {
  constexpr size_t kColumns = 4;
  std::vector<std::string_view> f;
  std::string_view line;
  while (reader.next(line)) {
    if (blank(line)) continue;
    ++t.lines;
    sink.saw_line(line.size());
    if (progress && t.lines % kProgressEvery == 0) progress->add(kProgressEvery);
    auto bad = [&](std::string_view field, const std::string& got, const std::string& expected) {
      t.bad.report(input_error(reader.path(), reader.line_number(), std::string(field), got, expected));
    };
    split_fields(line, ',', f);
    if (f.size() != kColumns) {
      bad("", std::to_string(f.size()) + " comma-separated fields", "4 (item,user,rating,timestamp)");
      continue;
    }
    if (f[0].empty()) {
      bad("item", "an empty string", "an item id");
      continue;
    }
    if (f[1].empty()) {
      bad("user", "an empty string", "a user id");
      continue;
    }
    double rating = NAN;
    if (!f[2].empty() && !parse_double(trim(f[2]), rating)) {
      bad("rating", quote_token(f[2]), "a number");
      continue;
    }
    int64_t time = 0;
    if (!parse_time(trim(f[3]), time)) {
      bad("timestamp", quote_token(f[3]), "an integer timestamp");
      continue;
    }
    sink.add(f[1], f[0], static_cast<float>(rating), time);
  }
}

void read_recbole(LineReader& reader, ReviewTable& t, Sink& sink, Progress* progress) {
  std::string_view line;
  std::vector<std::string_view> f;
  while (reader.next(line) && blank(line)) {
  }
  if (reader.line_number() == 0 || blank(line)) return;
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
    if (blank(line)) continue;
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
    double rating = NAN;
    if (rating_col >= 0) {
      std::string_view r = trim(f[static_cast<size_t>(rating_col)]);
      if (!r.empty() && !parse_double(r, rating)) {
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

ReviewTable read_reviews(const std::filesystem::path& path, const ReviewReadOptions& options) {
  ReviewTable t;
  t.format = resolve_review_format(path, options.format);
  t.bad = BadLines(options.skip_bad_lines);
  LineReader reader(path);
  t.file_bytes = reader.file_size();
  Sink sink(t, path);
  std::unique_ptr<Progress> progress;
  if (options.progress) progress = std::make_unique<Progress>("reading " + path.filename().string(), 0, "lines");
  switch (t.format) {
    case ReviewFormat::kAmazon2018:
      read_json(reader, t, sink, {"reviewerID", "asin", "", "overall", "unixReviewTime", 1}, progress.get());
      break;
    case ReviewFormat::kAmazon2023:
      read_json(reader, t, sink, {"user_id", "parent_asin", "asin", "rating", "timestamp", 1000}, progress.get());
      break;
    case ReviewFormat::kRatingsCsv: read_csv(reader, t, sink, progress.get()); break;
    case ReviewFormat::kRecBoleInter: read_recbole(reader, t, sink, progress.get()); break;
    case ReviewFormat::kAuto: fail("internal: review format not resolved");
  }
  sink.resolve();
  if (progress) {
    progress->add(t.lines % kProgressEvery);
    progress->finish();
  }
  if (t.rows.size() == 0) {
    fail(path.string(), ": no usable review rows (", t.lines, " data lines, ", t.bad.count(),
         " bad) in a file read as ", review_format_name(t.format));
  }
  return t;
}

}  // namespace twotower
