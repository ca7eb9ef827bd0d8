#include "twotower/data/text_embeddings.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/npy.h"
#include "twotower/data/parquet_io.h"

namespace twotower {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

const std::vector<std::string> kItems{"a", "b", "c"};

std::string error_of(const fs::path& path, const std::string& column = "embedding") {
  try {
    read_text_embeddings(path, column, kItems);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// Rows keyed by item_idx, stored out of order, land on their item's row.
TEST(TextEmbeddings, ParquetByItemIdx) {
  TempDir dir;
  ParquetWriter w;
  w.add_int64("item_idx", {2, 0, 1});
  w.add_float_list("embedding", {{5, 6}, {1, 2}, {3, 4}});
  w.write(dir / "t.parquet");
  Matrix m = read_text_embeddings(dir / "t.parquet", "embedding", kItems);
  EXPECT_EQ(m.rows, 3);
  EXPECT_EQ(m.cols, 2);
  EXPECT_EQ(m.data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

// Rows keyed by raw item id go through iid2idx; the vector column's name is configurable.
TEST(TextEmbeddings, ParquetByItemIdAndColumn) {
  TempDir dir;
  ParquetWriter w;
  w.add_string("item_id", {"c", "a", "b"});
  w.add_float_list("vec", {{0.5f}, {-1}, {2}});
  w.write(dir / "t.parquet");
  Matrix m = read_text_embeddings(dir / "t.parquet", "vec", kItems);
  EXPECT_EQ(m.cols, 1);
  EXPECT_EQ(m.data, (std::vector<float>{-1, 2, 0.5f}));
}

TEST(TextEmbeddings, NpyRowsMustMatchTheCatalogue) {
  TempDir dir;
  write_npy(Matrix{3, 1, {7, 8, 9}}, dir / "t.npy");
  EXPECT_EQ(read_text_embeddings(dir / "t.npy", "embedding", kItems).data, (std::vector<float>{7, 8, 9}));
  write_npy(Matrix{2, 1, {7, 8}}, dir / "short.npy");
  EXPECT_NE(error_of(dir / "short.npy").find("has 2 rows, expected one per item of iid2idx.json (3)"), std::string::npos);
}

// Each bad file stops with a message naming what was got and what was expected.
TEST(TextEmbeddings, ParquetErrors) {
  TempDir dir;
  auto write = [&](const std::string& name, std::vector<int64_t> idx, std::vector<std::vector<float>> vectors) {
    ParquetWriter w;
    w.add_int64("item_idx", idx);
    w.add_float_list("embedding", vectors);
    w.write(dir / name);
    return dir / name;
  };
  EXPECT_NE(error_of(write("missing.parquet", {0, 1}, {{1}, {2}})).find("1 of 3 items have no row (the first: item c)"),
            std::string::npos);
  EXPECT_NE(error_of(write("twice.parquet", {0, 1, 1}, {{1}, {2}, {3}})).find("rows 1 and 2 both embed item b"),
            std::string::npos);
  EXPECT_NE(error_of(write("width.parquet", {0, 1, 2}, {{1, 1}, {2}, {3, 3}})).find("row 1: got 1 numbers, expected 2"),
            std::string::npos);
  EXPECT_NE(error_of(write("range.parquet", {0, 1, 3}, {{1}, {2}, {3}})).find("item_idx got 3, expected 0 <= item_idx < 3"),
            std::string::npos);
  fs::path ok = write("ok.parquet", {0, 1, 2}, {{1}, {2}, {3}});
  EXPECT_NE(error_of(ok, "vectors").find("no column \"vectors\""), std::string::npos);

  ParquetWriter ids;
  ids.add_string("item_id", {"a", "b", "zz"});
  ids.add_float_list("embedding", {{1}, {2}, {3}});
  ids.write(dir / "unknown.parquet");
  EXPECT_NE(error_of(dir / "unknown.parquet").find("item_id \"zz\" is not in iid2idx.json"), std::string::npos);

  ParquetWriter nokey;
  nokey.add_float_list("embedding", {{1}, {2}, {3}});
  nokey.write(dir / "nokey.parquet");
  EXPECT_NE(error_of(dir / "nokey.parquet").find("no item_idx or item_id column"), std::string::npos);

  ParquetWriter text;
  text.add_int64("item_idx", {0, 1, 2});
  text.add_string("embedding", {"x", "y", "z"});
  text.write(dir / "text.parquet");
  EXPECT_NE(error_of(dir / "text.parquet").find("expected a list of numbers"), std::string::npos);

  testing::write_file(dir / "t.csv", "1,2\n");
  EXPECT_NE(error_of(dir / "t.csv").find("expected .npy or .parquet"), std::string::npos);
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// A NaN is reported at load by row and column (here row 2, column 1), not as a scorer error after
// the first epoch; so is an infinity in a Parquet vector.
TEST(TextEmbeddings, NonFiniteValuesNameRowAndColumn) {
  testing::TempDir dir;
  Matrix m{3, 2, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, NAN}};
  write_npy(m, dir / "t.npy");
  testing::expect_exact_error([&] { read_text_embeddings(dir / "t.npy", "embedding", {"a", "b", "c"}); },
                              (dir / "t.npy").string() +
                                  ": row 2, column 1: got nan, expected a finite number (text embeddings)");
}

// A .npy the project wrote is verified against its checksum sidecar: 4 bytes overwritten in the
// data are refused, naming the file.
TEST(TextEmbeddings, DamagedNpyIsRefused) {
  testing::TempDir dir;
  write_npy(Matrix{3, 2, {1, 2, 3, 4, 5, 6}}, dir / "t.npy");
  {
    std::fstream f(dir / "t.npy", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-8, std::ios::end);
    f << "XXXX";
  }
  testing::expect_error([&] { read_text_embeddings(dir / "t.npy", "embedding", {"a", "b", "c"}); },
                        (dir / "t.npy").string() + ": checksum mismatch");
}

}  // namespace
}  // namespace twotower
