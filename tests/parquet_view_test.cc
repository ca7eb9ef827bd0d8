#include <gtest/gtest.h>

#include <algorithm>

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

// write() goes through a temporary beside the file: an existing file is replaced whole, no
// temporary is left in the folder, and the checksum sidecar sits beside the file.
TEST(ParquetWriter, WriteReplacesTheFileAtomically) {
  testing::TempDir dir;
  testing::write_file(dir / "t.parquet", "an older file");
  ParquetWriter w;
  w.add_int64("a", {1, 2, 3});
  w.write(dir / "t.parquet");
  EXPECT_EQ(ParquetTable(dir / "t.parquet").int64_column("a"), (std::vector<int64_t>{1, 2, 3}));
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"t.parquet", "t.parquet.crc32"}));
}

// A write that cannot open its temporary (no such folder) throws naming it and creates nothing.
TEST(ParquetWriter, WriteIntoAMissingFolderIsAnError) {
  testing::TempDir dir;
  ParquetWriter w;
  w.add_int64("a", {1});
  testing::expect_error([&] { w.write(dir / "absent" / "t.parquet"); }, "cannot open " + (dir / "absent" / "t.parquet.tmp").string());
  EXPECT_FALSE(std::filesystem::exists(dir / "absent"));
}

TEST(ParquetWriter, StringCodesOutOfRangeIsAnError) {
  ParquetWriter w;
  testing::expect_exact_error([&] { w.add_string_codes("split", {0, 3}, {"train", "valid", "test"}); },
                              "parquet column \"split\": got code 3, expected an index in [0, 3)");
}

}  // namespace
}  // namespace twotower
