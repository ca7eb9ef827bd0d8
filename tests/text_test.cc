#include "twotower/common/text.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace twotower {
namespace {

// Spaces, tabs, CR and LF go from both ends; inner whitespace stays; all-space gives "".
TEST(Text, Trim) {
  EXPECT_EQ(trim("  a b\t\r\n"), "a b");
  EXPECT_EQ(trim("x"), "x");
  EXPECT_EQ(trim(" \t\r\n"), "");
  EXPECT_EQ(trim(""), "");
}

// Only spaces and tabs make a line blank (a lone "\r" is data, as the readers have always had it).
TEST(Text, IsBlank) {
  EXPECT_TRUE(is_blank(""));
  EXPECT_TRUE(is_blank(" \t "));
  EXPECT_FALSE(is_blank(" x "));
  EXPECT_FALSE(is_blank("\r"));
}

// The whole string must be an integer in int64's range.
TEST(Text, ParseInt64) {
  int64_t v = 0;
  EXPECT_TRUE(parse_int64("1393372800", &v));
  EXPECT_EQ(v, 1393372800);
  EXPECT_TRUE(parse_int64("-7", &v));
  EXPECT_EQ(v, -7);
  EXPECT_TRUE(parse_int64("9223372036854775807", &v));
  EXPECT_EQ(v, std::numeric_limits<int64_t>::max());
  for (const char* bad : {"", " 1", "1 ", "+1", "1.0", "12a", "0x10", "9223372036854775808"}) {
    EXPECT_FALSE(parse_int64(bad, &v)) << '"' << bad << '"';
  }
}

// The whole string must be a finite number; "nan" and "inf" are refused.
TEST(Text, ParseDouble) {
  double v = 0;
  EXPECT_TRUE(parse_double("4.5", &v));
  EXPECT_DOUBLE_EQ(v, 4.5);
  EXPECT_TRUE(parse_double("-2e3", &v));
  EXPECT_DOUBLE_EQ(v, -2000.0);
  EXPECT_TRUE(parse_double("5", &v));
  EXPECT_DOUBLE_EQ(v, 5.0);
  for (const char* bad : {"", " 1", "1 ", "+1", "five", "1.5x", "nan", "inf", "-inf", "1e999"}) {
    EXPECT_FALSE(parse_double(bad, &v)) << '"' << bad << '"';
  }
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// Each maximal invalid subpart becomes one U+FFFD (R = EF BF BD): a Latin-1 "é" (E9) followed by an
// ASCII byte is one subpart; "E9 6C" in "Caf\xE9 l" gives "Caf" R " l". A truncated 3-byte
// sequence (E2 82) is one subpart, a stray continuation byte (80) one, an overlong C0 AF two
// (C0 is never valid, AF is a stray continuation), a surrogate ED A0 80 three (ED's second byte
// must be below A0). Valid text, 4-byte sequences included, is unchanged.
TEST(Text, ReplaceInvalidUtf8BySubparts) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(replace_invalid_utf8("Caf\xE9 l"), "Caf" + r + " l");
  EXPECT_EQ(replace_invalid_utf8("a\xE2\x82z"), "a" + r + "z");
  EXPECT_EQ(replace_invalid_utf8("\x80"), r);
  EXPECT_EQ(replace_invalid_utf8("\xC0\xAF"), r + r);
  EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80"), r + r + r);
  EXPECT_EQ(replace_invalid_utf8("\xF4\x90\x80\x80"), r + r + r + r);
  const std::string valid = "plain, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x8E\xAE";
  EXPECT_EQ(replace_invalid_utf8(valid), valid);
  EXPECT_EQ(replace_invalid_utf8(""), "");
}

}  // namespace
}  // namespace twotower
