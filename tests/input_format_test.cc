#include "twotower/data/input_format.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

using testing::TempDir;

// Each format is recognised from its first non-blank line, plain or gzip.
TEST(InputFormat, DetectsEveryKind) {
  TempDir dir;
  struct Case {
    std::string name, text;
    FileKind kind;
  };
  std::vector<Case> cases{
      {"a.json.gz", "\n{\"reviewerID\": \"U\", \"asin\": \"I\", \"overall\": 5, \"unixReviewTime\": 1}\n", FileKind::kReviews2018},
      {"b.jsonl", "{\"user_id\": \"U\", \"parent_asin\": \"I\", \"rating\": 5, \"timestamp\": 1}\n", FileKind::kReviews2023},
      {"c.csv.gz", "I,U,5.0,100\n", FileKind::kRatingsCsv},
      {"d.inter", "user_id:token\titem_id:token\ttimestamp:float\n", FileKind::kRecBoleInter},
      {"e.item", "item_id:token\ttitle:token_seq\n", FileKind::kRecBoleItem},
      {"f.json", "{\"asin\": \"I\", \"title\": \"T\"}\n", FileKind::kMetaJson},
      {"g.json", "{\"parent_asin\": \"I\", \"store\": \"S\"}\n", FileKind::kMetaJson},
      {"h.gz", "{'asin': 'I', 'title': 'T'}\n", FileKind::kMetaPython},
  };
  for (const auto& c : cases) {
    testing::write_file(dir / c.name, c.text);
    EXPECT_EQ(detect_file_kind(dir / c.name), c.kind) << c.name;
  }
}

TEST(InputFormat, FormatNames) {
  EXPECT_EQ(parse_review_format("amazon2014"), ReviewFormat::kAmazon2018);
  EXPECT_EQ(parse_review_format("recbole"), ReviewFormat::kRecBoleInter);
  EXPECT_EQ(parse_meta_format("amazon2014"), MetaFormat::kAmazon2014Py);
  testing::expect_exact_error(
      [&] { parse_review_format("parquet"); },
      "--format: got \"parquet\", expected auto, amazon2014, amazon2018, amazon2023, csv or recbole");
}

// Reviews passed as metadata (and binary data) end in one sentence.
TEST(InputFormat, WrongRoleAndBinary) {
  TempDir dir;
  testing::write_file(dir / "r.csv", "I,U,5.0,100\n");
  testing::expect_exact_error(
      [&] { resolve_meta_format(dir / "r.csv", MetaFormat::kAuto); },
      (dir / "r.csv").string() + ": holds a ratings-only CSV, not item metadata: pass it with --reviews");
  testing::write_file(dir / "bin", std::string("\x01\x02\x03 abc\n", 8));
  EXPECT_THROW(detect_file_kind(dir / "bin"), Error);
}

}  // namespace
}  // namespace twotower
