// Dense row-major tables: float32 embedding matrices, int64 id tables.
#pragma once

#include <cstdint>
#include <vector>

namespace twotower {

/// A row-major table: rows x cols values of T in `data` (data.size() == rows * cols).
template <typename T>
struct RowMajor {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<T> data;

  /// The `cols` values of row `r` (0 <= r < rows); no bounds check.
  const T* row(int64_t r) const { return data.data() + r * cols; }
  T* row(int64_t r) { return data.data() + r * cols; }
};

/// A float32 matrix: embeddings read from and written to .npy files.
using Matrix = RowMajor<float>;

}  // namespace twotower
