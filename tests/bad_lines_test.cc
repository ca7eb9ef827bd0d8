#include "twotower/data/bad_lines.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

// Without --skip-bad-lines the first report is the error, its message unchanged, and nothing is
// counted.
TEST(BadLines, FirstReportThrowsUnlessSkipping) {
  BadLines strict(false);
  testing::expect_exact_error([&] { strict.report("r.csv:2: field \"rating\": got \"five\", expected a number"); },
                              "r.csv:2: field \"rating\": got \"five\", expected a number");
  EXPECT_EQ(strict.count(), 0);
  EXPECT_TRUE(strict.examples().empty());
}

// Skipping, 7 reports are all counted and the first kMaxExamples = 5 kept in order.
TEST(BadLines, SkippingCountsAllKeepsTheFirstFive) {
  BadLines skip(true);
  for (int i = 1; i <= 7; ++i) skip.report("line " + std::to_string(i));
  EXPECT_EQ(skip.count(), 7);
  EXPECT_EQ(skip.examples(), (std::vector<std::string>{"line 1", "line 2", "line 3", "line 4", "line 5"}));
}

// A token is quoted; newline, carriage return and tab become spaces; past 40 characters it is cut
// and "..." marks the cut (41 x's -> 40 x's + "...").
TEST(BadLines, QuoteTokenQuotesFlattensAndShortens) {
  EXPECT_EQ(quote_token("five"), "\"five\"");
  EXPECT_EQ(quote_token(""), "\"\"");
  EXPECT_EQ(quote_token("a\nb\rc\td"), "\"a b c d\"");
  EXPECT_EQ(quote_token(std::string(40, 'x')), "\"" + std::string(40, 'x') + "\"");
  EXPECT_EQ(quote_token(std::string(41, 'x')), "\"" + std::string(40, 'x') + "...\"");
}

}  // namespace
}  // namespace twotower
