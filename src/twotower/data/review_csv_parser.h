// Ratings-only CSV reviews (item,user,rating,timestamp; no header) parsed chunk by chunk for
// read_chunks_in_order.
#pragma once

#include "twotower/data/chunk_reader.h"
#include "twotower/data/review_chunks.h"

namespace twotower {

/// Parses the lines of `chunk` into `result` (cleared first): four comma-separated fields, a
/// non-empty item and user id, a number or nothing as rating (nothing: NaN) and an integer
/// timestamp in seconds. Every other non-blank line becomes a bad line naming the field, the
/// value got and what was expected.
void parse_csv_review_chunk(const LineChunk& chunk, ParsedChunk& result);

}  // namespace twotower
