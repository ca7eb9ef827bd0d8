#include "twotower/data/review_csv_parser.h"

#include <cmath>
#include <string>

#include "twotower/common/text.h"
#include "twotower/data/bad_lines.h"
#include "twotower/data/delimited_fields.h"

namespace twotower {
namespace {

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
  if (!valid_utf8_id(f[0])) return bad("item", "invalid UTF-8 bytes", "a UTF-8 string (an id)");
  if (!valid_utf8_id(f[1])) return bad("user", "invalid UTF-8 bytes", "a UTF-8 string (an id)");
  double rating = NAN;
  if (!f[2].empty() && !parse_double(trim(f[2]), &rating)) return bad("rating", quote_token(f[2]), "a number");
  int64_t time = 0;
  if (!parse_time(trim(f[3]), time)) return bad("timestamp", quote_token(f[3]), "an integer timestamp");
  p.add(f[1], f[0], static_cast<float>(rating), time);
}

}  // namespace

void parse_csv_review_chunk(const LineChunk& chunk, ParsedChunk& p) {
  parse_lines(chunk, p, [&](std::string_view line, const auto& bad) { parse_csv_line(line, bad, p); });
}

}  // namespace twotower
