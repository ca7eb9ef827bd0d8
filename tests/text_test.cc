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
