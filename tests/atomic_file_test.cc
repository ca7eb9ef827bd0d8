#include "twotower/common/atomic_file.h"

#include <stdexcept>

#include <gtest/gtest.h>

#include "test_util.h"

namespace twotower {
namespace {

namespace fs = std::filesystem;

// A writer that completes replaces the old content; the temporary is gone afterwards.
TEST(AtomicFile, SuccessReplacesTheFile) {
  testing::TempDir dir;
  testing::write_file(dir / "a.txt", "old");
  fs::path seen;
  write_file_atomically(dir / "a.txt", [&](const fs::path& temporary) {
    seen = temporary;
    testing::write_file(temporary, "new");
  });
  EXPECT_EQ(testing::read_file(dir / "a.txt"), "new");
  EXPECT_EQ(seen.parent_path(), dir.path());
  EXPECT_NE(seen, dir / "a.txt");
  EXPECT_FALSE(fs::exists(seen));
}

// A file that did not exist is created.
TEST(AtomicFile, CreatesAMissingFile) {
  testing::TempDir dir;
  write_file_atomically(dir / "b.txt", [](const fs::path& temporary) { testing::write_file(temporary, "b"); });
  EXPECT_EQ(testing::read_file(dir / "b.txt"), "b");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

// A writer that throws halfway leaves the old file intact, no temporary behind, and the
// exception reaches the caller unchanged.
TEST(AtomicFile, ThrowingWriterLeavesTheOldFile) {
  testing::TempDir dir;
  testing::write_file(dir / "a.txt", "old");
  fs::path seen;
  try {
    write_file_atomically(dir / "a.txt", [&](const fs::path& temporary) {
      seen = temporary;
      testing::write_file(temporary, "half");
      throw std::runtime_error("disk full");
    });
    FAIL() << "expected the writer's exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk full");
  }
  EXPECT_EQ(testing::read_file(dir / "a.txt"), "old");
  EXPECT_FALSE(seen.empty());
  EXPECT_FALSE(fs::exists(seen));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace twotower
