#include "twotower/data/chunk_reader.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <atomic>
#include <random>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/ordered_chunks.h"

namespace twotower {
namespace {

using testing::TempDir;

std::vector<std::string> chunks_of(const std::filesystem::path& path, size_t chunk_bytes) {
  ChunkReader reader(path, chunk_bytes);
  std::vector<std::string> out;
  int64_t index = 0;
  while (auto chunk = reader.next()) {
    EXPECT_EQ(chunk->index, index++);
    EXPECT_GE(chunk->bytes.size(), chunk->size + LineChunk::kPadding);
    for (size_t i = 0; i < LineChunk::kPadding; ++i) EXPECT_EQ(chunk->bytes[chunk->size + i], 0);
    out.emplace_back(chunk->text());
    reader.recycle(std::move(chunk));
  }
  return out;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string all;
  for (const auto& p : parts) all += p;
  return all;
}

// Chunks hold whole lines (each ends with "\n" but the file's last) and together are the file,
// whether plain or gzip, for chunk sizes below, at and above the line length.
TEST(ChunkReader, ChunksAreWholeLinesThatMakeTheFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 300; ++i) text += str_cat("line ", i, std::string(static_cast<size_t>(i % 17), 'x'), i % 5 ? "\n" : "\r\n");
  text += "last line without newline";
  testing::write_file(dir / "a.txt", text);
  testing::write_file(dir / "a.txt.gz", text);
  for (const char* name : {"a.txt", "a.txt.gz"}) {
    for (size_t chunk_bytes : {1, 7, 64, 1000, 1 << 20}) {
      std::vector<std::string> chunks = chunks_of(dir / name, chunk_bytes);
      EXPECT_EQ(joined(chunks), text) << name << " " << chunk_bytes;
      for (size_t i = 0; i + 1 < chunks.size(); ++i) EXPECT_EQ(chunks[i].back(), '\n') << name << " " << chunk_bytes;
      if (chunk_bytes == 1 << 20) {
        EXPECT_EQ(chunks.size(), 1u);
      }
    }
  }
}

// A line longer than the chunk size makes its chunk grow; lines after it are unaffected.
TEST(ChunkReader, LongLineGrowsItsChunk) {
  TempDir dir;
  std::string longline(100000, 'x');
  std::string text = "a\n" + longline + "\nb\n";
  testing::write_file(dir / "long.gz", text);
  std::vector<std::string> chunks = chunks_of(dir / "long.gz", 1000);
  EXPECT_EQ(joined(chunks), text);
  bool whole = false;
  for (const auto& c : chunks) whole = whole || c.find(longline + "\n") != std::string::npos;
  EXPECT_TRUE(whole);
}

TEST(ChunkReader, EmptyFileHasNoChunk) {
  TempDir dir;
  testing::write_file(dir / "empty.txt", "");
  testing::write_file(dir / "empty.gz", "");
  EXPECT_TRUE(chunks_of(dir / "empty.txt", 16).empty());
  EXPECT_TRUE(chunks_of(dir / "empty.gz", 16).empty());
}

// for_each_line numbers lines from the given start, blank ones included, without "\n" or "\r\n".
TEST(ChunkReader, ForEachLineSplitsAChunk) {
  LineChunk chunk;
  std::string text = "a\r\n\nb c\nlast";
  chunk.bytes.assign(text.begin(), text.end());
  chunk.bytes.resize(text.size() + LineChunk::kPadding, 0);
  chunk.size = text.size();
  std::vector<std::pair<int64_t, std::string>> seen;
  int64_t n = for_each_line(chunk, 10, [&](std::string_view line, int64_t number) { seen.emplace_back(number, line); });
  EXPECT_EQ(n, 4);
  EXPECT_EQ(seen, (std::vector<std::pair<int64_t, std::string>>{{10, "a"}, {11, ""}, {12, "b c"}, {13, "last"}}));
}

// A .gz file cut short is an error, not a quietly shorter file.
TEST(ChunkReader, TruncatedGzipIsAnError) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += str_cat("{\"n\": ", i * 7919 % 1000, "}\n");
  testing::write_file(dir / "full.gz", text);
  std::string bytes = testing::read_file(dir / "full.gz");
  testing::write_file(dir / "cut.bin", bytes.substr(0, bytes.size() / 2));
  testing::expect_error([&] { chunks_of(dir / "cut.bin", 64); }, "cut.bin: truncated gzip data");
}

