// Field splitting and timestamp parsing shared by the delimited review formats (CSV, RecBole).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace twotower {

/// Splits `line` on `sep` into `fields` (cleared first; views into `line`). A field that starts
/// with '"' runs to the next '"' followed by `sep` or the end of the line, and is stored without
/// its quotes (RFC 4180 quoting; doubled quotes inside are kept as they are).
void split_fields(std::string_view line, char sep, std::vector<std::string_view>& fields);

/// Parses a timestamp written as an integer, or as a finite float rounded to the nearest integer
/// (RecBole writes "1393372800.0"). The whole of `text` must be the number; false otherwise.
bool parse_time(std::string_view text, int64_t& out);

}  // namespace twotower
