// Helpers shared by the tests: temporary folders, the shared data path, file writing.
#pragma once

#include <filesystem>
#include <string>

namespace twotower::testing {

/// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// ../shared/data relative to the project root (TWOTOWER_SHARED_DATA at build time).
std::filesystem::path shared_data();
/// The built CLI (TWOTOWER_CLI at build time).
std::filesystem::path cli_path();
/// The project's source folder (TWOTOWER_SOURCE_DIR at build time).
std::filesystem::path source_dir();
/// The Python the build was configured with (TWOTOWER_PYTHON).
std::string python_path();
/// Writes `content` to `path` as is (plain) or gzip-compressed when `path` ends in ".gz".
void write_file(const std::filesystem::path& path, const std::string& content);
/// Reads a whole file.
std::string read_file(const std::filesystem::path& path);
/// Runs a shell command, returns its exit code; stdout+stderr go to `output` when given.
int run_command(const std::string& command, std::string* output = nullptr);

}  // namespace twotower::testing

/// Skips the current test with a clear message when a shared data file is absent.
#define TWOTOWER_REQUIRE_SHARED(path)                                              \
  do {                                                                             \
    if (!std::filesystem::exists(path)) {                                          \
      GTEST_SKIP() << "shared data absent: " << (path) << " (see shared/data/README.md)"; \
    }                                                                              \
  } while (0)