/// One gzip member holding `text`, stored (level 0) so that its size is known in advance.
std::string gzip_member(const std::string& text, int level) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, text.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// The CRC and size in each member's trailer are checked, also when the trailer straddles two
// reads of the compressed file (1 MiB each).
TEST(ChunkReader, GzipTrailersAreChecked) {
  TempDir dir;
  std::mt19937 rng(3);
  constexpr size_t kRead = size_t{1} << 20;
  std::string first, member;
  // A first member whose 8-byte trailer starts 3 bytes before the end of the first read.
  for (size_t size = kRead - 200;; ++size) {
    first.resize(size);
    for (size_t i = first.size() - 1; i > 0 && i + 300 > size; --i) first[i] = static_cast<char>('a' + rng() % 26);
    for (size_t i = 0; i < first.size(); i += 64) first[i] = '\n';
    member = gzip_member(first, 0);
    if (member.size() == kRead + 5) break;
    ASSERT_LT(member.size(), kRead + 5) << "no size puts the trailer across the read boundary";
  }
  std::string second = "last line\n";
  testing::write_file(dir / "two.bin", member + gzip_member(second, 6));
  EXPECT_EQ(joined(chunks_of(dir / "two.bin", 4096)), first + second);

  std::string bad_crc = member;
  bad_crc[bad_crc.size() - 8] ^= 1;
  testing::write_file(dir / "crc.bin", bad_crc + gzip_member(second, 6));
  testing::expect_error([&] { chunks_of(dir / "crc.bin", 4096); },
                        "crc.bin: corrupt gzip data near byte 1048581 (incorrect data check)");
  std::string bad_size = gzip_member(second, 6);
  bad_size[bad_size.size() - 1] ^= 1;
  testing::write_file(dir / "size.bin", bad_size);
  const std::string size_error = testing::error_message([&] { chunks_of(dir / "size.bin", 4096); });
  EXPECT_NE(size_error.find("size.bin: corrupt gzip data near byte"), std::string::npos) << size_error;
  EXPECT_NE(size_error.find("(incorrect length check)"), std::string::npos) << size_error;
}

// parse_chunks_in_order merges in file order for any thread count, and an error thrown while
// parsing a chunk surfaces when that chunk's turn comes: after every earlier chunk was merged.
TEST(ChunkReader, ParsedChunksMergeInFileOrder) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += str_cat(i, "\n");
  testing::write_file(dir / "n.txt", text);
  struct Numbers {
    std::vector<int64_t> values;
  };
  for (int threads : {1, 2, 4}) {
    ChunkReader reader(dir / "n.txt", 50);
    std::vector<int64_t> merged;
    parse_chunks_in_order<Numbers>(
        reader, threads,
        [](const LineChunk& chunk, Numbers& n) {
          n.values.clear();
          for_each_line(chunk, 0, [&](std::string_view line, int64_t) { n.values.push_back(std::stoll(std::string(line))); });
        },
        [&](const LineChunk&, const Numbers& n) { merged.insert(merged.end(), n.values.begin(), n.values.end()); });
    ASSERT_EQ(merged.size(), 5000u) << threads;
    for (int64_t i = 0; i < 5000; ++i) ASSERT_EQ(merged[static_cast<size_t>(i)], i) << threads;
  }
  for (int threads : {1, 3}) {
    ChunkReader reader(dir / "n.txt", 50);
    int64_t last_merged = -1;
    const std::string error = testing::error_message([&] {
      parse_chunks_in_order<Numbers>(
          reader, threads,
          [](const LineChunk& chunk, Numbers& n) {
            n.values.clear();
            for_each_line(chunk, 0, [&](std::string_view line, int64_t) {
              if (line == "3000" || line == "4000") fail("bad ", line);
              n.values.push_back(std::stoll(std::string(line)));
            });
          },
          [&](const LineChunk&, const Numbers& n) {
            if (!n.values.empty()) last_merged = n.values.back();
          });
    });
    EXPECT_EQ(error, "bad 3000");
    EXPECT_GE(last_merged, 2980);
    EXPECT_LT(last_merged, 3000);
  }
}

// An error thrown by merge stops the workers (the reader is left mid-file) without hanging.
TEST(ChunkReader, MergeErrorStopsTheWorkers) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += str_cat(i, "\n");
  testing::write_file(dir / "n.txt.gz", text);
  ChunkReader reader(dir / "n.txt.gz", 64);
  std::atomic<int> parsed{0};
  struct Nothing {};
  EXPECT_THROW(parse_chunks_in_order<Nothing>(
                   reader, 2, [&](const LineChunk&, Nothing&) { ++parsed; },
                   [](const LineChunk& chunk, const Nothing&) {
                     if (chunk.index == 3) fail("stop");
                   }),
               Error);
  EXPECT_GE(parsed.load(), 4);
}

}  // namespace
}  // namespace twotower
