#include "twotower/data/line_reader.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

using testing::TempDir;

std::vector<std::string> all_lines(const std::filesystem::path& path) {
  LineReader reader(path);
  std::vector<std::string> out;
  std::string_view line;
  while (reader.next(line)) out.emplace_back(line);
  return out;
}

// Plain and gzip files give the same lines; "\r\n" endings and a missing final newline are handled.
TEST(LineReader, PlainAndGzipGiveSameLines) {
  TempDir dir;
  std::string text = "first\r\nsecond\n\nlast without newline";
  testing::write_file(dir / "a.txt", text);
  testing::write_file(dir / "a.txt.gz", text);
  std::vector<std::string> expected{"first", "second", "", "last without newline"};
  EXPECT_EQ(all_lines(dir / "a.txt"), expected);
  EXPECT_EQ(all_lines(dir / "a.txt.gz"), expected);
}

// Compression is detected from the content: a gzip file named .txt is still decompressed.
TEST(LineReader, DetectsGzipByMagicBytes) {
  TempDir dir;
  testing::write_file(dir / "x.gz", "a\nb\n");
  std::filesystem::rename(dir / "x.gz", dir / "x.txt");
  LineReader reader(dir / "x.txt");
  std::string_view line;
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "a");
  EXPECT_TRUE(reader.compressed());
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(reader.line_number(), 2);
}

// Two gzip members one after the other (cat a.gz b.gz) read as one stream.
TEST(LineReader, ReadsConcatenatedGzipMembers) {
  TempDir dir;
  testing::write_file(dir / "a.gz", "1\n2\n");
  testing::write_file(dir / "b.gz", "3\n");
  std::string both = testing::read_file(dir / "a.gz") + testing::read_file(dir / "b.gz");
  testing::write_file(dir / "ab.bin", both);
  EXPECT_EQ(all_lines(dir / "ab.bin"), (std::vector<std::string>{"1", "2", "3"}));
}

// A line longer than the initial 4 MiB buffer is returned whole.
TEST(LineReader, LongLineGrowsTheBuffer) {
  TempDir dir;
  std::string longline(9 << 20, 'x');
  testing::write_file(dir / "long.gz", "a\n" + longline + "\nb\n");
  auto lines = all_lines(dir / "long.gz");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].size(), longline.size());
  EXPECT_EQ(lines[2], "b");
}

TEST(LineReader, MissingFileNamesThePath) {
  testing::expect_error([&] { LineReader reader("/nonexistent/reviews.json"); },
                        "/nonexistent/reviews.json: cannot open");
}

// Corrupt gzip data stops with the file name instead of returning garbage.
TEST(LineReader, CorruptGzipIsAnError) {
  TempDir dir;
  testing::write_file(dir / "c.gz", std::string(1000, 'z'));
  std::string bytes = testing::read_file(dir / "c.gz");
  for (size_t i = 12; i < bytes.size() - 8; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  testing::write_file(dir / "bad.bin", bytes);
  EXPECT_THROW(all_lines(dir / "bad.bin"), Error);
}

}  // namespace
}  // namespace twotower
