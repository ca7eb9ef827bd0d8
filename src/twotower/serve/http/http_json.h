// The JSON of the HTTP API: request bodies parsed into the RecommendService types, results
// written back. Parsing is strict: unknown fields, wrong types and out-of-range values are errors
// (twotower::Error) whose message names the field, the value got and what is expected, e.g.
// `field "k": got "ten" (string), expected an integer in [1, 100]`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "twotower/serve/recommend_service.h"

namespace twotower {

/// `{"user_id": "u"}` or `{"history": ["i1", ...]}` (exactly one of them; an empty history asks for
/// the cold-user vector), with optional "k" (in k_in_range, default default_k(max_k)),
/// "exclude_seen" (bool, default RecommendRequest's) and "exclude" (array of item id strings).
/// Throws Error for malformed JSON or a field of the wrong type, range or name.
RecommendRequest parse_recommend_request(const std::string& body, int64_t max_k);

/// The "k" query parameter of GET /similar: `text` is nullptr when the query has none (the
/// default then, default_k(max_k)). Throws Error unless it is a decimal integer in [1, max_k].
int64_t parse_k_parameter(const std::string* text, int64_t max_k);

/// A JSON array of items, or an object `{"items": [...]}`; each item
/// `{"item_id": "x", "title": "...", "category": "...", "brand": "...", "text_embedding": [..]}`
/// where only item_id (a non-empty string) is required. Throws Error naming the item's index.
std::vector<NewItem> parse_new_items(const std::string& body);

/// The optional body of POST /reload: empty, `{}` or `{"version": "v000003"}`. Returns the version
/// ("" for the service's default). Throws Error for anything else.
std::string parse_reload_request(const std::string& body);

/// `{"items": [{"item_id", "title", "score"}, ...], "source": "known_user"}` (source omitted when
/// `source` is nullptr, as for /similar).
std::string recommendations_json(const std::vector<Recommendation>& items, const QuerySource* source);
/// `{"status": "ok", "version", "path", "num_users", "num_items", "dim", "index_kind"}`.
std::string health_json(const ExportInfo& info);
/// `{"error": message}`. Never throws for odd bytes: invalid UTF-8 is replaced by U+FFFD.
std::string error_json(const std::string& message);

/// `{"added": n}`.
std::string added_json(int64_t added);
/// `{"reloaded": true, "version": ..., "num_items": ...}`: what POST /reload swapped in.
std::string reloaded_json(const ExportInfo& info);

}  // namespace twotower
