// Numbers and times as text for people and for YAML: one implementation each.
#pragma once

#include <cstdint>
#include <string>

namespace twotower {

/// 12055936 -> "12,055,936"; negative numbers keep their sign ("-1,000").
std::string thousands(int64_t n);

/// The shortest text that reads back as the same double, always with a '.', 'e' or "inf"/"nan"
/// marker so YAML reads it as a float: 1e-05 -> "1e-05", 0.001 -> "0.001", 2 -> "2.0".
std::string shortest_number(double v);

/// The current time as ISO 8601 UTC, to the second: "2026-12-01T10:42:18Z".
std::string utc_now();

}  // namespace twotower
