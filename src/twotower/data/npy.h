// NumPy .npy files (format 1.0/2.0/3.0) holding 1-D or 2-D float32 arrays, little endian, C order.
#pragma once

#include <filesystem>

#include "twotower/data/matrix.h"

namespace twotower {

/// Reads a 2-D float32 .npy (a 1-D array reads as one column; float64 is converted). A file with a
/// checksum sidecar (common/checksum.h: every .npy twotower writes) is verified first.
/// Throws naming the file and what was found (dtype, order, rank) otherwise.
Matrix read_npy(const std::filesystem::path& path);

/// Writes `m` (m.data.size() must be m.rows * m.cols) as a 2-D float32 .npy, format 1.0, through a
/// temporary file beside `path` and a rename, with its checksum sidecar (`path`.crc32). Throws naming the file on a size mismatch or an I/O error.
void write_npy(const Matrix& m, const std::filesystem::path& path);

}  // namespace twotower
