// Parser for Python literals as written by repr(): the Amazon 2014 metadata files hold one
// dict per line with single-quoted strings, True/False/None and tuples, which JSON cannot read.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace twotower {

/// Parses one Python literal (dict, list, tuple, set, str, bytes-free numbers, True, False,
/// None) into JSON: tuples and sets become arrays, None null, dict keys their string form.
/// Invalid UTF-8 (Latin-1 text) is read with U+FFFD in its place, so every string is UTF-8.
/// Throws twotower::Error naming the byte offset and what was expected on bad input.
nlohmann::json parse_python_literal(std::string_view text);

}  // namespace twotower
