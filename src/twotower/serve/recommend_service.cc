#include "twotower/serve/recommend_service.h"

#include <algorithm>

namespace twotower {

int64_t default_k(int64_t max_k) { return std::min(kDefaultK, max_k); }

bool k_in_range(int64_t k, int64_t max_k) { return k >= 1 && k <= max_k; }

std::string k_range_text(int64_t max_k) { return str_cat("an integer in [1, ", max_k, "]"); }

const char* to_string(QuerySource source) {
  switch (source) {
    case QuerySource::kKnownUser: return "known_user";
    case QuerySource::kHistory: return "history";
    case QuerySource::kColdUser: return "cold_user";
    case QuerySource::kPopularity: return "popularity";
  }
  return "?";
}

}  // namespace twotower
