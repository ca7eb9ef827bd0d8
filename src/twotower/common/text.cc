#include "twotower/common/text.h"

#include <charconv>
#include <cmath>
#include <locale>
#include <sstream>
#include <string>

namespace twotower {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

}  // namespace

std::string_view trim(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && is_space(text[b])) ++b;
  while (e > b && is_space(text[e - 1])) --e;
  return text.substr(b, e - b);
}

bool is_blank(std::string_view text) { return trim(text).empty(); }

bool parse_int64(std::string_view text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

bool parse_double(std::string_view text, double* out) {
  if (text.empty()) return false;
  std::istringstream in{std::string(text)};
  in.imbue(std::locale::classic());
  in >> *out;
  return in && in.peek() == std::char_traits<char>::eof() && std::isfinite(*out);
}

}  // namespace twotower
