#include "twotower/common/enum_names.h"

#include <gtest/gtest.h>

namespace twotower {
namespace {

enum class Color { kRed, kGreen, kBlue };

constexpr EnumName<Color> kColorNames[] = {
    {Color::kRed, "red"}, {Color::kRed, "r"}, {Color::kGreen, "green"}};

// A value prints as the first name listed for it; a value the table lacks prints as "?".
TEST(EnumNames, NameIsTheFirstListed) {
  EXPECT_STREQ(enum_name(kColorNames, Color::kRed), "red");
  EXPECT_STREQ(enum_name(kColorNames, Color::kGreen), "green");
  EXPECT_STREQ(enum_name(kColorNames, Color::kBlue), "?");
}

// Every listed name and alias parses, exactly (case and spaces count); others give nullopt.
TEST(EnumNames, ValueOfEveryAlias) {
  EXPECT_EQ(enum_value(kColorNames, "red"), Color::kRed);
  EXPECT_EQ(enum_value(kColorNames, "r"), Color::kRed);
  EXPECT_EQ(enum_value(kColorNames, "green"), Color::kGreen);
  EXPECT_EQ(enum_value(kColorNames, "blue"), std::nullopt);
  EXPECT_EQ(enum_value(kColorNames, "Red"), std::nullopt);
  EXPECT_EQ(enum_value(kColorNames, "red "), std::nullopt);
  EXPECT_EQ(enum_value(kColorNames, ""), std::nullopt);
}

}  // namespace
}  // namespace twotower
