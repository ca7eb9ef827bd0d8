// One JSON-lines record parsed as an object, with the reader's bad-line message otherwise.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "twotower/common/error.h"
#include "twotower/common/text.h"

namespace twotower {

/// Parses `line` into `object`. On malformed JSON or a non-object, calls
/// `bad(field, got, expected)` and returns false. With `repaired`, a line with invalid UTF-8 (e.g.
/// Latin-1 text) is parsed again with each invalid subpart replaced by U+FFFD, and *repaired says
/// so; the caller then refuses ids that hold U+FFFD. `line` must be followed by
/// simdjson::SIMDJSON_PADDING readable bytes (a LineChunk's padding).
template <typename Bad>
bool parse_json_object(simdjson::dom::parser& parser, std::string_view line, simdjson::dom::object& object,
                       const Bad& bad, bool* repaired = nullptr) {
  simdjson::dom::element doc;
  auto error = parser.parse(line.data(), line.size(), /*realloc_if_needed=*/false).get(doc);
  if (error == simdjson::UTF8_ERROR && repaired != nullptr) {
    *repaired = true;
    error = parser.parse(replace_invalid_utf8(line)).get(doc);
  }
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
