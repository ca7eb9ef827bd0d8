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

// Reading a subset decodes only the named columns, a list column included; names the file
// lacks are ignored, and the columns left out read as absent.
TEST(ParquetTable, ReadsOnlyNamedColumns) {
  testing::TempDir dir;
  ParquetWriter w;
  w.add_int64("a", {1, 2});
  w.add_string("text", {"long", "words"});
  w.add_int32_list("ids", {{1, 2}, {}});
  w.add_int32("b", {5, 6});
  w.write(dir / "t.parquet");
  ParquetTable t(dir / "t.parquet", {"ids", "b", "missing"});
  EXPECT_FALSE(t.has_column("a"));
  EXPECT_FALSE(t.has_column("text"));
  EXPECT_EQ(t.int64_column("b"), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(t.int32_list_column("ids"), (std::vector<std::vector<int32_t>>{{1, 2}, {}}));
  EXPECT_THROW(t.string_column("text"), Error);
}

TEST(ParquetWriter, StringCodesOutOfRangeIsAnError) {
  ParquetWriter w;
  testing::expect_exact_error([&] { w.add_string_codes("split", {0, 3}, {"train", "valid", "test"}); },
                              "parquet column \"split\": got code 3, expected an index in [0, 3)");
}

}  // namespace
}  // namespace twotower
