#include "twotower/data/npy.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

// A written matrix reads back with the same shape and values; numpy reads it too (python tests).
TEST(Npy, RoundTrip) {
  testing::TempDir dir;
  Matrix m{2, 3, {1, 2, 3, 4, 5, 6.5f}};
  write_npy(m, dir / "m.npy");
  Matrix back = read_npy(dir / "m.npy");
  EXPECT_EQ(back.rows, 2);
  EXPECT_EQ(back.cols, 3);
  EXPECT_EQ(back.data, m.data);
  EXPECT_FLOAT_EQ(back.row(1)[2], 6.5f);
}

// The header is padded so the data starts at a multiple of 64 bytes, as numpy writes it.
TEST(Npy, HeaderAligned) {
  testing::TempDir dir;
  write_npy(Matrix{1, 1, {0}}, dir / "a.npy");
  size_t size = testing::read_file(dir / "a.npy").size();
  EXPECT_EQ((size - sizeof(float)) % 64, 0u) << size;
}

TEST(Npy, RejectsNonNpy) {
  testing::TempDir dir;
  testing::write_file(dir / "x.npy", "hello world, this is not numpy");
  EXPECT_THROW(read_npy(dir / "x.npy"), Error);
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// Found by fuzz/npy_fuzz: a header length or a shape that the file cannot hold is an error before
// anything is allocated (a v2 header claiming 4 GB, a shape of 10^12 x 10^12 or one past int64).
TEST(Npy, LengthsAndShapesMustFitTheFile) {
  testing::TempDir dir;
  write_npy(Matrix{2, 2, {1, 2, 3, 4}}, dir / "ok.npy");
  std::string bytes = testing::read_file(dir / "ok.npy");
  std::filesystem::remove(dir / "ok.npy.crc32");
  std::string big_header = bytes;
  big_header[6] = 2;  // version 2: a 4-byte length at 8..11, here FF FF FF FF with the next two bytes
  big_header.replace(8, 4, "\xFF\xFF\xFF\xFF");
  testing::write_file(dir / "h.npy", big_header);
  testing::expect_error([&] { read_npy(dir / "h.npy"); }, ": header length got ");
  // Same header length: the longer shape takes the place of padding spaces.
  auto with_shape = [&](const std::string& shape) {
    std::string b = bytes;
    b.replace(b.find("(2, 2)"), 6, shape);
    const size_t newline = b.find('\n');  // the header's end (the length bytes hold no 0x0A here)
    b.erase(newline - (shape.size() - 6), shape.size() - 6);
    return b;
  };
  std::string huge = with_shape("(1000000000000, 1000000000000)");
  testing::write_file(dir / "s.npy", huge);
  testing::expect_error([&] { read_npy(dir / "s.npy"); }, "expected the file's 16 data bytes");
  std::string overflow = with_shape("(99999999999999999999, 2)");
  testing::write_file(dir / "o.npy", overflow);
  testing::expect_error([&] { read_npy(dir / "o.npy"); }, "shape dimension got 99999999999999999999, expected an int64");
}

}  // namespace
}  // namespace twotower
