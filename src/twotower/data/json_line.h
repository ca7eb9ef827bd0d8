// One JSON-lines record parsed as an object, with the reader's bad-line message otherwise.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "twotower/common/error.h"

namespace twotower {

/// Parses `line` into `object`. On malformed JSON or a non-object, calls
/// `bad(field, got, expected)` and returns false.
template <typename Bad>
bool parse_json_object(simdjson::dom::parser& parser, std::string_view line, simdjson::dom::object& object,
                       const Bad& bad) {
  simdjson::dom::element doc;
  auto error = parser.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc);
  if (error) {
    bad("", str_cat("malformed JSON (", simdjson::error_message(error), ")"), "one JSON object per line");
    return false;
  }
  if (doc.get_object().get(object)) {
    bad("", str_cat("a JSON ", doc.is_array() ? "array" : "scalar"), "one JSON object per line");
    return false;
  }
  return true;
}

}  // namespace twotower
