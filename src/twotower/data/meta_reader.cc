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

// ---- JSON lines (simdjson DOM, dispatched at run time to the CPU's fastest kernels) ----

void nested_from_json(simdjson::dom::element value, Nested& out) {
  auto text = [](simdjson::dom::element v) {
    return v.is_string() ? std::string(v.get_string().value_unsafe()) : simdjson::minify(v);
  };
  if (value.is_null() || value.is_object()) return;
  if (!value.is_array()) {
    out.push_back({text(value)});
    return;
  }
  std::vector<std::string> flat;
  simdjson::dom::array array;
  if (value.get_array().get(array)) return;
  for (simdjson::dom::element e : array) {
    if (e.is_array()) {
      nested_from_json(e, out);
    } else if (!e.is_null() && !e.is_object()) {
      flat.push_back(text(e));
    }
  }
  if (!flat.empty()) out.push_back(std::move(flat));
}

// ---- Python literals (nlohmann::json from parse_python_literal) ----

void nested_from_value(const nlohmann::json& v, Nested& out) {
  auto text = [](const nlohmann::json& x) { return x.is_string() ? x.get<std::string>() : x.dump(); };
  if (v.is_null() || v.is_object()) return;
  if (!v.is_array()) {
    out.push_back({text(v)});
    return;
  }
  std::vector<std::string> flat;
  for (const auto& e : v) {
    if (e.is_array()) {
      nested_from_value(e, out);
    } else if (!e.is_null() && !e.is_object()) {
      flat.push_back(text(e));
    }
  }
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

void read_json_meta(LineReader& reader, Metadata& meta) {
  simdjson::dom::parser parser;
  std::string_view line;
  while (reader.next(line)) {
    if (is_blank(line)) continue;
    ++meta.lines;
    auto bad = [&](std::string_view field, const std::string& got, const std::string& expected) {
      meta.bad.report(input_error(reader.path(), reader.line_number(), std::string(field), got, expected));
    };
    simdjson::dom::object object;
    if (!parse_json_object(parser, line, object, bad)) continue;
    RawMeta m;
    bool reported = false;
    for (auto [key, value] : object) {
      if (key == "asin" || key == "parent_asin") {
        if (!value.is_string() && !value.is_number()) {
          reported = true;
          bad(key, value.is_null() ? "null" : value.is_array() ? "an array" : value.is_object() ? "an object" : simdjson::minify(value),
              "a string (the item id)");
          break;
        }
        std::string id = value.is_string() ? std::string(value.get_string().value_unsafe()) : simdjson::minify(value);
        (key == "asin" ? m.has_asin : m.has_parent_asin) = !id.empty();
        (key == "asin" ? m.asin : m.parent_asin) = std::move(id);
      } else if (Nested* slot = m.slot(key)) {
        nested_from_json(value, *slot);
      }
    }
    if (reported) continue;
    if (!m.has_asin && !m.has_parent_asin) {
      bad("asin", "nothing", "a string (the item id; parent_asin in 2023 files)");
      continue;
    }
    add_record(meta, to_record(m));
  }
}

void read_python_meta(LineReader& reader, Metadata& meta) {
  std::string_view line;
  while (reader.next(line)) {
    if (is_blank(line)) continue;
    ++meta.lines;
    auto bad = [&](std::string_view field, const std::string& got, const std::string& expected) {
      meta.bad.report(input_error(reader.path(), reader.line_number(), std::string(field), got, expected));
    };
    nlohmann::json v;
    try {
      v = parse_python_literal(line);
    } catch (const Error& e) {
      bad("", std::string("a malformed Python literal (") + e.what() + ")", "one Python dict per line");
      continue;
    }
    if (!v.is_object()) {
      bad("", std::string("a Python ") + v.type_name(), "one Python dict per line");
      continue;
    }
    RawMeta m;
    bool reported = false;
    for (auto& [key, value] : v.items()) {
      if (key == "asin" || key == "parent_asin") {
        if (!value.is_string() && !value.is_number()) {
          bad(key, value.is_null() ? "None" : value.dump(), "a string (the item id)");
          reported = true;
          break;
        }
        std::string id = value.is_string() ? value.get<std::string>() : value.dump();
        (key == "asin" ? m.asin : m.parent_asin) = id;
        (key == "asin" ? m.has_asin : m.has_parent_asin) = !id.empty();
      } else if (Nested* slot = m.slot(key)) {
        nested_from_value(value, *slot);
      }
    }
    if (reported) continue;
    if (!m.has_asin && !m.has_parent_asin) {
      bad("asin", "nothing", "a string (the item id)");
      continue;
    }
    add_record(meta, to_record(m));
  }
}

void read_recbole_items(LineReader& reader, Metadata& meta) {
  std::string_view line;
  while (reader.next(line) && is_blank(line)) {
  }
  if (reader.line_number() == 0) return;
  std::vector<std::string> names;
  for (size_t start = 0;;) {
    size_t tab = line.find('\t', start);
    std::string_view f = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    names.emplace_back(f.substr(0, f.find(':')));
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  int id_col = -1;
  for (size_t c = 0; c < names.size(); ++c) {
    if (names[c] == "item_id") id_col = static_cast<int>(c);
  }
  if (id_col < 0) {
    fail(input_error(reader.path(), reader.line_number(), "item_id", "a header without it",
                     "a RecBole .item header naming item_id:token"));
  }
  std::vector<std::string_view> f;
  while (reader.next(line)) {
    if (is_blank(line)) continue;
    ++meta.lines;
    f.clear();
    for (size_t start = 0;;) {
      size_t tab = line.find('\t', start);
      f.push_back(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (f.size() != names.size()) {
      meta.bad.report(input_error(reader.path(), reader.line_number(), "",
                                  std::to_string(f.size()) + " tab-separated fields",
                                  std::to_string(names.size()) + " as in the header"));
      continue;
    }
    MetaRecord r;
    r.item_id = std::string(f[static_cast<size_t>(id_col)]);
    if (r.item_id.empty()) {
      meta.bad.report(input_error(reader.path(), reader.line_number(), "item_id", "an empty string", "an id"));
      continue;
    }
    for (size_t c = 0; c < names.size(); ++c) {
      const std::string& n = names[c];
      if (n == "title") r.title = f[c];
      if (n == "brand" || n == "store") r.brand = f[c];
      if ((n == "categories" || n == "category") && !f[c].empty()) r.categories = {std::string(f[c])};
      if (n == "description") r.description = f[c];
      if (n == "main_category" || n == "main_cat") r.main_category = f[c];
    }
    add_record(meta, std::move(r));
  }
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
