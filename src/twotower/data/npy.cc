#include "twotower/data/npy.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>
#include <string>

#include "twotower/common/atomic_file.h"
#include "twotower/common/checksum.h"
#include "twotower/common/error.h"
#include "twotower/common/text.h"

namespace fs = std::filesystem;

namespace twotower {

Matrix read_npy(const fs::path& path) {
  verify_checksum(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot open");
  char magic[8];
  in.read(magic, 8);
  if (!in || std::memcmp(magic, "\x93NUMPY", 6) != 0) fail(path.string(), ": not a .npy file (bad magic)");
  uint32_t header_len = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    in.read(reinterpret_cast<char*>(b), 2);
    header_len = b[0] | (b[1] << 8);
  } else {
    unsigned char b[4];
    in.read(reinterpret_cast<char*>(b), 4);
    header_len = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
  }
  const auto file_bytes = static_cast<uint64_t>(fs::file_size(path));
  const uint64_t preamble = magic[6] == 1 ? 10 : 12;
  if (header_len > file_bytes - std::min(file_bytes, preamble)) {
    fail(path.string(), ": header length got ", header_len, ", expected at most the file's remaining ",
         file_bytes - std::min(file_bytes, preamble), " bytes");
  }
  std::string header(header_len, '\0');
  in.read(header.data(), header_len);
  if (!in) fail(path.string(), ": truncated header");

  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'"))) fail(path.string(), ": no descr in header");
  std::string descr = m[1];
  if (descr != "<f4" && descr != "<f8") fail(path.string(), ": dtype got ", descr, ", expected float32 (<f4) or float64 (<f8)");
  if (std::regex_search(header, std::regex("'fortran_order':\\s*True"))) {
    fail(path.string(), ": fortran_order got True, expected a C-ordered array");
  }
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)"))) fail(path.string(), ": no shape in header");
  std::vector<int64_t> shape;
  std::string dims = m[1];
  std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it) {
    int64_t dim = 0;
    if (!parse_int64(it->str(), &dim)) fail(path.string(), ": shape dimension got ", it->str(), ", expected an int64");
    shape.push_back(dim);
  }
  if (shape.empty() || shape.size() > 2) fail(path.string(), ": rank got ", shape.size(), ", expected 1 or 2");
  Matrix out;
  out.rows = shape[0];
  out.cols = shape.size() == 2 ? shape[1] : 1;
  // The data must be exactly what the shape says: checked before anything is allocated.
  const uint64_t item_bytes = descr == "<f4" ? 4 : 8, data_bytes = file_bytes - preamble - header_len;
  uint64_t values = 0, expected_bytes = 0;
  if (__builtin_mul_overflow(static_cast<uint64_t>(out.rows), static_cast<uint64_t>(out.cols), &values) ||
      __builtin_mul_overflow(values, item_bytes, &expected_bytes) || expected_bytes != data_bytes) {
    fail(path.string(), ": shape (", out.rows, ", ", out.cols, ") of ", descr, " needs ", out.rows, " x ", out.cols,
         " x ", item_bytes, " bytes, expected the file's ", data_bytes, " data bytes");
  }
  size_t n = static_cast<size_t>(values);
  out.data.resize(n);
  if (descr == "<f4") {
    in.read(reinterpret_cast<char*>(out.data.data()), static_cast<std::streamsize>(n * sizeof(float)));
  } else {
    std::vector<double> tmp(n);
    in.read(reinterpret_cast<char*>(tmp.data()), static_cast<std::streamsize>(n * sizeof(double)));
    for (size_t i = 0; i < n; ++i) out.data[i] = static_cast<float>(tmp[i]);
  }
  if (!in) fail(path.string(), ": truncated data (expected ", out.rows, " x ", out.cols, " values)");
  return out;
}

void write_npy(const Matrix& m, const fs::path& path) {
  if (static_cast<int64_t>(m.data.size()) != m.rows * m.cols) {
    fail("write_npy ", path.string(), ": got ", m.data.size(), " values, expected ", m.rows, " x ", m.cols);
  }
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(m.rows) + ", " +
                       std::to_string(m.cols) + "), }";
  // Pad so that magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  write_checksummed_file(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) fail(tmp.string(), ": cannot open for writing");
    out.write("\x93NUMPY\x01\x00", 8);
    auto len = static_cast<uint16_t>(header.size());
    char b[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
    out.write(b, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(m.data.data()), static_cast<std::streamsize>(m.data.size() * sizeof(float)));
    out.close();
    if (!out) fail(tmp.string(), ": write failed");
  });
}

}  // namespace twotower
