#include "twotower/data/python_literal.h"

#include <simdjson.h>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <string>

#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower/data/text_clean.h"

namespace twotower {
namespace {

constexpr int kMaxDepth = 64;

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  nlohmann::json parse_document() {
    nlohmann::json v = value(0);
    skip_space();
    if (pos_ != s_.size()) error("the end of the literal");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& expected) const {
    if (pos_ >= s_.size()) fail("at byte ", pos_, ": got the end of the line, expected ", expected);
    fail("at byte ", pos_, ": got '", s_.substr(pos_, 12), "', expected ", expected);
  }

  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }

  bool consume(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  nlohmann::json value(int depth) {
    if (depth > kMaxDepth) error("nesting of at most 64 levels");
    skip_space();
    if (pos_ >= s_.size()) error("a value");
    char c = s_[pos_];
    if (c == '{') return dict(depth);
    if (c == '[') return sequence(depth, ']');
    if (c == '(') return sequence(depth, ')');
    if (c == '\'' || c == '"') return string();
    if ((c == 'u' || c == 'r' || c == 'b') && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '\'' || s_[pos_ + 1] == '"')) {
      ++pos_;
      return string();
    }
    if (s_.compare(pos_, 4, "True") == 0) return pos_ += 4, nlohmann::json(true);
    if (s_.compare(pos_, 5, "False") == 0) return pos_ += 5, nlohmann::json(false);
    if (s_.compare(pos_, 4, "None") == 0) return pos_ += 4, nlohmann::json(nullptr);
    if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) return number();
    error("a value (dict, list, string, number, True, False or None)");
  }

  nlohmann::json dict(int depth) {
    ++pos_;
    nlohmann::json out = nlohmann::json::object();
    if (consume('}')) return out;
    for (;;) {
      nlohmann::json key = value(depth + 1);
      if (!consume(':')) error("':' after a dict key");
      nlohmann::json v = value(depth + 1);
      out[key.is_string() ? key.get<std::string>() : key.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)] =
          std::move(v);
      if (consume(',')) {
        if (consume('}')) return out;
        continue;
      }
      if (consume('}')) return out;
      error("',' or '}' in a dict");
    }
  }

  nlohmann::json sequence(int depth, char close) {
    ++pos_;
    nlohmann::json out = nlohmann::json::array();
    if (consume(close)) return out;
    for (;;) {
      out.push_back(value(depth + 1));
      if (consume(',')) {
        if (consume(close)) return out;
        continue;
      }
      if (consume(close)) return out;
      error(std::string("',' or '") + close + "' in a list");
    }
  }


  uint32_t hex_digits(size_t count) {
    uint32_t cp = 0;
    if (pos_ + count > s_.size()) error(std::to_string(count) + " hex digits");
    auto [end, ec] = std::from_chars(s_.data() + pos_, s_.data() + pos_ + count, cp, 16);
    if (ec != std::errc() || end != s_.data() + pos_ + count) error(std::to_string(count) + " hex digits");
    pos_ += count;
    return cp;
  }

  nlohmann::json string() {
    char quote = s_[pos_++];
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) error(std::string("a closing ") + quote);
      char c = s_[pos_++];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) error("an escaped character");
      char e = s_[pos_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '0': out += '\0'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case 'x': append_utf8(out, hex_digits(2)); break;
        case 'u': {
          uint32_t cp = hex_digits(4);
          // A surrogate pair written as two \u escapes.
          if (cp >= 0xD800 && cp <= 0xDBFF && s_.compare(pos_, 2, "\\u") == 0) {
            pos_ += 2;
            uint32_t low = hex_digits(4);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          append_utf8(out, cp);
          break;
        }
        case 'U': append_utf8(out, hex_digits(8)); break;
        case '\n': break;
        default: out += e; break;  // \\ \' \" and unknown escapes keep the character
      }
    }
    // Adjacent literals concatenate: 'a' 'b' == 'ab'.
    skip_space();
    if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) out += string().get<std::string>();
    return out;
  }

  nlohmann::json number() {
    size_t start = pos_;
    if (s_[pos_] == '-' || s_[pos_] == '+') ++pos_;
    bool is_float = false;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (std::isdigit(static_cast<unsigned char>(c)) || c == '_') {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E' || ((c == '-' || c == '+') && (s_[pos_ - 1] == 'e' || s_[pos_ - 1] == 'E'))) {
        is_float = true;
        ++pos_;
      } else {
        break;
      }
    }
    std::string digits;
    for (char c : s_.substr(start, pos_ - start)) {
      if (c != '_' && c != '+') digits += c;
    }
    if (!is_float) {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
      if (ec == std::errc() && end == digits.data() + digits.size()) return v;
    }
    double d = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      pos_ = start;
      error("a number");
    }
    return d;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

nlohmann::json parse_python_literal(std::string_view text) {
  // Strings of the result are valid UTF-8 (nlohmann::json refuses to write anything else).
  if (!simdjson::validate_utf8(text.data(), text.size())) return Parser(replace_invalid_utf8(text)).parse_document();
  return Parser(text).parse_document();
}

}  // namespace twotower
