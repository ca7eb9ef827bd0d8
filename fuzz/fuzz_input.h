// What the fuzz targets share: the input as a file (the readers take paths), and the rule that a
// reader may throw twotower::Error on bad input but must never crash, hang or leak.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace twotower::fuzz {

/// The fuzz input written to a file named `name` in a per-process folder under /dev/shm (or the
/// temp folder); the same path each call, rewritten.
inline std::filesystem::path input_file(const uint8_t* data, size_t size, const std::string& name) {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::filesystem::path d = base / ("twotower-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::filesystem::path path = dir / name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace twotower::fuzz
