#include "twotower/data/review_reader.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

using testing::TempDir;

std::string error_of(const std::filesystem::path& path, ReviewFormat format = ReviewFormat::kAuto) {
  try {
    read_reviews(path, {format, false, false});
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// 2018 JSON lines: ids in first-appearance order, ratings and seconds kept, unknown fields skipped.
TEST(ReviewReader, Amazon2018Json) {
  TempDir dir;
  testing::write_file(dir / "r.json.gz",
                      R"({"overall": 5.0, "reviewerID": "U1", "asin": "I1", "unixReviewTime": 100, "style": {"a": [1]}})"
                      "\n"
                      R"({"reviewerID": "U2", "asin": "I1", "overall": 3, "unixReviewTime": 50, "reviewText": "a \"quoted\" }"})"
                      "\n\n"
                      R"({"reviewerID": "U1", "asin": "I2", "overall": 4.5, "unixReviewTime": 1.5e2})"
                      "\n");
  ReviewTable t = read_reviews(dir / "r.json.gz", {});
  EXPECT_EQ(t.format, ReviewFormat::kAmazon2018);
  EXPECT_EQ(t.lines, 3);
  EXPECT_EQ(t.rows.user, (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(t.rows.item, (std::vector<int64_t>{0, 0, 1}));
  EXPECT_EQ(t.rows.rating, (std::vector<float>{5.0f, 3.0f, 4.5f}));
  EXPECT_EQ(t.rows.timestamp, (std::vector<int64_t>{100, 50, 150}));
  EXPECT_EQ(t.users.ids(), (std::vector<std::string>{"U1", "U2"}));
  EXPECT_EQ(t.items.ids(), (std::vector<std::string>{"I1", "I2"}));
}

// 2023 JSON lines: parent_asin is the item (asin when absent), milliseconds become seconds.
TEST(ReviewReader, Amazon2023Json) {
  TempDir dir;
  testing::write_file(dir / "r.jsonl",
                      R"({"rating": 4.0, "title": "t", "asin": "B1", "parent_asin": "P1", "user_id": "AG", "timestamp": 1588687728923})"
                      "\n"
                      R"({"rating": 2.0, "asin": "B2", "user_id": "AH", "timestamp": 1588687729000})"
                      "\n");
  ReviewTable t = read_reviews(dir / "r.jsonl", {});
  EXPECT_EQ(t.format, ReviewFormat::kAmazon2023);
  EXPECT_EQ(t.items.ids(), (std::vector<std::string>{"P1", "B2"}));
  EXPECT_EQ(t.rows.timestamp, (std::vector<int64_t>{1588687728, 1588687729}));
}

// Ratings-only CSV: item,user,rating,timestamp with no header.
TEST(ReviewReader, RatingsCsv) {
  TempDir dir;
  testing::write_file(dir / "r.csv", "B00005N7P0,AH2IFH762VY5U,5.0,1005177600\nB00005N7OJ,AH2IFH762VY5U,3.0,1174694400\n");
  ReviewTable t = read_reviews(dir / "r.csv", {});
  EXPECT_EQ(t.format, ReviewFormat::kRatingsCsv);
  EXPECT_EQ(t.users.ids(), (std::vector<std::string>{"AH2IFH762VY5U"}));
  EXPECT_EQ(t.items.ids(), (std::vector<std::string>{"B00005N7P0", "B00005N7OJ"}));
  EXPECT_EQ(t.rows.rating, (std::vector<float>{5.0f, 3.0f}));
}

// RecBole .inter without a rating column: ratings are NaN; float timestamps are rounded.
TEST(ReviewReader, RecBoleInter) {
  TempDir dir;
  testing::write_file(dir / "g.inter", "user_id:token\titem_id:token\ttimestamp:float\n0\t10\t0\n0\t11\t1.0\n1\t10\t0\n");
  ReviewTable t = read_reviews(dir / "g.inter", {});
  EXPECT_EQ(t.format, ReviewFormat::kRecBoleInter);
  EXPECT_EQ(t.rows.size(), 3u);
  EXPECT_TRUE(std::isnan(t.rows.rating[0]));
  EXPECT_EQ(t.rows.timestamp, (std::vector<int64_t>{0, 1, 0}));
  EXPECT_TRUE(t.has_timestamps);
}

// Each bad input stops with file:line: field "x": got ..., expected ...
TEST(ReviewReader, BadJsonLinesNameFileLineAndField) {
  TempDir dir;
  const std::string ok = R"({"reviewerID": "U1", "asin": "I1", "overall": 5.0, "unixReviewTime": 1})";
  struct Case {
    std::string line, message;
  };
  std::vector<Case> cases{
      {R"({"reviewerID": "U1", "asin": "I1", "overall": "five", "unixReviewTime": 1})",
       ":2: field \"overall\": got \"five\", expected a number"},
      {R"({"reviewerID": "U1", "overall": 5.0, "unixReviewTime": 1})",
       ":2: field \"asin\": got nothing, expected a string (the item id)"},
      {R"({"reviewerID": "U1", "asin": "I1", "overall": 5.0})",
       ":2: field \"unixReviewTime\": got nothing, expected an integer timestamp"},
      {R"({"reviewerID": "U1", "asin": "I1", "overall": 5.0, "unixReviewTime": "yesterday"})",
       ":2: field \"unixReviewTime\": got \"yesterday\", expected an integer timestamp"},
      {R"({"reviewerID": ["U1"], "asin": "I1", "overall": 5.0, "unixReviewTime": 1})",
       ":2: field \"reviewerID\": got an array, expected a string (an id)"},
      {R"({"reviewerID": "U1", "asin": "I1", "overall": 5.0, "unixRevi)", ":2: got malformed JSON ("},
      {R"([1, 2])", ":2: got a JSON array, expected one JSON object per line"},
  };
  for (const auto& c : cases) {
    testing::write_file(dir / "bad.json", ok + "\n" + c.line + "\n");
    std::string message = error_of(dir / "bad.json");
    EXPECT_NE(message.find((dir / "bad.json").string() + c.message), std::string::npos) << message;
  }
}

TEST(ReviewReader, BadCsvAndRecBoleLines) {
  TempDir dir;
  testing::write_file(dir / "r.csv", "I1,U1,5.0,100\nI2,U1,five,100\n");
  EXPECT_NE(error_of(dir / "r.csv").find("r.csv:2: field \"rating\": got \"five\", expected a number"), std::string::npos)
      << error_of(dir / "r.csv");
  testing::write_file(dir / "r2.csv", "I1,U1,5.0,100\nI2,U1,5.0\n");
  EXPECT_NE(error_of(dir / "r2.csv").find("r2.csv:2: got 3 comma-separated fields, expected 4 (item,user,rating,timestamp)"),
            std::string::npos)
      << error_of(dir / "r2.csv");
  testing::write_file(dir / "r3.csv", "I1,U1,5.0,100\nI2,U1,4.0,noon\n");
  EXPECT_NE(error_of(dir / "r3.csv").find("r3.csv:2: field \"timestamp\": got \"noon\", expected an integer timestamp"),
            std::string::npos);
  // A rating must be a finite number; an empty field is a missing rating, "nan" is not.
  testing::write_file(dir / "r4.csv", "I1,U1,5.0,100\nI2,U1,nan,100\n");
  EXPECT_NE(error_of(dir / "r4.csv").find("r4.csv:2: field \"rating\": got \"nan\", expected a number"), std::string::npos)
      << error_of(dir / "r4.csv");
  testing::write_file(dir / "g.inter", "user_id:token\titem_id:token\ttimestamp:float\n0\t1\t0\n0\t2\n");
  EXPECT_NE(error_of(dir / "g.inter").find("g.inter:3: got 2 tab-separated fields, expected 3 as in the header"),
            std::string::npos)
      << error_of(dir / "g.inter");
}

// --skip-bad-lines: bad lines are counted, the first five kept as examples, good rows read.
TEST(ReviewReader, SkipBadLinesCountsThem) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 8; ++i) text += str_cat("I", i, ",U1,bad,1\n");
  text += "I9,U2,4.0,7\n";
  testing::write_file(dir / "r.csv", text);
  ReviewTable t = read_reviews(dir / "r.csv", {ReviewFormat::kAuto, true, false});
  EXPECT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.bad.count(), 8);
  ASSERT_EQ(t.bad.examples().size(), BadLines::kMaxExamples);
  EXPECT_NE(t.bad.examples()[0].find("r.csv:1: field \"rating\""), std::string::npos);
  // A skipped line adds no id: U1 only occurs on bad lines.
  EXPECT_EQ(t.users.ids(), (std::vector<std::string>{"U2"}));
}

