// Uniform random negative items, drawn in C++ from a seeded std::mt19937_64 whose state travels
// with the checkpoint.
#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace twotower {

class NegativeSampler {
 public:
  /// @param num_items  items are drawn uniformly from [0, num_items)
  NegativeSampler(int64_t num_items, uint64_t seed);

  /// Fills out[r * n + j] (r < ratio, j < n) with a negative for positive j, the layout of the
  /// reference (its users are the positives' users repeated `ratio` times).
  /// @param positives  [n] item ids of the positives
  /// @param out        [ratio * n] receives the negatives
  /// @param exclude_positive  redraw a negative equal to its positive (needs num_items >= 2)
  void sample(const int64_t* positives, int64_t n, int64_t ratio, bool exclude_positive, int64_t* out);

  /// The generator's state as text, and back (std::mt19937_64's stream format).
  std::string state() const;
  void set_state(const std::string& state);

 private:
  int64_t num_items_;
  std::mt19937_64 rng_;
};

}  // namespace twotower
