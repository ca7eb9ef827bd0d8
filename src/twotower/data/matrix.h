// A dense row-major float32 matrix: embeddings read from and written to .npy files.
#pragma once

#include <cstdint>
#include <vector>

namespace twotower {

/// A row-major float32 matrix: rows x cols values in `data` (data.size() == rows * cols).
struct Matrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> data;

  /// The `cols` values of row `r` (0 <= r < rows); no bounds check.
  const float* row(int64_t r) const { return data.data() + r * cols; }
  float* row(int64_t r) { return data.data() + r * cols; }
};

}  // namespace twotower
