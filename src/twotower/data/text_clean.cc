#include "twotower/data/text_clean.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <utility>

namespace twotower {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {


constexpr std::array<std::pair<std::string_view, uint32_t>, 40> kNamedEntities{{
    {"amp", '&'},      {"lt", '<'},        {"gt", '>'},        {"quot", '"'},     {"apos", '\''},
    {"nbsp", 0xA0},    {"copy", 0xA9},     {"reg", 0xAE},      {"trade", 0x2122}, {"hellip", 0x2026},
    {"mdash", 0x2014}, {"ndash", 0x2013},  {"lsquo", 0x2018},  {"rsquo", 0x2019}, {"ldquo", 0x201C},
    {"rdquo", 0x201D}, {"bull", 0x2022},   {"middot", 0xB7},   {"deg", 0xB0},     {"frac12", 0xBD},
    {"frac14", 0xBC},  {"frac34", 0xBE},   {"eacute", 0xE9},   {"egrave", 0xE8},  {"aacute", 0xE1},
    {"agrave", 0xE0},  {"iacute", 0xED},   {"oacute", 0xF3},   {"uacute", 0xFA},  {"ntilde", 0xF1},
    {"uuml", 0xFC},    {"ouml", 0xF6},     {"auml", 0xE4},     {"ccedil", 0xE7},  {"szlig", 0xDF},
    {"euro", 0x20AC},  {"pound", 0xA3},    {"cent", 0xA2},     {"times", 0xD7},   {"laquo", 0xAB},
}};

bool iequals_prefix(std::string_view text, size_t pos, std::string_view word) {
  if (pos + word.size() > text.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[pos + i])) != word[i]) return false;
  }
  return true;
}

bool is_block_tag(std::string_view tag) {
  constexpr std::array<std::string_view, 14> kBlock{"br", "p", "div", "li", "ul", "ol", "tr", "td",
                                                    "th", "h1", "h2", "h3", "table", "hr"};
  std::string name;
  for (char c : tag) {
    if (c == '/' && name.empty()) continue;
    if (!std::isalnum(static_cast<unsigned char>(c))) break;
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return std::find(kBlock.begin(), kBlock.end(), name) != kBlock.end();
}

}  // namespace

std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '&') {
      out += text[i++];
      continue;
    }
    size_t semi = text.find(';', i + 1);
    constexpr size_t kMaxEntity = 10;
    if (semi == std::string_view::npos || semi - i - 1 > kMaxEntity || semi == i + 1) {
      out += text[i++];
      continue;
    }
    std::string_view name = text.substr(i + 1, semi - i - 1);
    bool done = false;
    if (name[0] == '#') {
      uint32_t cp = 0;
      bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
      std::string_view digits = name.substr(hex ? 2 : 1);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
      if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size()) {
        append_utf8(out, cp);
        done = true;
      }
    } else {
      for (const auto& [entity, cp] : kNamedEntities) {
        if (entity == name) {
          append_utf8(out, cp);
          done = true;
          break;
        }
      }
    }
    if (done) {
      i = semi + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::string strip_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    // A '<' starts a tag only when a letter, '/', or '!' follows ("a < b" stays text).
    bool tag_start = c == '<' && i + 1 < text.size() &&
                     (std::isalpha(static_cast<unsigned char>(text[i + 1])) || text[i + 1] == '/' ||
                      text[i + 1] == '!');
    if (!tag_start) {
      out += c;
      ++i;
      continue;
    }
    if (text.compare(i, 4, "<!--") == 0) {
      size_t end = text.find("-->", i + 4);
      i = end == std::string_view::npos ? text.size() : end + 3;
      continue;
    }
    size_t close = text.find('>', i + 1);
    if (close == std::string_view::npos) {
      // A tag cut off by the end of the text, as in the 2018 metadata's truncated titles
      // ("<span class=\"a-size-medium\""), is dropped with the rest of the text.
      i = text.size();
      continue;
    }
    std::string_view tag = text.substr(i + 1, close - i - 1);
    for (std::string_view skip : {std::string_view("script"), std::string_view("style")}) {
      if (iequals_prefix(text, i + 1, skip)) {
        std::string end_tag = "</" + std::string(skip);
        size_t end = close;
        while (end != std::string_view::npos && !iequals_prefix(text, end, end_tag)) end = text.find('<', end + 1);
        close = end == std::string_view::npos ? text.size() - 1 : text.find('>', end);
        if (close == std::string_view::npos) close = text.size() - 1;
      }
    }
    if (is_block_tag(tag)) out += ' ';
    i = close + 1;
  }
  return out;
}

std::string clean_text(std::string_view text) {
  std::string decoded = decode_entities(strip_html(text));
  std::string out;
  out.reserve(decoded.size());
  bool pending_space = false;
  for (size_t i = 0; i < decoded.size(); ++i) {
    auto c = static_cast<unsigned char>(decoded[i]);
    bool space = std::isspace(c) != 0;
    // U+00A0 no-break space is C2 A0 in UTF-8.
    if (c == 0xC2 && i + 1 < decoded.size() && static_cast<unsigned char>(decoded[i + 1]) == 0xA0) {
      space = true;
      ++i;
    }
    if (space) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(c);
  }
  return out;
}

}  // namespace twotower
