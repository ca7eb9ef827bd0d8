#include "twotower/data/delimited_fields.h"

#include <cmath>

#include <simdjson.h>

#include "twotower/common/text.h"

namespace twotower {

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

bool parse_time(std::string_view s, int64_t& out) {
  if (parse_int64(s, &out)) return true;
  double d = 0;
  if (!parse_double(s, &d)) return false;
  out = std::llround(d);
  return true;
}

bool valid_utf8_id(std::string_view id) {
  for (char c : id) {
    if (static_cast<unsigned char>(c) >= 0x80) return simdjson::validate_utf8(id.data(), id.size());
  }
  return true;  // ASCII, the usual id
}

}  // namespace twotower
