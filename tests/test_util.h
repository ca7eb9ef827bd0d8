// Helpers shared by the tests: temporary folders, the shared data path, file writing.
#pragma once

#include <filesystem>
#include <functional>
#include <source_location>
#include <string>
#include <string_view>

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

/// Runs `fn` and returns the message of the twotower::Error it throws. When it throws nothing or
/// another exception, records a failure at the caller's line and returns "".
std::string error_message(const std::function<void()>& fn,
                          std::source_location where = std::source_location::current());
/// Expects `fn` to throw a twotower::Error whose message contains `substring`; otherwise records a
/// failure at the caller's line that quotes the actual message.
void expect_error(const std::function<void()>& fn, std::string_view substring,
                  std::source_location where = std::source_location::current());
/// Expects `fn` to throw a twotower::Error whose message is exactly `message`.
void expect_exact_error(const std::function<void()>& fn, std::string_view message,
                        std::source_location where = std::source_location::current());

}  // namespace twotower::testing

/// Skips the current test with a clear message when a shared data file is absent.
#define TWOTOWER_REQUIRE_SHARED(path)                                              \
  do {                                                                             \
    if (!std::filesystem::exists(path)) {                                          \
      GTEST_SKIP() << "shared data absent: " << (path) << " (see shared/data/README.md)"; \
    }                                                                              \
  } while (0)