/// A JSON lines file with repeated and numeric ids, blank and "\r\n" lines, and (when `bad`) a
/// bad line every 97 lines of four kinds.
std::string mixed_json(int lines, bool bad) {
  std::string text;
  for (int i = 1; i <= lines; ++i) {
    if (bad && i % 97 == 0) {
      const char* kinds[] = {R"({"reviewerID": "U1", "asin": "I1", "overall": "five", "unixReviewTime": 1})",
                             R"({"reviewerID": "U1", "asin": "I1", "overall": 5.0, "unixRevi)", "[1, 2]",
                             R"({"reviewerID": "U1", "overall": 5.0, "unixReviewTime": 1})"};
      text += kinds[(i / 97) % 4];
    } else if (i % 31 == 0) {
      text += "  ";  // blank
    } else if (i % 11 == 0) {
      text += str_cat(R"({"reviewerID": )", i % 13, R"(, "asin": "I)", (i * 7) % 50, R"(", "overall": 3, "unixReviewTime": )", i, "}");
    } else {
      text += str_cat(R"({"overall": )", i % 5 + 1, R"(.0, "reviewerID": "user-with-a-long-id-)", (i * 31) % 200,
                      R"(", "asin": "I)", (i * 7) % 50, R"(", "reviewText": "text \"q\" )", i, R"(", "unixReviewTime": )",
                      1000 + i, "}");
    }
    text += i % 5 == 0 ? "\r\n" : "\n";
  }
  return text;
}

