// Checksums of the files the project writes, kept in a sidecar beside each file (FILE.crc32), so
// that numpy, pandas and torch still read the files as they are while twotower verifies them on
// load: a checkpoint or export with bytes overwritten is refused, naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "twotower/common/error.h"

namespace twotower {

/// A file whose bytes do not match its sidecar.
class ChecksumError : public Error {
 public:
  using Error::Error;
};

/// The sidecar of `file`: `file` + ".crc32", holding "crc32 XXXXXXXX bytes N\n".
std::filesystem::path checksum_path(const std::filesystem::path& file);

/// CRC-32 (gzip's) and size of a file's bytes. Throws naming the file when it cannot be read.
struct FileChecksum {
  uint32_t crc32 = 0;
  uint64_t bytes = 0;
};
FileChecksum file_checksum(const std::filesystem::path& file);

/// "3610a686": a CRC-32 as the sidecars and manifests write it (8 lowercase hex digits).
std::string crc32_hex(uint32_t crc);

/// Writes the sidecar of `file` for `sum` (computed from the same bytes), atomically.
void write_checksum(const std::filesystem::path& file, const FileChecksum& sum);

enum class ChecksumStatus {
  kVerified,  // the file matches its sidecar
  kAbsent,    // no sidecar: a file written before checksums existed, or one a user brings
};

/// Checks `file` against its sidecar. Throws ChecksumError naming the file, the size and CRC the
/// sidecar states and those found when they differ, or when the sidecar cannot be read.
ChecksumStatus verify_checksum(const std::filesystem::path& file);

}  // namespace twotower
