#include "twotower/data/python_literal.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

// A 2014 metadata line: single quotes, nested lists, a dict, numbers.
TEST(PythonLiteral, Parses2014MetadataLine) {
  auto v = parse_python_literal(
      "{'asin': '0000031852', 'title': 'Girls Ballet Tutu Zebra Hot Pink', 'price': 3.17, "
      "'salesRank': {'Toys & Games': 211836}, 'categories': [['Sports & Outdoors', 'Other Sports', 'Dance']]}");
  EXPECT_EQ(v["asin"], "0000031852");
  EXPECT_DOUBLE_EQ(v["price"].get<double>(), 3.17);
  EXPECT_EQ(v["salesRank"]["Toys & Games"], 211836);
  EXPECT_EQ(v["categories"][0][2], "Dance");
}

// Double-quoted strings holding a quote, escapes, True/False/None, tuples and trailing commas.
TEST(PythonLiteral, QuotesEscapesAndConstants) {
  auto v = parse_python_literal(R"({"title": "Kid's Book", 'd': 'It\'s \"x\"\n\xe9\u00e9', 'a': (1, 2,), 'b': True, 'c': None, 'f': False,})");
  EXPECT_EQ(v["title"], "Kid's Book");
  EXPECT_EQ(v["d"], "It's \"x\"\n\xC3\xA9\xC3\xA9");
  EXPECT_EQ(v["a"], nlohmann::json({1, 2}));
  EXPECT_EQ(v["b"], true);
  EXPECT_TRUE(v["c"].is_null());
  EXPECT_EQ(v["f"], false);
}

TEST(PythonLiteral, ErrorNamesTheOffset) {
  testing::expect_exact_error([&] { parse_python_literal("{'asin': 'x', 'title' 'y'}"); },
                              "at byte 25: got '}', expected ':' after a dict key");
  EXPECT_THROW(parse_python_literal("{'asin': 'unterminated}"), Error);
  EXPECT_THROW(parse_python_literal("{'a': 1} extra"), Error);
}

}  // namespace
}  // namespace twotower