void expect_same_table(const ReviewTable& a, const ReviewTable& b, const std::string& what) {
  EXPECT_EQ(a.rows.user, b.rows.user) << what;
  EXPECT_EQ(a.rows.item, b.rows.item) << what;
  EXPECT_EQ(a.rows.rating, b.rows.rating) << what;
  EXPECT_EQ(a.rows.timestamp, b.rows.timestamp) << what;
  EXPECT_EQ(a.users.ids(), b.users.ids()) << what;
  EXPECT_EQ(a.items.ids(), b.items.ids()) << what;
  EXPECT_EQ(a.lines, b.lines) << what;
  EXPECT_EQ(a.bad.count(), b.bad.count()) << what;
  EXPECT_EQ(a.bad.examples(), b.bad.examples()) << what;
}

// JSON lines and CSV are parsed in chunks on several threads: any thread count and chunk size
// (chunks of one line, chunk ends inside lines) gives what one thread reading one chunk gives.
TEST(ReviewReader, ThreadsAndChunkSizesGiveTheSameTable) {
  TempDir dir;
  testing::write_file(dir / "r.json.gz", mixed_json(1000, false));
  testing::write_file(dir / "bad.json", mixed_json(1000, true));
  std::string csv;
  for (int i = 0; i < 1000; ++i) csv += str_cat("I", (i * 7) % 50, ",U", (i * 31) % 200, ",", i % 5, ".5,", 100 + i, "\n");
  testing::write_file(dir / "r.csv", csv);
  for (const char* name : {"r.json.gz", "bad.json", "r.csv"}) {
    ReviewReadOptions one;
    one.skip_bad_lines = true;
    one.threads = 1;
    one.chunk_bytes = size_t{1} << 20;  // the whole file
    ReviewTable expected = read_reviews(dir / name, one);
    EXPECT_GT(expected.rows.size(), 900u) << name;
    for (int threads : {1, 3}) {
      for (size_t chunk_bytes : {1, 250, 4096}) {
        ReviewReadOptions o = one;
        o.threads = threads;
        o.chunk_bytes = chunk_bytes;
        expect_same_table(read_reviews(dir / name, o), expected, str_cat(name, " threads ", threads, " chunk ", chunk_bytes));
      }
    }
  }
}

// Bad lines are numbered in the file, whichever chunk and thread they fell to; without
// --skip-bad-lines the first one in the file stops the read.
TEST(ReviewReader, BadLineNumbersAcrossChunks) {
  TempDir dir;
  testing::write_file(dir / "bad.json", mixed_json(3000, true));
  ReviewReadOptions o;
  o.skip_bad_lines = true;
  o.threads = 3;
  o.chunk_bytes = 200;
  ReviewTable t = read_reviews(dir / "bad.json", o);
  EXPECT_EQ(t.bad.count(), 3000 / 97);
  ASSERT_EQ(t.bad.examples().size(), BadLines::kMaxExamples);
  const std::string file = (dir / "bad.json").string();
  // Line 97 * k holds kind k % 4.
  EXPECT_EQ(t.bad.examples()[0].rfind(file + ":97: got malformed JSON (", 0), 0u) << t.bad.examples()[0];
  EXPECT_EQ(t.bad.examples()[1], file + ":194: got a JSON array, expected one JSON object per line");
  EXPECT_EQ(t.bad.examples()[2], file + ":291: field \"asin\": got nothing, expected a string (the item id)");
  EXPECT_EQ(t.bad.examples()[3], file + ":388: field \"overall\": got \"five\", expected a number");
  EXPECT_EQ(t.lines, 3000 - 3000 / 31);
  o.skip_bad_lines = false;
  testing::expect_exact_error([&] { read_reviews(dir / "bad.json", o); }, t.bad.examples()[0]);
}

