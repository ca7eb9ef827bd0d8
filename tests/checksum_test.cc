#include "twotower/common/checksum.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "test_util.h"
#include "twotower/common/atomic_file.h"
#include "twotower/common/crc32.h"

namespace twotower {
namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  write_checksummed_file(path, [&](const std::filesystem::path& tmp) { std::ofstream(tmp) << text; });
}

// Overwrites `count` bytes at `offset` with 'X', as a disk or a stray write would.
void damage(const std::filesystem::path& path, std::streamoff offset, size_t count) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(offset);
  f << std::string(count, 'X');
}

// The sidecar states gzip's CRC-32 and the size: "hello" has CRC-32 3610a686 (zlib's crc32).
TEST(Checksum, SidecarStatesCrcAndSize) {
  testing::TempDir dir;
  write_text(dir / "f.txt", "hello");
  EXPECT_EQ(testing::read_file(dir / "f.txt.crc32"), "crc32 3610a686 bytes 5\n");
  EXPECT_EQ(crc32(0, "hello", 5), 0x3610a686u);
  EXPECT_EQ(verify_checksum(dir / "f.txt"), ChecksumStatus::kVerified);
}

// 64 bytes overwritten in the middle are found, naming the file and both checksums; a file without
// a sidecar is reported absent (files a user brings, files written before checksums).
TEST(Checksum, DamageIsFoundAndAbsenceReported) {
  testing::TempDir dir;
  write_text(dir / "big.bin", std::string(4096, 'a'));
  damage(dir / "big.bin", 2000, 64);
  testing::expect_error([&] { verify_checksum(dir / "big.bin"); },
                        (dir / "big.bin").string() + ": checksum mismatch: big.bin.crc32 says crc32 ");
  EXPECT_THROW(verify_checksum(dir / "big.bin"), ChecksumError);
  testing::write_file(dir / "plain.bin", "abc");
  EXPECT_EQ(verify_checksum(dir / "plain.bin"), ChecksumStatus::kAbsent);
  testing::write_file(dir / "plain.bin.crc32", "garbage");
  testing::expect_error([&] { verify_checksum(dir / "plain.bin"); }, "got an unreadable sidecar");
}

}  // namespace
}  // namespace twotower
