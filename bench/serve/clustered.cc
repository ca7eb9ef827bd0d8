#include "serve/clustered.h"

#include <cmath>
#include <random>

#include "twotower/common/error.h"

namespace twotower {

std::vector<float> clustered_rows(int64_t n, uint64_t seed, const ClusteredOptions& o) {
  if (n < 0) fail("clustered rows: got n ", n, ", expected >= 0");
  if (o.dim < 1) fail("clustered rows: got dim ", o.dim, ", expected >= 1");
  if (o.clusters < 1) fail("clustered rows: got clusters ", o.clusters, ", expected >= 1");
  if (!(o.noise >= 0)) fail("clustered rows: got noise ", o.noise, ", expected >= 0");
  std::mt19937_64 centre_rng(o.centre_seed), rng(seed);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  std::vector<float> centres(static_cast<size_t>(o.clusters * o.dim));
  for (float& c : centres) c = gauss(centre_rng);
  std::vector<float> out(static_cast<size_t>(n * o.dim));
  for (int64_t r = 0; r < n; ++r) {
    const float* c = centres.data() + static_cast<int64_t>(rng() % static_cast<uint64_t>(o.clusters)) * o.dim;
    float* row = out.data() + r * o.dim;
    double norm = 0;
    for (int64_t j = 0; j < o.dim; ++j) {
      row[j] = c[j] + o.noise * gauss(rng);
      norm += static_cast<double>(row[j]) * row[j];
    }
    // A zero row (possible only without noise and a zero centre) stays zero.
    const auto scale = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
    for (int64_t j = 0; j < o.dim; ++j) row[j] *= scale;
  }
  return out;
}

}  // namespace twotower