// Chunks of JSON lines are first parsed as one stream of documents; what a stream would accept
// but lines would not (two objects on a line, one object across lines, a scalar) is still a bad
// line, as when every line is parsed alone.
TEST(ReviewReader, JsonLinesAreCheckedLineByLine) {
  TempDir dir;
  const std::string ok = R"({"reviewerID": "U1", "asin": "I1", "overall": 5.0, "unixReviewTime": 1})";
  const std::string text = ok + "\n" + ok + " " + ok + "\n" + R"({"reviewerID": "U2", "asin": "I2",)" + "\n" +
                           R"("overall": 5.0, "unixReviewTime": 1})" + "\n" + "7\n" + ok + "  \t\n" + ok;
  testing::write_file(dir / "r.json", text);
  ReviewReadOptions o;
  o.skip_bad_lines = true;
  ReviewTable t = read_reviews(dir / "r.json", o);
  EXPECT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.users.ids(), (std::vector<std::string>{"U1"}));
  EXPECT_EQ(t.bad.count(), 4);
  ASSERT_EQ(t.bad.examples().size(), 4u);
  const std::string file = (dir / "r.json").string();
  EXPECT_EQ(t.bad.examples()[0].rfind(file + ":2: got malformed JSON (", 0), 0u) << t.bad.examples()[0];
  EXPECT_EQ(t.bad.examples()[1].rfind(file + ":3: got malformed JSON (", 0), 0u) << t.bad.examples()[1];
  EXPECT_EQ(t.bad.examples()[2].rfind(file + ":4: got malformed JSON (", 0), 0u) << t.bad.examples()[2];
  EXPECT_EQ(t.bad.examples()[3], file + ":5: got a JSON scalar, expected one JSON object per line");
}

// Empty files, files without one usable row, unknown formats and metadata passed as reviews
// each end in one sentence.
TEST(ReviewReader, UnusableFilesEndInOneSentence) {
  TempDir dir;
  testing::write_file(dir / "empty.json", "");
  EXPECT_NE(error_of(dir / "empty.json").find("empty.json: the file is empty"), std::string::npos);
  testing::write_file(dir / "blank.gz", "\n  \n");
  EXPECT_NE(error_of(dir / "blank.gz").find("blank.gz: the file is empty"), std::string::npos);
  testing::write_file(dir / "nothing.csv", "I1,U1,x,1\n");
  EXPECT_NE(error_of(dir / "nothing.csv").find("nothing.csv:1: field \"rating\""), std::string::npos);
  testing::write_file(dir / "header_only.inter", "user_id:token\titem_id:token\n");
  EXPECT_NE(error_of(dir / "header_only.inter").find("header_only.inter: no usable review rows (0 data lines, 0 bad)"),
            std::string::npos)
      << error_of(dir / "header_only.inter");
  testing::write_file(dir / "prose.txt", "Dear reader, this is not a data file\n");
  EXPECT_NE(error_of(dir / "prose.txt").find("prose.txt:1: unknown format: got \"Dear reader"), std::string::npos);
  testing::write_file(dir / "meta.json", R"({"asin": "I1", "title": "T"})" "\n");
  EXPECT_NE(error_of(dir / "meta.json").find("holds Amazon item metadata (JSON lines), not reviews: pass it with --meta"),
            std::string::npos);
  EXPECT_NE(error_of(dir / "missing.json").find("missing.json: cannot open"), std::string::npos);
}

