// Small, locale-independent text helpers shared by the readers: blank lines, trimming, numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace twotower {

/// `text` without leading and trailing spaces, tabs, carriage returns and newlines; empty when
/// nothing else is left. The view points into `text`.
std::string_view trim(std::string_view text);

/// True when `text` holds nothing but spaces and tabs (an empty line is blank). A data line
/// counts as blank under this rule in every reader, so line numbers agree between them.
bool is_blank(std::string_view text);

/// U+FFFD REPLACEMENT CHARACTER in UTF-8.
inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

/// `text` with each maximal invalid UTF-8 subpart (a stray continuation byte, a truncated or
/// overlong sequence, a surrogate, a code point past U+10FFFF; e.g. Latin-1 bytes) replaced by
/// U+FFFD, as the Unicode standard's "substitution of maximal subparts" does. Valid text comes
/// back unchanged.
std::string replace_invalid_utf8(std::string_view text);

/// Parses the whole of `text` as a decimal integer (an optional '-', digits; no spaces, no '+').
/// Returns false, leaving `*out` unspecified, when `text` is empty, holds anything else, or the
/// value does not fit in int64.
bool parse_int64(std::string_view text, int64_t* out);

/// Parses the whole of `text` as a finite decimal or scientific number ("3", "-0.5", "1e3"),
/// independent of the C locale (std::from_chars; no spaces, no '+', no hex). Returns false,
/// leaving `*out` unspecified, when `text` is empty, holds anything else, is out of range, or
/// names a non-finite value ("nan", "inf").
bool parse_double(std::string_view text, double* out);

}  // namespace twotower
