#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/parquet_io.h"

namespace twotower {
namespace {

// Borrowed columns and code-built strings read back as written; NaN becomes null (NaN again).
TEST(ParquetWriter, ViewsAndCodesRoundTrip) {
  testing::TempDir dir;
  std::vector<int64_t> ids{3, -1, 7};
  std::vector<float> rating{1.5f, NAN, 4.0f};
  std::vector<int8_t> codes{2, 0, 1};
  ParquetWriter w;
  w.add_int64_view("id", ids);
  w.add_float_view_nan_as_null("rating", rating);
  w.add_string_codes("split", codes, {"train", "valid", "test"});
  w.write(dir / "t.parquet");
  ParquetTable t(dir / "t.parquet");
  EXPECT_EQ(t.int64_column("id"), ids);
  auto r = t.float_column("rating");
  EXPECT_FLOAT_EQ(r[0], 1.5f);
  EXPECT_TRUE(std::isnan(r[1]));
  EXPECT_EQ(t.string_column("split"), (std::vector<std::string>{"test", "train", "valid"}));
}

TEST(ParquetWriter, StringCodesOutOfRangeIsAnError) {
  ParquetWriter w;
  try {
    w.add_string_codes("split", {0, 3}, {"train", "valid", "test"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "parquet column \"split\": got code 3, expected an index in [0, 3)");
  }
}

}  // namespace
}  // namespace twotower
