#include "twotower/train/negative_sampler.h"

#include <sstream>

#include "twotower/common/error.h"

namespace twotower {

NegativeSampler::NegativeSampler(int64_t num_items, uint64_t seed) : num_items_(num_items), rng_(seed) {
  if (num_items < 1) fail("negative sampler: got ", num_items, " items, expected at least 1");
}

void NegativeSampler::sample(const int64_t* positives, int64_t n, int64_t ratio, bool exclude_positive,
                             int64_t* out) {
  if (exclude_positive && num_items_ < 2) {
    fail("data.negatives_exclude_positive: got true with ", num_items_, " item, expected at least 2 items");
  }
  std::uniform_int_distribution<int64_t> uniform(0, num_items_ - 1);
  for (int64_t r = 0; r < ratio; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      int64_t item = uniform(rng_);
      while (exclude_positive && item == positives[j]) item = uniform(rng_);
      out[r * n + j] = item;
    }
  }
}

std::string NegativeSampler::state() const {
  std::ostringstream out;
  out << rng_;
  return out.str();
}

void NegativeSampler::set_state(const std::string& state) {
  std::istringstream in(state);
  in >> rng_;
  if (!in) fail("negative sampler: the checkpoint's generator state does not parse");
}

}  // namespace twotower
