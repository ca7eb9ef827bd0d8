#include "twotower/common/format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace twotower {
namespace {

// Groups of three digits from the right; the sign stays in front of the first group.
TEST(Format, Thousands) {
  EXPECT_EQ(thousands(0), "0");
  EXPECT_EQ(thousands(999), "999");
  EXPECT_EQ(thousands(1000), "1,000");
  EXPECT_EQ(thousands(12055936), "12,055,936");
  EXPECT_EQ(thousands(-1000), "-1,000");
  EXPECT_EQ(thousands(-999999), "-999,999");
  EXPECT_EQ(thousands(INT64_MIN), "-9,223,372,036,854,775,808");
}

// The shortest text that reads back as the same double, always marked as a float for YAML.
TEST(Format, ShortestNumberRoundTripsAndReadsAsFloat) {
  EXPECT_EQ(shortest_number(1e-5), "1e-05");
  EXPECT_EQ(shortest_number(0.001), "0.001");
  EXPECT_EQ(shortest_number(2.0), "2.0");
  EXPECT_EQ(shortest_number(0.0), "0.0");
  for (double v : {0.1, 1.0 / 3.0, 6.02214076e23, -4.5e-300}) EXPECT_EQ(std::stod(shortest_number(v)), v) << v;
}

}  // namespace
}  // namespace twotower
