#include "twotower/serve/http/http_json.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>

#include <nlohmann/json.hpp>

#include "twotower/common/error.h"
#include "twotower/common/text.h"

namespace twotower {
namespace {

using Json = nlohmann::json;

// Longer echoes of a bad value are cut: a message names the value, it does not copy the body.
constexpr size_t kMaxEchoChars = 60;
// Deeper bodies are refused while parsing: the API nests 3 levels, and serializing a value
// (to echo it in a message) recurses once per level.
constexpr int kMaxJsonDepth = 32;

std::string dump(const Json& json) { return json.dump(-1, ' ', false, Json::error_handler_t::replace); }

// `"ten" (string)`: the value as JSON, shortened, and its type.
std::string describe(const Json& value) {
  std::string text = dump(value);
  if (text.size() > kMaxEchoChars) text = text.substr(0, kMaxEchoChars) + "...";
  return str_cat(text, " (", value.type_name(), ")");
}

[[noreturn]] void bad_field(const std::string& field, const Json& value, const std::string& expected) {
  fail("field \"", field, "\": got ", describe(value), ", expected ", expected);
}

// The body as JSON; `is_discarded()` when it does not parse. Throws Error when it nests too deep.
Json parse_json(const std::string& body) {
  Json::parser_callback_t limit_depth = [](int depth, Json::parse_event_t, Json&) {
    if (depth > kMaxJsonDepth) fail("JSON body: got nesting deeper than ", kMaxJsonDepth, " levels, expected at most 3");
    return true;
  };
  return Json::parse(body, limit_depth, /*allow_exceptions=*/false);
}

Json parse_object(const std::string& body, const std::string& what) {
  Json json = parse_json(body);
  if (json.is_discarded()) {
    fail("malformed JSON body: got ", body.size(), " bytes that do not parse, expected ", what);
  }
  if (!json.is_object()) fail("JSON body: got ", describe(json), ", expected ", what);
  return json;
}

void check_fields(const Json& object, const std::string& where, std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }) == allowed.end()) {
      std::string names;
      for (const char* a : allowed) names += str_cat(names.empty() ? "" : ", ", "\"", a, "\"");
      fail(where, "unknown field \"", key, "\", expected one of ", names);
    }
  }
}

std::string string_field(const Json& value, const std::string& field) {
  if (!value.is_string()) bad_field(field, value, "a string");
  return value.get<std::string>();
}

std::vector<std::string> string_array(const Json& value, const std::string& field) {
  if (!value.is_array()) bad_field(field, value, "an array of item id strings");
  std::vector<std::string> out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) out.push_back(string_field(value[i], str_cat(field, "[", i, "]")));
  return out;
}

// The parser stores every non-negative integer as unsigned: negative ones, fractions and
// numbers past 2^64 (parsed as floats) are all out of range.
int64_t k_field(const Json& value, int64_t max_k) {
  const bool in_range = value.is_number_unsigned() && value.get<uint64_t>() <= static_cast<uint64_t>(max_k) &&
                        k_in_range(static_cast<int64_t>(value.get<uint64_t>()), max_k);
  if (!in_range) bad_field("k", value, k_range_text(max_k));
  return static_cast<int64_t>(value.get<uint64_t>());
}

std::vector<float> float_array(const Json& value, const std::string& field) {
  if (!value.is_array()) bad_field(field, value, "an array of numbers");
  std::vector<float> out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& x = value[i];
    bool finite_float = x.is_number() && std::abs(x.get<double>()) <= std::numeric_limits<float>::max();
    if (!finite_float) bad_field(str_cat(field, "[", i, "]"), x, "a number within float range");
    out.push_back(x.get<float>());
  }
  return out;
}

