#include "twotower/common/text.h"

#include <charconv>
#include <cmath>
#include <system_error>

namespace twotower {

namespace {
constexpr std::string_view kSpace = " \t\r\n";
constexpr std::string_view kBlank = " \t";
}  // namespace

std::string_view trim(std::string_view text) {
  size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(kSpace);
  return text.substr(begin, end - begin + 1);
}

bool is_blank(std::string_view text) { return text.find_first_not_of(kBlank) == std::string_view::npos; }

bool parse_int64(std::string_view text, int64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

bool parse_double(std::string_view text, double* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end && std::isfinite(*out);
}

}  // namespace twotower
