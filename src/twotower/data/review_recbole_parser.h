// RecBole atomic .inter reviews: a tab-separated header naming the columns (user_id:token,
// item_id:token, optionally rating:float and timestamp:float), then one interaction per line.
#pragma once

#include <filesystem>

#include "twotower/data/review_reader.h"

namespace twotower {

class Progress;

/// Reads the RecBole .inter file `path` line by line on the calling thread into `table` (ids
/// interned in order of first appearance). An absent rating is NaN; without a timestamp column
/// the row number is the timestamp and table.has_timestamps is false. Sets table.file_bytes and
/// table.lines; counts data lines on `progress` when given. Throws `file:line: field "x": got ...,
/// expected ...` for a header without user_id or item_id, and reports bad lines through table.bad.
void read_recbole_reviews(const std::filesystem::path& path, ReviewTable& table, Progress* progress);

}  // namespace twotower
