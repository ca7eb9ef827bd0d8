#include "test_util.h"

#include <gtest/gtest.h>

#include <zlib.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>

#include "twotower/common/error.h"
#include "twotower_build_paths.h"

namespace twotower::testing {

TempDir::TempDir() {
  std::random_device rd;
  auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("twotower-test-" + std::to_string(rd()));
    if (std::filesystem::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path shared_data() { return TWOTOWER_SHARED_DATA; }

std::filesystem::path cli_path() { return TWOTOWER_CLI; }

std::filesystem::path source_dir() { return TWOTOWER_SOURCE_DIR; }

std::string python_path() { return TWOTOWER_PYTHON; }

void write_file(const std::filesystem::path& path, const std::string& content) {
  if (path.extension() == ".gz") {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot open " + path.string());
    gzwrite(f, content.data(), static_cast<unsigned>(content.size()));
    gzclose(f);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int run_command(const std::string& command, std::string* output) {
  std::string full = command + " 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buf{};
  std::string out;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int status = pclose(pipe);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

// The message of the Error `fn` throws, or nothing (with a failure recorded at `where`).
std::optional<std::string> caught_message(const std::function<void()>& fn, const std::source_location& where) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line()))
        << "expected a twotower::Error, got another exception: " << e.what();
    return std::nullopt;
  }
  ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line())) << "expected an error, got none";
  return std::nullopt;
}

}  // namespace

std::string error_message(const std::function<void()>& fn, std::source_location where) {
  return caught_message(fn, where).value_or("");
}

void expect_error(const std::function<void()>& fn, std::string_view substring, std::source_location where) {
  const std::optional<std::string> message = caught_message(fn, where);
  if (message && message->find(substring) == std::string::npos) {
    ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line()))
        << "error message lacks \"" << substring << "\"\n  actual: " << *message;
  }
}

void expect_exact_error(const std::function<void()>& fn, std::string_view message, std::source_location where) {
  const std::optional<std::string> actual = caught_message(fn, where);
  if (actual && *actual != message) {
    ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line()))
        << "error message differs\n  expected: " << message << "\n  actual:   " << *actual;
  }
}

}  // namespace twotower::testing
