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
