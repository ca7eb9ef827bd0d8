// Amazon review JSON lines (2018: reviewerID/asin/overall/unixReviewTime; 2023: user_id/
// parent_asin (or asin)/rating/timestamp in milliseconds) parsed chunk by chunk for
// read_chunks_in_order.
#pragma once

#include <cstdint>
#include <string_view>

#include "twotower/data/chunk_reader.h"
#include "twotower/data/input_format.h"
#include "twotower/data/review_chunks.h"

namespace twotower {

/// The keys of one JSON review release.
struct JsonReviewKeys {
  std::string_view user, item;
  std::string_view item_fallback;  // the item id when `item` is absent; empty: none
  std::string_view rating, time;
  int64_t time_divisor;  // the file's timestamp unit per second (1000 for milliseconds)
};

/// The keys of kAmazon2018 or kAmazon2023; throws for any other format.
JsonReviewKeys json_review_keys(ReviewFormat format);

/// Parses the JSON lines of `chunk` into `result` (cleared first): one row per line holding an
/// object with a string or numeric user and item id, a numeric rating and an integer (or
/// integral float) timestamp, divided by keys.time_divisor; every other non-blank line becomes
/// a bad line naming the field, the value got and what was expected.
void parse_json_review_chunk(const LineChunk& chunk, const JsonReviewKeys& keys, ParsedChunk& result);

}  // namespace twotower
