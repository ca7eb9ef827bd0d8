#include "twotower/common/crc32.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace twotower {
namespace {

// The check value of CRC-32/ISO-HDLC (gzip's): crc32("123456789") = 0xCBF43926.
TEST(Crc32, KnownValue) {
  const std::string digits = "123456789";
  EXPECT_EQ(crc32(0, digits.data(), digits.size()), 0xCBF43926u);
  std::string repeated;
  for (int i = 0; i < 20; ++i) repeated += digits;
  EXPECT_EQ(crc32(0, repeated.data(), repeated.size()), crc32_zlib(0, repeated.data(), repeated.size()));
}

// The folded CRC equals zlib's for every length around the 16- and 64-byte steps, at every
// alignment, and when continued piece by piece.
TEST(Crc32, EqualsZlibForAnyLengthAlignmentAndSplit) {
  std::mt19937 rng(7);
  std::vector<unsigned char> data(1 << 16);
  for (auto& b : data) b = static_cast<unsigned char>(rng());
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t size = 0; size < 300; ++size) {
      ASSERT_EQ(crc32(0, data.data() + offset, size), crc32_zlib(0, data.data() + offset, size)) << offset << " " << size;
      ASSERT_EQ(crc32(0x12345678u, data.data() + offset, size), crc32_zlib(0x12345678u, data.data() + offset, size));
    }
  }
  uint32_t whole = crc32_zlib(0, data.data(), data.size());
  EXPECT_EQ(crc32(0, data.data(), data.size()), whole);
  uint32_t pieces = 0;
  for (size_t at = 0, step = 1; at < data.size(); at += step, step = step * 3 % 1999 + 1) {
    pieces = crc32(pieces, data.data() + at, std::min(step, data.size() - at));
  }
  EXPECT_EQ(pieces, whole);
}

}  // namespace
}  // namespace twotower
