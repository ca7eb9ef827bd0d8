#include "twotower/serve/http/http_json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_util.h"

namespace twotower {
namespace {

// Fields left out take the RecommendRequest defaults; k's default is capped by max_k.
TEST(HttpJson, RecommendRequestDefaultsAndValues) {
  RecommendRequest r = parse_recommend_request(R"({"user_id": "u7"})", 100);
  EXPECT_EQ(r.user_id, "u7");
  EXPECT_TRUE(r.history.empty());
  EXPECT_EQ(r.k, 10);
  EXPECT_TRUE(r.exclude_seen);
  EXPECT_TRUE(r.exclude.empty());
  EXPECT_EQ(parse_recommend_request(R"({"user_id": "u7"})", 4).k, 4);
  r = parse_recommend_request(R"({"history": ["i1", "i2"], "k": 100, "exclude_seen": false, "exclude": ["i9"]})", 100);
  EXPECT_EQ(r.user_id, "");
  EXPECT_EQ(r.history, (std::vector<std::string>{"i1", "i2"}));
  EXPECT_EQ(r.k, 100);
  EXPECT_FALSE(r.exclude_seen);
  EXPECT_EQ(r.exclude, (std::vector<std::string>{"i9"}));
  testing::expect_exact_error([] { parse_recommend_request(R"({"user_id": "u", "k": 18446744073709551616})", 100); },
                              "field \"k\": got 1.8446744073709552e+19 (number), expected an integer in [1, 100]");
}

TEST(HttpJson, KParameter) {
  EXPECT_EQ(parse_k_parameter(nullptr, 50), 10);
  EXPECT_EQ(parse_k_parameter(nullptr, 3), 3);
  std::string text = "50";
  EXPECT_EQ(parse_k_parameter(&text, 50), 50);
  for (std::string bad : {"0", "51", "-1", "5x", " 5", "1e1", "99999999999999999999"}) {
    testing::expect_exact_error([&] { parse_k_parameter(&bad, 50); },
                                "query parameter \"k\": got \"" + bad + "\", expected an integer in [1, 50]");
  }
}

// Every field reaches the NewItem; numbers of the embedding become floats in order.
TEST(HttpJson, NewItemsCarryEveryField) {
  std::vector<NewItem> items = parse_new_items(
      R"([{"item_id": "n1", "title": "Lamp", "category": "Home", "brand": "Acme", "text_embedding": [0.5, -2, 1e-3]},
          {"item_id": "n2"}])");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].item_id, "n1");
  EXPECT_EQ(items[0].title, "Lamp");
  EXPECT_EQ(items[0].category, "Home");
  EXPECT_EQ(items[0].brand, "Acme");
  EXPECT_EQ(items[0].text_embedding, (std::vector<float>{0.5f, -2.0f, 1e-3f}));
  EXPECT_EQ(items[1].item_id, "n2");
  EXPECT_EQ(items[1].title, "");
  EXPECT_TRUE(items[1].text_embedding.empty());
  EXPECT_TRUE(parse_new_items(R"({"items": []})").empty());
  testing::expect_exact_error([] { parse_new_items(R"([{"item_id": "x", "text_embedding": [1e300]}])"); },
                              "field \"items[0].text_embedding[0]\": got 1e+300 (number), expected a number within "
                              "float range");
  testing::expect_exact_error([] { parse_new_items(R"([{"item_id": "x", "colour": "red"}])"); },
                              "items[0]: unknown field \"colour\", expected one of \"item_id\", \"title\", "
                              "\"category\", \"brand\", \"text_embedding\"");
  testing::expect_exact_error([] { parse_new_items("[3]"); },
                              "items[0]: got 3 (number), expected an object with \"item_id\"");
}

TEST(HttpJson, ReloadRequest) {
  EXPECT_EQ(parse_reload_request(""), "");
  EXPECT_EQ(parse_reload_request(" \n"), "");
  EXPECT_EQ(parse_reload_request("{}"), "");
  EXPECT_EQ(parse_reload_request(R"({"version": "v000003"})"), "v000003");
  testing::expect_exact_error([] { parse_reload_request("v3"); },
                              "malformed JSON body: got 2 bytes that do not parse, expected an empty body or an "
                              "object {\"version\": \"...\"}");
}

// Long values are cut in messages; invalid UTF-8 in an id is replaced, not an exception.
TEST(HttpJson, WrittenJson) {
  testing::expect_exact_error(
      [] { parse_recommend_request(R"({"user_id": [")" + std::string(100, 'x') + "\"]}", 10); },
      "field \"user_id\": got [\"" + std::string(58, 'x') + "... (array), expected a string");
  EXPECT_EQ(error_json("bad \xff id"), "{\"error\":\"bad \xEF\xBF\xBD id\"}");
  QuerySource source = QuerySource::kPopularity;
  EXPECT_EQ(recommendations_json({{"i1", "T", 0.5f}}, &source),
            R"({"items":[{"item_id":"i1","score":0.5,"title":"T"}],"source":"popularity"})");
  EXPECT_EQ(recommendations_json({}, nullptr), R"({"items":[]})");
  EXPECT_EQ(added_json(3), R"({"added":3})");
}

}  // namespace
}  // namespace twotower
