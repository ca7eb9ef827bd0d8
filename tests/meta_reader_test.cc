#include "twotower/data/meta_reader.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "twotower/common/error.h"
#include "twotower/data/item_features.h"
#include "twotower/data/python_literal.h"

namespace twotower {
namespace {

using testing::TempDir;

// 2018 JSON: category list, description list, brand; a repeated asin keeps its first line.
TEST(MetaReader, Amazon2018JsonKeepsFirstOfRepeatedIds) {
  TempDir dir;
  testing::write_file(dir / "meta.json.gz",
                      R"({"category": ["Books", "Magazines"], "description": ["One.", "Two."], "title": "T &amp; U", "brand": "B", "asin": "I1", "also_buy": []})"
                      "\n"
                      R"({"asin": "I2", "title": "", "main_cat": "Office Products"})"
                      "\n"
                      R"({"asin": "I1", "title": "second copy"})"
                      "\n");
  Metadata m = read_metadata(dir / "meta.json.gz", {});
  EXPECT_EQ(m.format, MetaFormat::kAmazonJson);
  ASSERT_EQ(m.records.size(), 2u);
  EXPECT_EQ(m.duplicates, 1);
  EXPECT_EQ(m.records[0].title, "T &amp; U");
  EXPECT_EQ(m.records[0].categories, (std::vector<std::string>{"Books", "Magazines"}));
  EXPECT_EQ(m.records[0].description, "One. Two.");
  EXPECT_EQ(m.records[1].main_category, "Office Products");
  EXPECT_EQ(m.index.find("I2"), 1);
}

// 2014 metadata as Python literals: categories is a list of paths, the longest is kept.
TEST(MetaReader, Amazon2014PythonLiterals) {
  TempDir dir;
  testing::write_file(dir / "meta.gz",
                      "{'asin': '0000031852', 'title': \"Girls' Tutu\", 'brand': 'Coxlures', 'description': 'Pink.', "
                      "'categories': [['Sports & Outdoors'], ['Clothing', 'Girls', 'Dance']], 'price': 3.17}\n");
  Metadata m = read_metadata(dir / "meta.gz", {});
  EXPECT_EQ(m.format, MetaFormat::kAmazon2014Py);
  ASSERT_EQ(m.records.size(), 1u);
  EXPECT_EQ(m.records[0].title, "Girls' Tutu");
  EXPECT_EQ(m.records[0].categories, (std::vector<std::string>{"Clothing", "Girls", "Dance"}));
  EXPECT_EQ(m.records[0].description, "Pink.");
}

// 2023 metadata: parent_asin, store as brand, features appended to the description.
TEST(MetaReader, Amazon2023Json) {
  TempDir dir;
  testing::write_file(dir / "meta.jsonl",
                      R"({"main_category": "All Beauty", "title": "Lotion", "features": ["Soft"], "description": ["Rich."], "store": "Acme", "categories": ["Beauty", "Skin"], "parent_asin": "P1"})"
                      "\n");
  Metadata m = read_metadata(dir / "meta.jsonl", {});
  ASSERT_EQ(m.records.size(), 1u);
  EXPECT_EQ(m.records[0].item_id, "P1");
  EXPECT_EQ(m.records[0].brand, "Acme");
  EXPECT_EQ(m.records[0].description, "Rich. Soft");
  EXPECT_EQ(m.records[0].categories, (std::vector<std::string>{"Beauty", "Skin"}));
}

TEST(MetaReader, RecBoleItem) {
  TempDir dir;
  testing::write_file(dir / "g.item", "item_id:token\ttitle:token_seq\n0\tFire Emblem\n1\tEpisode I &amp; II\n");
  Metadata m = read_metadata(dir / "g.item", {});
  EXPECT_EQ(m.format, MetaFormat::kRecBoleItem);
  ASSERT_EQ(m.records.size(), 2u);
  EXPECT_EQ(m.records[1].title, "Episode I &amp; II");
}

// A metadata line without an item id is a bad line with file, line and field.
TEST(MetaReader, MissingItemIdIsAnError) {
  TempDir dir;
  testing::write_file(dir / "meta.json", R"({"asin": "I1"})" "\n" R"({"title": "no id"})" "\n");
  testing::expect_error([&] { read_metadata(dir / "meta.json", {}); },
                        "meta.json:2: field \"asin\": got nothing, expected a string");
  testing::write_file(dir / "meta.py", "{'asin': 'I1'}\n{'asin': 'I2', 'title' 'x'}\n");
  testing::expect_error([&] { read_metadata(dir / "meta.py", {}); },
                        "meta.py:2: got a malformed Python literal (at byte");
  Metadata skipped = read_metadata(dir / "meta.json", {MetaFormat::kAuto, true});
  EXPECT_EQ(skipped.records.size(), 1u);
  EXPECT_EQ(skipped.bad.count(), 1);
}

// Category paths: HTML removed, empty and immediately repeated levels dropped, main category
// as fallback.
TEST(ItemFeatures, CleanCategoryPath) {
  MetaRecord r;
  r.categories = {"Gift Cards", "Gift Cards", "", "<b>Restaurants</b>"};
  EXPECT_EQ(clean_category_path(r), (std::vector<std::string>{"Gift Cards", "Restaurants"}));
  MetaRecord only_main;
  only_main.main_category = "Magazine Subscriptions";
  EXPECT_EQ(clean_category_path(only_main), (std::vector<std::string>{"Magazine Subscriptions"}));
}

// Reviewed items keep their indices, catalogue-only items follow in metadata order, items
// without metadata get empty features; vocabularies hold path prefixes.
TEST(ItemFeatures, BuildItems) {
  Metadata meta;
  for (const char* id : {"C", "A", "D"}) {
    MetaRecord r;
    r.item_id = id;
    r.title = std::string("<i>") + id + "</i>";
    r.brand = id == std::string("A") ? "Acme" : "";
    r.categories = {"Books", id == std::string("D") ? "Poetry" : "Fiction"};
    r.description = "about " + std::string(id);
    meta.index.intern(id);
    meta.records.push_back(r);
  }
  Dataset d;
  CatalogueCounts c = build_items({"A", "B"}, &meta, false, d);
  EXPECT_EQ(d.item_ids, (std::vector<std::string>{"A", "B", "C", "D"}));
  EXPECT_EQ(c.reviewed, 2);
  EXPECT_EQ(c.reviewed_with_meta, 1);
  EXPECT_EQ(c.catalogue_only, 2);
  EXPECT_EQ(d.items.title, (std::vector<std::string>{"A", "", "C", "D"}));
  EXPECT_EQ(d.items.text[0], "A. about A");
  EXPECT_EQ(d.items.category_vocab, (std::vector<std::string>{"<unknown>", "Books", "Books > Fiction", "Books > Poetry"}));
  EXPECT_EQ(d.items.category_idx, (std::vector<int32_t>{2, 0, 2, 3}));
  EXPECT_EQ(d.items.category_ids[3], (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(d.items.brand_idx, (std::vector<int32_t>{1, 0, 0, 0}));
  EXPECT_EQ(d.items.categories[0], "Books > Fiction");

  Dataset reviewed_only;
  build_items({"A", "B"}, &meta, true, reviewed_only);
  EXPECT_EQ(reviewed_only.item_ids, (std::vector<std::string>{"A", "B"}));
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// A Latin-1 title (é as E9) is read with U+FFFD in its place and counted; a Latin-1 item id is an
// error naming file, line and field.
TEST(MetaReader, InvalidUtf8InTextIsReplacedInIdsRefused) {
  testing::TempDir dir;
  testing::write_file(dir / "meta.json", "{\"asin\": \"I2\", \"title\": \"ok\"}\n"
                                         "{\"asin\": \"I1\", \"title\": \"Caf\xE9 Magazine\"}\n");
  Metadata m = read_metadata(dir / "meta.json", {});
  ASSERT_EQ(m.records.size(), 2u);
  EXPECT_EQ(m.records[1].title, "Caf\xEF\xBF\xBD Magazine");
  EXPECT_EQ(m.invalid_utf8_lines, 1);
  testing::write_file(dir / "bad.json", "{\"asin\": \"I2\", \"title\": \"ok\"}\n{\"asin\": \"I\xE9\", \"title\": \"t\"}\n");
  testing::expect_exact_error([&] { read_metadata(dir / "bad.json", {}); },
                              (dir / "bad.json").string() +
                                  ":2: field \"asin\": got invalid UTF-8 bytes, expected a UTF-8 string (the item id)");
}

}  // namespace
}  // namespace twotower

namespace twotower {
namespace {

// Found by fuzz/python_literal_fuzz: Latin-1 bytes in a 2014 Python-literal line made nlohmann::json
// throw its own type_error (an "internal error"). The text now reads with U+FFFD, counted; an id
// with such bytes is an error naming the field.
TEST(MetaReader, InvalidUtf8InPythonLiterals) {
  testing::TempDir dir;
  testing::write_file(dir / "meta.py", "{'asin': 'I1', 'title': 'Caf\xE9'}\n{'asin': 'I2', 'title': 'ok'}\n");
  Metadata m = read_metadata(dir / "meta.py", {MetaFormat::kAmazon2014Py, false});
  ASSERT_EQ(m.records.size(), 2u);
  EXPECT_EQ(m.records[0].title, "Caf\xEF\xBF\xBD");
  EXPECT_EQ(m.invalid_utf8_lines, 1);
  EXPECT_EQ(parse_python_literal("{'a\xE9': {'b': 1}}").dump(), "{\"a\xEF\xBF\xBD\":{\"b\":1}}");
  testing::write_file(dir / "bad.py", "{'asin': 'I\xE9', 'title': 't'}\n");
  testing::expect_exact_error([&] { read_metadata(dir / "bad.py", {MetaFormat::kAmazon2014Py, false}); },
                              (dir / "bad.py").string() +
                                  ":1: field \"asin\": got invalid UTF-8 bytes, expected a UTF-8 string (the item id)");
}

}  // namespace
}  // namespace twotower
