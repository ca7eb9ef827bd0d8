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

namespace {

// The UTF-8 sequence starting at text[i]: its length when valid (`*valid` true), else the length of
// its maximal subpart, the lead byte and the continuation bytes that could still have completed it
// (at least 1).
size_t utf8_sequence(std::string_view text, size_t i, bool* valid) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = byte(i);
  *valid = true;
  if (b < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;  // no overlong forms
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;  // no overlong forms
    if (b == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    *valid = false;
    return 1;
  }
  size_t k = 1;
  for (; k < n && i + k < text.size(); ++k) {
    const unsigned char c = byte(i + k);
    if (k == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) break;
  }
  *valid = k == n;
  return k;
}

}  // namespace

std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    bool valid = false;
    const size_t n = utf8_sequence(text, i, &valid);
    if (valid) {
      out.append(text.substr(i, n));
    } else {
      out.append(kReplacementCharacter);
    }
    i += n;
  }
  return out;
}

}  // namespace twotower
