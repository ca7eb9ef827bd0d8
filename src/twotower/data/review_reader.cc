#include "twotower/data/review_reader.h"

#include <memory>

#include "twotower/common/error.h"
#include "twotower/common/progress.h"
#include "twotower/data/review_chunks.h"
#include "twotower/data/review_csv_parser.h"
#include "twotower/data/review_json_parser.h"
#include "twotower/data/review_recbole_parser.h"

namespace twotower {

ReviewTable read_reviews(const std::filesystem::path& path, const ReviewReadOptions& options) {
  ReviewTable t;
  t.format = resolve_review_format(path, options.format);
  t.bad = BadLines(options.skip_bad_lines);
  std::unique_ptr<Progress> progress;
  if (options.progress) progress = std::make_unique<Progress>("reading " + path.filename().string(), 0, "lines");
  switch (t.format) {
    case ReviewFormat::kAmazon2018:
    case ReviewFormat::kAmazon2023: {
      const JsonReviewKeys keys = json_review_keys(t.format);
      auto parse = [&keys](const LineChunk& chunk, ParsedChunk& p) { parse_json_review_chunk(chunk, keys, p); };
      read_chunks_in_order(path, options, parse, t, progress.get());
      break;
    }
    case ReviewFormat::kRatingsCsv: read_chunks_in_order(path, options, parse_csv_review_chunk, t, progress.get()); break;
    case ReviewFormat::kRecBoleInter: read_recbole_reviews(path, t, progress.get()); break;
    case ReviewFormat::kAuto: fail("internal: review format not resolved");
  }
  if (progress) progress->finish();
  if (t.rows.size() == 0) {
    fail(path.string(), ": no usable review rows (", t.lines, " data lines, ", t.bad.count(),
         " bad) in a file read as ", review_format_name(t.format));
  }
  return t;
}

}  // namespace twotower
