#include "twotower/common/checksum.h"

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "twotower/common/atomic_file.h"
#include "twotower/common/crc32.h"

namespace fs = std::filesystem;

namespace twotower {
std::string crc32_hex(uint32_t crc) {
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08" PRIx32, crc);
  return buf;
}

fs::path checksum_path(const fs::path& file) {
  fs::path sidecar = file;
  sidecar += ".crc32";
  return sidecar;
}

FileChecksum file_checksum(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(file.string(), ": cannot open to compute its checksum");
  FileChecksum sum;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<size_t>(in.gcount());
    sum.crc32 = crc32(sum.crc32, buffer.data(), n);
    sum.bytes += n;
  }
  if (in.bad()) fail(file.string(), ": read failed while computing its checksum");
  return sum;
}

void write_checksum(const fs::path& file, const FileChecksum& sum) {
  write_file_atomically(checksum_path(file), [&](const fs::path& tmp) {
    std::ofstream out(tmp);
    out << "crc32 " << crc32_hex(sum.crc32) << " bytes " << sum.bytes << "\n";
    if (!out) fail(tmp.string(), ": write failed");
  });
}

ChecksumStatus verify_checksum(const fs::path& file) {
  const fs::path sidecar = checksum_path(file);
  if (!fs::exists(sidecar)) return ChecksumStatus::kAbsent;
  std::ifstream in(sidecar);
  std::string crc_word, crc_text, bytes_word;
  uint64_t bytes = 0;
  in >> crc_word >> crc_text >> bytes_word >> bytes;
  if (!in || crc_word != "crc32" || bytes_word != "bytes" || crc_text.size() != 8) {
    throw ChecksumError(str_cat(sidecar.string(), ": expected \"crc32 XXXXXXXX bytes N\", got an unreadable sidecar"));
  }
  const FileChecksum found = file_checksum(file);
  if (crc32_hex(found.crc32) != crc_text || found.bytes != bytes) {
    throw ChecksumError(str_cat(file.string(), ": checksum mismatch: ", sidecar.filename().string(), " says crc32 ",
                                crc_text, " over ", bytes, " bytes, the file has crc32 ", crc32_hex(found.crc32), " over ",
                                found.bytes, " bytes (the file is damaged or was changed after it was written)"));
  }
  return ChecksumStatus::kVerified;
}

}  // namespace twotower
