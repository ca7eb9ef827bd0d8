#include "twotower/data/review_reader.h"

#include <simdjson.h>

#include <cmath>
#include <string_view>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/common/progress.h"
#include "twotower/common/text.h"
#include "twotower/data/json_line.h"
#include "twotower/data/line_reader.h"
#include "twotower/data/ordered_chunks.h"

namespace twotower {
namespace {

constexpr int64_t kProgressEvery = 1 << 16;
constexpr size_t kSampleLines = 1024;

/// A timestamp written as an integer, or as a float (RecBole writes "1393372800.0").
bool parse_time(std::string_view s, int64_t& out) {
  if (parse_int64(s, &out)) return true;
  double d = 0;
  if (!parse_double(s, &d)) return false;
  out = std::llround(d);
  return true;
}

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
  // Scratch space of the worker parsing into this slot.
  simdjson::dom::parser json;
  std::string number_text[3];
  std::vector<std::string_view> fields;

  void clear() {
    ids.clear();
    rows.clear();
    bad.clear();
    lines = data_lines = 0;
  }

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
/// Reads one review out of a parsed object into `p`, or reports why it cannot.
template <typename Bad>
void add_json_review(simdjson::dom::object object, const Bad& bad, const JsonKeys& keys, ParsedChunk& p) {
  std::string_view user, item, item_fallback;
  simdjson::dom::element rating_value, time_value;
  bool has_user = false, has_item = false, has_fallback = false, has_rating = false, has_time = false;
  for (auto [key, value] : object) {
    bool is_user = key == keys.user, is_item = key == keys.item;
    bool is_fallback = !keys.item_fallback.empty() && key == keys.item_fallback;
    if (is_user || is_item || is_fallback) {
      std::string_view id;
      if (value.is_string()) {
        id = value.get_string().value_unsafe();
      } else if (value.is_number()) {
        // A numeric id is used as its JSON text.
        std::string& text = p.number_text[is_user ? 0 : is_item ? 1 : 2];
        text = simdjson::minify(value);
        id = text;
      } else {
        bad(key, json_got(value), "a string (an id)");
        return;
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
  if (!has_item && has_fallback) item = item_fallback, has_item = true;
  if (!has_user) return bad(keys.user, "nothing", "a string (the user id)");
  if (!has_item) return bad(keys.item, "nothing", "a string (the item id)");
  if (!has_rating) return bad(keys.rating, "nothing", "a number (the rating)");
  if (!has_time) return bad(keys.time, "nothing", "an integer timestamp");
  double rating = 0;
  if (rating_value.get_double().get(rating)) return bad(keys.rating, json_got(rating_value), "a number");
  int64_t time = 0;
  if (time_value.get_int64().get(time)) {
    double d = 0;
    if (time_value.get_double().get(d) || !std::isfinite(d)) {
      return bad(keys.time, json_got(time_value), "an integer timestamp");
    }
    time = std::llround(d);
  }
  p.add(user, item, static_cast<float>(rating), time / keys.time_divisor);
}

template <typename Bad>
void parse_json_line(std::string_view line, const Bad& bad, const JsonKeys& keys, ParsedChunk& p) {
  simdjson::dom::object object;
  if (!parse_json_object(p.json, line, object, bad)) return;
  add_json_review(object, bad, keys, p);
}


/// A chunk of JSON lines parsed as one stream of documents (simdjson's parse_many, a fifth
/// cheaper than a parse per line), accepted only when every non-blank line holds exactly one
/// document that is an object, starting at its first non-blank byte. Anything else (a bad line,
/// two documents on a line, one across lines) returns false, and the chunk is parsed line by
/// line: what comes out, rows and bad lines alike, is the same either way.
bool parse_json_stream(const LineChunk& chunk, const JsonKeys& keys, ParsedChunk& p) {
  constexpr size_t kMinBatch = size_t{1} << 16;
  simdjson::dom::document_stream stream;
  if (p.json.parse_many(chunk.bytes.data(), chunk.size, std::max(chunk.size, kMinBatch)).get(stream)) return false;
  auto it = stream.begin();
  bool ok = true;
  auto unexpected = [&](std::string_view, const std::string&, const std::string&) { ok = false; };
  p.lines = for_each_line(chunk, 0, [&](std::string_view line, int64_t) {
    if (!ok) return;
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) return;
    ++p.data_lines;
    auto start = static_cast<size_t>(line.data() + first - chunk.bytes.data());
    simdjson::dom::object object;
    if (!(it != stream.end()) || it.current_index() != start || (*it).get_object().get(object)) {
      ok = false;
      return;
    }
    size_t rows = p.rows.size();
    add_json_review(object, unexpected, keys, p);
    ok = ok && p.rows.size() == rows + 1;
    ++it;
  });
  return ok && !(it != stream.end());
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

template <typename Bad>
void parse_csv_line(std::string_view line, const Bad& bad, ParsedChunk& p) {
  constexpr size_t kColumns = 4;
  std::vector<std::string_view>& f = p.fields;
  split_fields(line, ',', f);
  if (f.size() != kColumns) {
    return bad("", std::to_string(f.size()) + " comma-separated fields", "4 (item,user,rating,timestamp)");
  }
  if (f[0].empty()) return bad("item", "an empty string", "an item id");
  if (f[1].empty()) return bad("user", "an empty string", "a user id");
  double rating = NAN;
  if (!f[2].empty() && !parse_double(trim(f[2]), &rating)) return bad("rating", quote_token(f[2]), "a number");
  int64_t time = 0;
  if (!parse_time(trim(f[3]), time)) return bad("timestamp", quote_token(f[3]), "an integer timestamp");
  p.add(f[1], f[0], static_cast<float>(rating), time);
}

/// JSON lines and CSV: every line stands alone, so chunks of lines are parsed on worker threads
/// and merged in file order.
void read_parallel(const std::filesystem::path& path, const ReviewReadOptions& options, ReviewTable& t,
                   Progress* progress) {
  ChunkReader source(path, options.chunk_bytes);
  t.file_bytes = source.file_size();
  Merger merger(t, path, progress);
  auto run = [&](const auto& parse_line) {
    auto parse = [&](const LineChunk& chunk, ParsedChunk& p) {
      parse_lines(chunk, p, [&](std::string_view line, const auto& bad) { parse_line(line, bad, p); });
    };
    parse_chunks_in_order<ParsedChunk>(source, parse_threads(options.threads), parse, merger);
  };
  auto json = [&](const JsonKeys& keys) {
    auto parse = [&](const LineChunk& chunk, ParsedChunk& p) {
      p.clear();
      if (parse_json_stream(chunk, keys, p)) return;
      parse_lines(chunk, p, [&](std::string_view line, const auto& bad) { parse_json_line(line, bad, keys, p); });
    };
    parse_chunks_in_order<ParsedChunk>(source, parse_threads(options.threads), parse, merger);
  };
  switch (t.format) {
    case ReviewFormat::kAmazon2018: json({"reviewerID", "asin", "", "overall", "unixReviewTime", 1}); break;
    case ReviewFormat::kAmazon2023: json({"user_id", "parent_asin", "asin", "rating", "timestamp", 1000}); break;
    case ReviewFormat::kRatingsCsv:
      run([](std::string_view line, const auto& bad, ParsedChunk& p) { parse_csv_line(line, bad, p); });
      break;
    default: fail("internal: ", review_format_name(t.format), " is not read in parallel");
  }
}

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

ReviewTable read_reviews(const std::filesystem::path& path, const ReviewReadOptions& options) {
  ReviewTable t;
  t.format = resolve_review_format(path, options.format);
  t.bad = BadLines(options.skip_bad_lines);
  std::unique_ptr<Progress> progress;
  if (options.progress) progress = std::make_unique<Progress>("reading " + path.filename().string(), 0, "lines");
  switch (t.format) {
    case ReviewFormat::kAmazon2018:
    case ReviewFormat::kAmazon2023:
    case ReviewFormat::kRatingsCsv: read_parallel(path, options, t, progress.get()); break;
    case ReviewFormat::kRecBoleInter: {
      LineReader reader(path);
      t.file_bytes = reader.file_size();
      Sink sink(t, path);
      read_recbole(reader, t, sink, progress.get());
      sink.resolve();
      if (progress) progress->add(t.lines % kProgressEvery);
      break;
    }
    case ReviewFormat::kAuto: fail("internal: review format not resolved");
  }
  if (progress) progress->finish();
  if (t.rows.size() == 0) {
    fail(path.string(), ": no usable review rows (", t.lines, " data lines, ", t.bad.count(),
         " bad) in a file read as ", review_format_name(t.format));
  }
  return t;
}

}  // namespace twotower
