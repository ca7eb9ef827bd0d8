// The input formats prepare reads, their names on the command line, and detection from content.
#pragma once

#include <filesystem>
#include <string>

namespace twotower {

enum class ReviewFormat {
  kAuto,
  kAmazon2018,    // JSON lines: reviewerID, asin, overall, unixReviewTime (seconds); also 2014
  kAmazon2023,    // JSON lines: user_id, parent_asin (else asin), rating, timestamp (milliseconds)
  kRatingsCsv,    // item,user,rating,timestamp with no header
  kRecBoleInter,  // tab-separated, typed header: user_id:token item_id:token [rating:float] [timestamp:float]
};

enum class MetaFormat {
  kAuto,
  kAmazonJson,     // JSON lines, 2014 strict/2018 (asin, category) or 2023 (parent_asin, store, categories)
  kAmazon2014Py,   // the 2014 metadata as Python literals with single quotes
  kRecBoleItem,    // tab-separated, typed header: item_id:token title:token_seq ...
};

/// What a file looks like from its first non-empty line.
enum class FileKind { kReviews2018, kReviews2023, kRatingsCsv, kRecBoleInter, kMetaJson, kMetaPython, kRecBoleItem };

/// "auto", "amazon2014", "amazon2018", "amazon2023", "csv", "recbole"; throws listing the choices.
ReviewFormat parse_review_format(const std::string& name);
/// "auto", "amazon2018" (or "amazon2023", "json"), "amazon2014" (Python literals), "recbole".
MetaFormat parse_meta_format(const std::string& name);
/// The format's name in summaries and stats.json: "auto", "amazon2018", "amazon2023", "csv", "recbole".
const char* review_format_name(ReviewFormat format);
/// The reader's name in summaries and stats.json: "auto", "amazon-json", "amazon2014", "recbole".
const char* meta_format_name(MetaFormat format);
/// A phrase for messages, e.g. "a RecBole .item file".
const char* file_kind_description(FileKind kind);

/// Looks at the first non-empty line of `path` (plain or gzip). Throws one clear sentence when
/// the file is empty, unreadable, or in no format prepare knows.
FileKind detect_file_kind(const std::filesystem::path& path);

/// The review format of `path`: `requested` unless kAuto, else detected; throws when the file
/// holds item metadata instead of reviews.
ReviewFormat resolve_review_format(const std::filesystem::path& path, ReviewFormat requested);
/// The metadata format of `path`: `requested` unless kAuto, else detected; throws when the file
/// holds reviews instead of item metadata.
MetaFormat resolve_meta_format(const std::filesystem::path& path, MetaFormat requested);

}  // namespace twotower
