#include "twotower/train/batch_size.h"

#include <algorithm>
#include <cmath>

namespace twotower {

int64_t auto_batch_size(int64_t pairs) {
  const double target = std::max(1.0, static_cast<double>(pairs) / 256.0);
  const auto exponent = static_cast<int64_t>(std::llround(std::log2(target)));
  return std::clamp<int64_t>(int64_t{1} << std::clamp<int64_t>(exponent, 0, 30), 64, 1024);
}

}  // namespace twotower