// An explicit --format that does not match the content is reported line by line, not guessed.
TEST(ReviewReader, ExplicitFormatIsTrusted) {
  TempDir dir;
  testing::write_file(dir / "r.csv", "I1,U1,5.0,100\n");
  EXPECT_NE(error_of(dir / "r.csv", ReviewFormat::kAmazon2018).find("r.csv:1: got malformed JSON"), std::string::npos);
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// A UTF-8 byte-order mark (as Windows tools save files), CRLF line ends and a last line without a
// newline read as the plain file does, in every format, plain and gzip.
TEST(ReviewReader, ByteOrderMarkCrlfAndMissingLastNewline) {
  testing::TempDir dir;
  const std::string bom = "\xEF\xBB\xBF";
  const std::vector<std::pair<std::string, std::string>> files{
      {"r.json", R"({"reviewerID": "U1", "asin": "I1", "overall": 5.0, "unixReviewTime": 100})"
                 "\r\n"
                 R"({"reviewerID": "U2", "asin": "I2", "overall": 4.0, "unixReviewTime": 200})"},
      {"r.csv", "I1,U1,5.0,100\r\nI2,U2,4.0,200"},
      {"r.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\r\nU1\tI1\t5\t100\r\nU2\tI2\t4\t200"}};
  for (const auto& [name, text] : files) {
    for (const std::string suffix : {"", ".gz"}) {
      testing::write_file(dir / (name + suffix), bom + text);
      ReviewTable t = read_reviews(dir / (name + suffix), {});
      EXPECT_EQ(t.users.ids(), (std::vector<std::string>{"U1", "U2"})) << name << suffix;
      EXPECT_EQ(t.items.ids(), (std::vector<std::string>{"I1", "I2"})) << name << suffix;
      EXPECT_EQ(t.rows.rating, (std::vector<float>{5.0f, 4.0f})) << name << suffix;
      EXPECT_EQ(t.rows.timestamp, (std::vector<int64_t>{100, 200})) << name << suffix;
    }
  }
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// Latin-1 bytes in a review's text (é as E9) are replaced by U+FFFD and the line is read and
// counted; in an id field they are an error naming file, line and field.
TEST(ReviewReader, InvalidUtf8InTextIsReplacedInIdsRefused) {
  testing::TempDir dir;
  testing::write_file(dir / "r.json",
                      "{\"reviewerID\": \"U1\", \"asin\": \"I1\", \"overall\": 5, \"unixReviewTime\": 1, "
                      "\"reviewText\": \"caf\xE9\"}\n"
                      "{\"reviewerID\": \"U2\", \"asin\": \"I2\", \"overall\": 4, \"unixReviewTime\": 2}\n");
  ReviewTable t = read_reviews(dir / "r.json", {});
  EXPECT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.invalid_utf8_lines, 1);
  testing::write_file(dir / "bad.json",
                      "{\"reviewerID\": \"U2\", \"asin\": \"I2\", \"overall\": 4, \"unixReviewTime\": 2}\n"
                      "{\"reviewerID\": \"U\xE9\", \"asin\": \"I1\", \"overall\": 5, \"unixReviewTime\": 1}\n");
  testing::expect_exact_error([&] { read_reviews(dir / "bad.json", {}); },
                              (dir / "bad.json").string() +
                                  ":2: field \"reviewerID\": got invalid UTF-8 bytes, expected a UTF-8 string (an id)");
}

// The delimited formats take ids as bytes: a Latin-1 byte in one is refused the same way.
TEST(ReviewReader, InvalidUtf8InCsvAndRecboleIdsIsRefused) {
  testing::TempDir dir;
  testing::write_file(dir / "r.csv", "I1,U1,5,1\nI2,U\xE9,4,2\n");
  testing::expect_exact_error([&] { read_reviews(dir / "r.csv", {}); },
                              (dir / "r.csv").string() +
                                  ":2: field \"user\": got invalid UTF-8 bytes, expected a UTF-8 string (an id)");
  testing::write_file(dir / "r.inter",
                      "user_id:token\titem_id:token\trating:float\ttimestamp:float\nU1\tI1\t5\t1\nU2\tI\xE9\t4\t2\n");
  testing::expect_exact_error([&] { read_reviews(dir / "r.inter", {}); },
                              (dir / "r.inter").string() +
                                  ":3: field \"item_id\": got invalid UTF-8 bytes, expected a UTF-8 string (an id)");
  testing::write_file(dir / "ok.csv", "I1,U\xC3\xA9,5,1\n");  // é as UTF-8 is an id like any other
  EXPECT_EQ(read_reviews(dir / "ok.csv", {}).rows.size(), 1u);
}

}  // namespace
}  // namespace twotower
