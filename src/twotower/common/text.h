// Text helpers shared by the readers and the config: trimming and whole-string number parsing.
#pragma once

#include <cstdint>
#include <string_view>

namespace twotower {

/// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);
/// Whether `text` holds only ASCII whitespace (or nothing).
bool is_blank(std::string_view text);
/// Parses the whole of `text` as a decimal int64 (no sign but '-', no spaces); false otherwise.
bool parse_int64(std::string_view text, int64_t* out);
/// Parses the whole of `text` as a finite double, independent of the locale; false otherwise.
bool parse_double(std::string_view text, double* out);

}  // namespace twotower