NewItem new_item(const Json& json, size_t index) {
  std::string where = str_cat("items[", index, "]");
  if (!json.is_object()) fail(where, ": got ", describe(json), ", expected an object with \"item_id\"");
  check_fields(json, where + ": ", {"item_id", "title", "category", "brand", "text_embedding"});
  if (!json.contains("item_id")) fail(where, ": missing field \"item_id\", expected a non-empty string");
  NewItem item;
  item.item_id = string_field(json["item_id"], where + ".item_id");
  if (item.item_id.empty()) bad_field(where + ".item_id", json["item_id"], "a non-empty string");
  if (json.contains("title")) item.title = string_field(json["title"], where + ".title");
  if (json.contains("category")) item.category = string_field(json["category"], where + ".category");
  if (json.contains("brand")) item.brand = string_field(json["brand"], where + ".brand");
  if (json.contains("text_embedding")) {
    item.text_embedding = float_array(json["text_embedding"], where + ".text_embedding");
  }
  return item;
}

}  // namespace

RecommendRequest parse_recommend_request(const std::string& body, int64_t max_k) {
  const std::string expected = "an object with \"user_id\" or \"history\"";
  Json json = parse_object(body, expected);
  check_fields(json, "", {"user_id", "history", "k", "exclude_seen", "exclude"});
  bool has_user = json.contains("user_id");
  bool has_history = json.contains("history");
  if (has_user == has_history) {
    fail("JSON body: got ", has_user ? "both \"user_id\" and \"history\"" : "neither \"user_id\" nor \"history\"",
         ", expected exactly one of them");
  }
  RecommendRequest request;
  if (has_user) {
    request.user_id = string_field(json["user_id"], "user_id");
    if (request.user_id.empty()) bad_field("user_id", json["user_id"], "a non-empty string");
  } else {
    request.history = string_array(json["history"], "history");
  }
  request.k = json.contains("k") ? k_field(json["k"], max_k) : default_k(max_k);
  if (json.contains("exclude_seen")) {
    if (!json["exclude_seen"].is_boolean()) bad_field("exclude_seen", json["exclude_seen"], "true or false");
    request.exclude_seen = json["exclude_seen"].get<bool>();
  }
  if (json.contains("exclude")) request.exclude = string_array(json["exclude"], "exclude");
  return request;
}

int64_t parse_k_parameter(const std::string* text, int64_t max_k) {
  if (text == nullptr) return default_k(max_k);
  int64_t k = 0;
  if (!parse_int64(*text, &k) || !k_in_range(k, max_k)) {
    fail("query parameter \"k\": got \"", text->substr(0, kMaxEchoChars), "\", expected ", k_range_text(max_k));
  }
  return k;
}

std::vector<NewItem> parse_new_items(const std::string& body) {
  Json json = parse_json(body);
  const std::string expected = "an array of items or an object {\"items\": [...]}";
  if (json.is_discarded()) fail("malformed JSON body: got ", body.size(), " bytes that do not parse, expected ", expected);
  if (json.is_object()) {
    check_fields(json, "", {"items"});
    if (!json.contains("items")) fail("JSON body: missing field \"items\", expected ", expected);
    json = json["items"];
  }
  if (!json.is_array()) fail("JSON body: got ", describe(json), ", expected ", expected);
  std::vector<NewItem> items;
  items.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) items.push_back(new_item(json[i], i));
  return items;
}

std::string parse_reload_request(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return "";
  Json json = parse_object(body, "an empty body or an object {\"version\": \"...\"}");
  check_fields(json, "", {"version"});
  return json.contains("version") ? string_field(json["version"], "version") : "";
}

std::string recommendations_json(const std::vector<Recommendation>& items, const QuerySource* source) {
  Json list = Json::array();
  for (const Recommendation& r : items) list.push_back({{"item_id", r.item_id}, {"title", r.title}, {"score", r.score}});
  Json out = {{"items", std::move(list)}};
  if (source != nullptr) out["source"] = to_string(*source);
  return dump(out);
}

std::string health_json(const ExportInfo& info) {
  return dump({{"status", "ok"}, {"version", info.version}, {"path", info.path}, {"num_users", info.num_users},
               {"num_items", info.num_items}, {"dim", info.dim}, {"index_kind", info.index_kind}});
}

std::string error_json(const std::string& message) { return dump({{"error", message}}); }

std::string added_json(int64_t added) { return dump({{"added", added}}); }

std::string reloaded_json(const ExportInfo& info) {
  return dump({{"reloaded", true}, {"version", info.version}, {"num_items", info.num_items}});
}

}  // namespace twotower
