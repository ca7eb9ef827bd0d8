#include "twotower/data/review_json_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower/data/json_line.h"

namespace twotower {
namespace {

// Strings keep their quotes in messages (got "five"); numbers, booleans and null do not.
std::string json_got(simdjson::dom::element value) {
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  std::string text = simdjson::minify(value);
  constexpr size_t kMaxGot = 42;
  return text.size() > kMaxGot ? text.substr(0, kMaxGot) + "..." : text;
}

// The DOM parser validates the whole line and dispatches at run time to the fastest kernels the
// CPU has (the On-Demand API would be fixed at compile time, to its portable fallback here).
/// Reads one review out of a parsed object into `p`, or reports why it cannot.
template <typename Bad>
void add_json_review(simdjson::dom::object object, const Bad& bad, const JsonReviewKeys& keys, ParsedChunk& p,
                     bool repaired = false) {
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
      if (repaired && id.find(kReplacementCharacter) != std::string_view::npos) {
        bad(key, "invalid UTF-8 bytes", "a UTF-8 string (an id)");
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
void parse_json_line(std::string_view line, const Bad& bad, const JsonReviewKeys& keys, ParsedChunk& p) {
  simdjson::dom::object object;
  bool repaired = false;
  if (!parse_json_object(p.json, line, object, bad, &repaired)) return;
  const size_t rows = p.rows.size();
  add_json_review(object, bad, keys, p, repaired);
  if (repaired && p.rows.size() > rows) ++p.invalid_utf8_lines;
}

/// A chunk of JSON lines parsed as one stream of documents (simdjson's parse_many, a fifth
/// cheaper than a parse per line), accepted only when every non-blank line holds exactly one
/// document that is an object, starting at its first non-blank byte. Anything else (a bad line,
/// two documents on a line, one across lines) returns false, and the chunk is parsed line by
/// line: what comes out, rows and bad lines alike, is the same either way.
bool parse_json_stream(const LineChunk& chunk, const JsonReviewKeys& keys, ParsedChunk& p) {
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

}  // namespace

JsonReviewKeys json_review_keys(ReviewFormat format) {
  switch (format) {
    case ReviewFormat::kAmazon2018: return {"reviewerID", "asin", "", "overall", "unixReviewTime", 1};
    case ReviewFormat::kAmazon2023: return {"user_id", "parent_asin", "asin", "rating", "timestamp", 1000};
    default: fail("internal: ", review_format_name(format), " is not a JSON review format");
  }
}

void parse_json_review_chunk(const LineChunk& chunk, const JsonReviewKeys& keys, ParsedChunk& p) {
  p.clear();
  if (parse_json_stream(chunk, keys, p)) return;
  parse_lines(chunk, p, [&](std::string_view line, const auto& bad) { parse_json_line(line, bad, keys, p); });
}

}  // namespace twotower
