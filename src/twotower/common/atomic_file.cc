#include "twotower/common/atomic_file.h"

#include <system_error>

#include "twotower/common/checksum.h"
#include "twotower/common/error.h"

namespace fs = std::filesystem;

namespace twotower {

void write_file_atomically(const fs::path& path, const std::function<void(const fs::path& temporary)>& write) {
  fs::path temporary = path;
  temporary += ".tmp";
  try {
    write(temporary);
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    fail(path.string(), ": cannot rename ", temporary.string(), " into place: ", ec.message());
  }
}

void write_checksummed_file(const fs::path& path, const std::function<void(const fs::path& temporary)>& write) {
  FileChecksum sum;
  write_file_atomically(path, [&](const fs::path& temporary) {
    write(temporary);
    sum = file_checksum(temporary);
  });
  write_checksum(path, sum);
}

}  // namespace twotower
