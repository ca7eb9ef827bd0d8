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

/// Whether `id` is valid UTF-8. The delimited formats take ids as bytes; one that is not UTF-8
/// (a Latin-1 export) is a bad line naming the field, as in the JSON formats.
bool valid_utf8_id(std::string_view id);

}  // namespace twotower
