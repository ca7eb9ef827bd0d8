#include "twotower/data/meta_reader.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "twotower/common/error.h"
#include "twotower/common/text.h"
#include "twotower/data/json_line.h"
#include "twotower/data/line_reader.h"
#include "twotower/data/python_literal.h"

namespace twotower {
namespace {

/// A metadata value as nested strings: "a" -> {{a}}, ["a","b"] -> {{a,b}}, [["a"],["b","c"]]
/// -> {{a},{b,c}}; numbers keep their text, null and objects give nothing.
using Nested = std::vector<std::vector<std::string>>;

/// The fields of one metadata line under every name any release uses.
struct RawMeta {
  std::string asin, parent_asin;
  bool has_asin = false, has_parent_asin = false;
  Nested title, brand, store, category, categories, description, features, main_cat, main_category;

  Nested* slot(std::string_view key) {
    if (key == "title") return &title;
    if (key == "brand") return &brand;
    if (key == "store") return &store;
    if (key == "category") return &category;
    if (key == "categories") return &categories;
    if (key == "description") return &description;
    if (key == "features") return &features;
    if (key == "main_cat") return &main_cat;
    if (key == "main_category") return &main_category;
    return nullptr;
  }
};

std::string join(const Nested& v, const char* sep) {
  std::string out;
  for (const auto& path : v) {
    for (const auto& s : path) {
      if (s.empty()) continue;
      if (!out.empty()) out += sep;
      out += s;
    }
  }
  return out;
}

MetaRecord to_record(RawMeta& m) {
  MetaRecord r;
  r.item_id = m.has_parent_asin ? m.parent_asin : m.asin;
  r.title = join(m.title, " ");
  r.brand = join(m.brand.empty() ? m.store : m.brand, " ");
  const Nested& paths = m.category.empty() ? m.categories : m.category;
  const std::vector<std::string>* longest = nullptr;
  for (const auto& p : paths) {
    if (!longest || p.size() > longest->size()) longest = &p;
  }
  if (longest) r.categories = *longest;
  r.description = join(m.description, " ");
  std::string features = join(m.features, " ");
  if (!features.empty()) r.description += (r.description.empty() ? "" : " ") + features;
  r.main_category = join(m.main_cat.empty() ? m.main_category : m.main_cat, " ");
  return r;
}

// The two value types a metadata line parses into, read through one interface so that one
// assembly serves both: simdjson DOM elements (JSON lines, dispatched at run time to the CPU's
// fastest kernels) and nlohmann::json values (Python literals, from parse_python_literal).
struct JsonValues {
  using Value = simdjson::dom::element;
  using Object = simdjson::dom::object;
  static constexpr const char* kMissingId = "a string (the item id; parent_asin in 2023 files)";

  static bool is_id(Value v) { return v.is_string() || v.is_number(); }
  static bool is_nothing(Value v) { return v.is_null() || v.is_object(); }
  static bool is_array(Value v) { return v.is_array(); }
  static std::string text(Value v) {
    return v.is_string() ? std::string(v.get_string().value_unsafe()) : simdjson::minify(v);
  }
  static std::string got(Value v) {
    return v.is_null() ? "null" : v.is_array() ? "an array" : v.is_object() ? "an object" : simdjson::minify(v);
  }
  template <typename F>
  static void for_each_element(Value v, const F& f) {
    simdjson::dom::array array;
    if (v.get_array().get(array)) return;
    for (simdjson::dom::element e : array) f(e);
  }
  /// Calls f(key, value) for each member until f returns false.
  template <typename F>
  static void for_each_member(Object object, const F& f) {
    for (auto [key, value] : object) {
      if (!f(key, value)) return;
    }
  }
};

struct PythonValues {
  using Value = const nlohmann::json&;
  using Object = const nlohmann::json&;
  static constexpr const char* kMissingId = "a string (the item id)";

