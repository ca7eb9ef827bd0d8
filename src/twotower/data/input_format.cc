#include "twotower/data/input_format.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "twotower/common/enum_names.h"
#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower/data/line_reader.h"

namespace twotower {
namespace {

// The first name of a format is what summaries print; the others are accepted on the command line.
constexpr EnumName<ReviewFormat> kReviewFormatNames[] = {
    {ReviewFormat::kAuto, "auto"},           {ReviewFormat::kAmazon2018, "amazon2018"},
    {ReviewFormat::kAmazon2018, "amazon2014"}, {ReviewFormat::kAmazon2018, "json"},
    {ReviewFormat::kAmazon2023, "amazon2023"}, {ReviewFormat::kRatingsCsv, "csv"},
    {ReviewFormat::kRecBoleInter, "recbole"}};

// Metadata formats print under one name per reader; the command line names the releases.
constexpr EnumName<MetaFormat> kMetaFormatNames[] = {{MetaFormat::kAuto, "auto"},
                                                     {MetaFormat::kAmazonJson, "amazon-json"},
                                                     {MetaFormat::kAmazon2014Py, "amazon2014"},
                                                     {MetaFormat::kRecBoleItem, "recbole"}};
constexpr EnumName<MetaFormat> kMetaFormatAliases[] = {
    {MetaFormat::kAuto, "auto"},         {MetaFormat::kAmazonJson, "amazon2018"},
    {MetaFormat::kAmazonJson, "amazon2023"}, {MetaFormat::kAmazonJson, "json"},
    {MetaFormat::kAmazon2014Py, "amazon2014"}, {MetaFormat::kRecBoleItem, "recbole"}};

constexpr EnumName<FileKind> kFileKindDescriptions[] = {
    {FileKind::kReviews2018, "Amazon 2014/2018 review JSON lines"},
    {FileKind::kReviews2023, "Amazon 2023 review JSON lines"},
    {FileKind::kRatingsCsv, "a ratings-only CSV"},
    {FileKind::kRecBoleInter, "a RecBole .inter file"},
    {FileKind::kMetaJson, "Amazon item metadata (JSON lines)"},
    {FileKind::kMetaPython, "Amazon 2014 item metadata (Python literals)"},
    {FileKind::kRecBoleItem, "a RecBole .item file"}};

std::string preview(const std::string& line) {
  constexpr size_t kPreview = 60;
  std::string p = line.substr(0, kPreview);
  for (char& c : p) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return "\"" + p + (line.size() > kPreview ? "...\"" : "\"");
}

bool is_binary(const std::string& line) {
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0 || (u < 0x20 && c != '\t' && c != '\r')) return true;
  }
  return false;
}

}  // namespace

ReviewFormat parse_review_format(const std::string& name) {
  if (auto format = enum_value(kReviewFormatNames, name)) return *format;
  fail("--format: got \"", name, "\", expected auto, amazon2014, amazon2018, amazon2023, csv or recbole");
}

MetaFormat parse_meta_format(const std::string& name) {
  if (auto format = enum_value(kMetaFormatAliases, name)) return *format;
  fail("--meta-format: got \"", name, "\", expected auto, amazon2014, amazon2018, amazon2023 or recbole");
}

const char* review_format_name(ReviewFormat format) { return enum_name(kReviewFormatNames, format); }

const char* meta_format_name(MetaFormat format) { return enum_name(kMetaFormatNames, format); }

const char* file_kind_description(FileKind kind) { return enum_name(kFileKindDescriptions, kind); }

FileKind detect_file_kind(const std::filesystem::path& path) {
  std::vector<std::string> head = head_lines(path, 1);
  std::string name = path.string();
  if (head.empty()) fail(name, ": the file is empty (no non-blank line), expected reviews or metadata");
  const std::string& line = head.front();
  if (is_binary(line)) {
    fail(name, ": unknown format: the first line holds binary data, expected JSON lines, a ratings CSV or a "
         "RecBole atomic file (plain or .gz)");
  }
  size_t first = line.find_first_not_of(" \t");
  if (line[first] == '{') {
    if (line.compare(first, 2, "{'") == 0) return FileKind::kMetaPython;
    // Only the keys matter here: text with invalid UTF-8 (Latin-1) does not hide them.
    nlohmann::json object = nlohmann::json::parse(replace_invalid_utf8(line), nullptr, /*allow_exceptions=*/false);
    if (!object.is_object()) {
      fail(name, ":1: unknown format: got ", preview(line),
           ", expected a JSON object (Amazon JSON lines) or Python dict (2014 metadata)");
    }
    if (object.contains("reviewerID")) return FileKind::kReviews2018;
    if (object.contains("user_id")) return FileKind::kReviews2023;
    if (object.contains("asin") || object.contains("parent_asin")) return FileKind::kMetaJson;
    fail(name, ":1: unknown format: a JSON object without reviewerID, user_id, asin or parent_asin, expected "
         "Amazon reviews or item metadata");
  }
  if (line.find('\t') != std::string::npos && line.find(':') != std::string::npos) {
    bool user = line.find("user_id:") != std::string::npos;
    bool item = line.find("item_id:") != std::string::npos;
    if (user && item) return FileKind::kRecBoleInter;
    if (item) return FileKind::kRecBoleItem;
  }
  if (std::count(line.begin(), line.end(), ',') >= 3) return FileKind::kRatingsCsv;
  fail(name, ":1: unknown format: got ", preview(line),
       ", expected Amazon JSON lines, a ratings CSV (item,user,rating,timestamp) or a RecBole atomic file "
       "with a typed header (user_id:token ...)");
}

ReviewFormat resolve_review_format(const std::filesystem::path& path, ReviewFormat requested) {
  if (requested != ReviewFormat::kAuto) return requested;
  FileKind kind = detect_file_kind(path);
  switch (kind) {
    case FileKind::kReviews2018: return ReviewFormat::kAmazon2018;
    case FileKind::kReviews2023: return ReviewFormat::kAmazon2023;
    case FileKind::kRatingsCsv: return ReviewFormat::kRatingsCsv;
    case FileKind::kRecBoleInter: return ReviewFormat::kRecBoleInter;
    default: break;
  }
  fail(path.string(), ": holds ", file_kind_description(kind), ", not reviews: pass it with --meta");
}

MetaFormat resolve_meta_format(const std::filesystem::path& path, MetaFormat requested) {
  if (requested != MetaFormat::kAuto) return requested;
  FileKind kind = detect_file_kind(path);
  switch (kind) {
    case FileKind::kMetaJson: return MetaFormat::kAmazonJson;
    case FileKind::kMetaPython: return MetaFormat::kAmazon2014Py;
    case FileKind::kRecBoleItem: return MetaFormat::kRecBoleItem;
    default: break;
  }
  fail(path.string(), ": holds ", file_kind_description(kind), ", not item metadata: pass it with --reviews");
}

}  // namespace twotower
