// NumPy .npy files (format 1.0/2.0/3.0) holding 1-D or 2-D float32 arrays, little endian, C order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

namespace twotower {

/// A row-major float32 matrix: rows x cols values in `data`.
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;

  const float* row(int64_t r) const { return data.data() + r * cols; }
  float* row(int64_t r) { return data.data() + r * cols; }
};

/// Reads a 2-D float32 .npy (a 1-D array reads as one column; float64 is converted).
/// Throws naming the file and what was found (dtype, order, rank) otherwise.
Matrix read_npy(const std::filesystem::path& path);

/// Writes a 2-D float32 .npy via a temporary file and rename.
void write_npy(const Matrix& m, const std::filesystem::path& path);

}  // namespace twotower
