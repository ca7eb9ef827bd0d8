// Generated item and query vectors for the serving benchmarks: unit rows around seeded Gaussian
// centres, so that nearest neighbours cluster as trained embeddings do and HNSW's recall is not
// that of uniform noise.
#pragma once

#include <cstdint>
#include <vector>

namespace twotower {

struct ClusteredOptions {
  int64_t dim = 128;          // >= 1
  int clusters = 1000;        // >= 1; centres are N(0, 1) per coordinate, from centre_seed
  float noise = 0.5f;         // per-coordinate standard deviation around a centre, >= 0
  uint64_t centre_seed = 7;   // the same centres for items and queries
};

/// `n` rows ([n, dim] float32, row-major), each a uniformly drawn centre plus N(0, noise^2) per
/// coordinate, scaled to unit length. The same options and `seed` give the same rows; items and
/// held-out queries come from one distribution by sharing centre_seed with different `seed`s.
/// Throws naming the option and the value when one is out of range.
std::vector<float> clustered_rows(int64_t n, uint64_t seed, const ClusteredOptions& options = {});

}  // namespace twotower
