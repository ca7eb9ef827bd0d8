#include "twotower/serve/recommend_service.h"

namespace twotower {

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