  static bool is_id(Value v) { return v.is_string() || v.is_number(); }
  static bool is_nothing(Value v) { return v.is_null() || v.is_object(); }
  static bool is_array(Value v) { return v.is_array(); }
  static std::string text(Value v) { return v.is_string() ? v.get<std::string>() : dump(v); }
  static std::string got(Value v) { return v.is_null() ? "None" : dump(v); }
  static std::string dump(Value v) { return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
  template <typename F>
  static void for_each_element(Value v, const F& f) {
    for (const auto& e : v) f(e);
  }
  template <typename F>
  static void for_each_member(Object object, const F& f) {
    for (const auto& member : object.items()) {
      if (!f(std::string_view(member.key()), member.value())) return;
    }
  }
};

/// A metadata value as Nested (see above) appended to `out`.
template <typename V>
void add_nested(typename V::Value value, Nested& out) {
  if (V::is_nothing(value)) return;
  if (!V::is_array(value)) {
    out.push_back({V::text(value)});
    return;
  }
  std::vector<std::string> flat;
  V::for_each_element(value, [&](typename V::Value e) {
    if (V::is_array(e)) {
      add_nested<V>(e, out);
    } else if (!V::is_nothing(e)) {
      flat.push_back(V::text(e));
    }
  });
  if (!flat.empty()) out.push_back(std::move(flat));
}

void add_record(Metadata& meta, MetaRecord record) {
  size_t before = meta.index.size();
  meta.index.intern(record.item_id);
  if (meta.index.size() == before) {
    ++meta.duplicates;
    return;
  }
  meta.records.push_back(std::move(record));
}

/// Assembles the record of one parsed line and adds it, or reports the line through `bad`: an
/// item id that is not a string or number, or a line with neither asin nor parent_asin.
template <typename V, typename Bad>
void add_line(typename V::Object object, const Bad& bad, Metadata& meta, bool repaired = false) {
  RawMeta m;
  bool reported = false;
  V::for_each_member(object, [&](std::string_view key, typename V::Value value) {
    if (key == "asin" || key == "parent_asin") {
      if (!V::is_id(value)) {
        bad(key, V::got(value), "a string (the item id)");
        reported = true;
        return false;
      }
      std::string id = V::text(value);
      if (repaired && id.find(kReplacementCharacter) != std::string::npos) {
        bad(key, "invalid UTF-8 bytes", "a UTF-8 string (the item id)");
        reported = true;
        return false;
      }
      (key == "asin" ? m.has_asin : m.has_parent_asin) = !id.empty();
      (key == "asin" ? m.asin : m.parent_asin) = std::move(id);
    } else if (Nested* slot = m.slot(key)) {
      add_nested<V>(value, *slot);
    }
    return true;
  });
  if (reported) return;
  if (!m.has_asin && !m.has_parent_asin) return bad("asin", "nothing", V::kMissingId);
  add_record(meta, to_record(m));
  if (repaired) ++meta.invalid_utf8_lines;
}

/// Calls `f(line, bad)` for every non-blank line, counting it in meta.lines, where
/// `bad(field, got, expected)` reports the line with its file and number.
template <typename F>
void for_each_data_line(LineReader& reader, Metadata& meta, const F& f) {
  std::string_view line;
  while (reader.next(line)) {
    if (is_blank(line)) continue;
    ++meta.lines;
    auto bad = [&](std::string_view field, const std::string& got, const std::string& expected) {
      meta.bad.report(input_error(reader.path(), reader.line_number(), std::string(field), got, expected));
    };
    f(line, bad);
  }
}

void read_json_meta(LineReader& reader, Metadata& meta) {
  simdjson::dom::parser parser;
  for_each_data_line(reader, meta, [&](std::string_view line, const auto& bad) {
    simdjson::dom::object object;
    bool repaired = false;
    if (parse_json_object(parser, line, object, bad, &repaired)) add_line<JsonValues>(object, bad, meta, repaired);
  });
}

void read_python_meta(LineReader& reader, Metadata& meta) {
  for_each_data_line(reader, meta, [&](std::string_view line, const auto& bad) {
    nlohmann::json v;
    try {
      v = parse_python_literal(line);
    } catch (const Error& e) {
      return bad("", std::string("a malformed Python literal (") + e.what() + ")", "one Python dict per line");
    }
    if (!v.is_object()) return bad("", std::string("a Python ") + v.type_name(), "one Python dict per line");
    add_line<PythonValues>(v, bad, meta, !simdjson::validate_utf8(line.data(), line.size()));
  });
}

/// The tab-separated fields of `line` (views into it), empty ones included.
void split_tabs(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  for (size_t start = 0;;) {
    size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) return;
    start = tab + 1;
  }
}

void read_recbole_items(LineReader& reader, Metadata& meta) {
  std::string_view line;
  while (reader.next(line) && is_blank(line)) {
  }
  if (reader.line_number() == 0) return;
  std::vector<std::string_view> f;
  split_tabs(line, f);
  std::vector<std::string> names;
  for (std::string_view column : f) names.emplace_back(column.substr(0, column.find(':')));
  int id_col = -1;
  for (size_t c = 0; c < names.size(); ++c) {
    if (names[c] == "item_id") id_col = static_cast<int>(c);
  }
  if (id_col < 0) {
    fail(input_error(reader.path(), reader.line_number(), "item_id", "a header without it",
                     "a RecBole .item header naming item_id:token"));
  }
  for_each_data_line(reader, meta, [&](std::string_view row, const auto& bad) {
    split_tabs(row, f);
    if (f.size() != names.size()) {
      return bad("", std::to_string(f.size()) + " tab-separated fields",
                 std::to_string(names.size()) + " as in the header");
    }
    MetaRecord r;
    r.item_id = std::string(f[static_cast<size_t>(id_col)]);
    if (r.item_id.empty()) return bad("item_id", "an empty string", "an id");
    for (size_t c = 0; c < names.size(); ++c) {
      const std::string& n = names[c];
      if (n == "title") r.title = f[c];
      if (n == "brand" || n == "store") r.brand = f[c];
      if ((n == "categories" || n == "category") && !f[c].empty()) r.categories = {std::string(f[c])};
      if (n == "description") r.description = f[c];
      if (n == "main_category" || n == "main_cat") r.main_category = f[c];
    }
    add_record(meta, std::move(r));
  });
}

}  // namespace

Metadata read_metadata(const std::filesystem::path& path, const MetaReadOptions& options) {
  Metadata meta;
  meta.format = resolve_meta_format(path, options.format);
  meta.bad = BadLines(options.skip_bad_lines);
  LineReader reader(path);
  switch (meta.format) {
    case MetaFormat::kAmazonJson: read_json_meta(reader, meta); break;
    case MetaFormat::kAmazon2014Py: read_python_meta(reader, meta); break;
    case MetaFormat::kRecBoleItem: read_recbole_items(reader, meta); break;
    case MetaFormat::kAuto: fail("internal: metadata format not resolved");
  }
  if (meta.records.empty()) {
    fail(path.string(), ": no usable metadata rows (", meta.lines, " data lines, ", meta.bad.count(),
         " bad) in a file read as ", meta_format_name(meta.format));
  }
  return meta;
}

}  // namespace twotower
