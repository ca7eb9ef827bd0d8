#include "twotower/data/dataset.h"

#include <cmath>
#include <fstream>

#include "twotower/common/atomic_file.h"
#include "twotower/common/enum_names.h"
#include "twotower/common/error.h"
#include "twotower/data/parquet_io.h"

namespace fs = std::filesystem;

namespace twotower {

namespace {

// The first name of a split is what the files hold.
constexpr EnumName<Split> kSplitNames[] = {{Split::kTrain, "train"},
                                           {Split::kValid, "valid"},
                                           {Split::kValid, "validation"},
                                           {Split::kValid, "val"},
                                           {Split::kTest, "test"}};

}  // namespace

const char* split_name(Split split) { return enum_name(kSplitNames, split); }

Split parse_split(const std::string& name) {
  if (auto split = enum_value(kSplitNames, name)) return *split;
  fail("split: got \"", name, "\", expected train, valid or test");
}

void Interactions::reserve(size_t n) {
  user.reserve(n);
  item.reserve(n);
  rating.reserve(n);
  timestamp.reserve(n);
  split.reserve(n);
}

void ItemFeatures::resize(size_t n) {
  for (auto* column : {&title, &brand, &categories, &description, &text}) column->resize(n);
  category_idx.resize(n, 0);
  brand_idx.resize(n, 0);
  category_ids.resize(n);
}

std::vector<int64_t> Dataset::rows_of(Split s) const {
  std::vector<int64_t> rows;
  for (size_t i = 0; i < interactions.size(); ++i) {
    if (interactions.split[i] == s) rows.push_back(static_cast<int64_t>(i));
  }
  return rows;
}

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) fail(path.string(), ": cannot open");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), ": not valid JSON: ", e.what());
  }
}

void write_json_file(const nlohmann::json& value, const fs::path& path) {
  write_file_atomically(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp);
    if (!out) fail(tmp.string(), ": cannot open for writing");
    out << value.dump(2) << '\n';
    out.close();
    if (!out) fail(tmp.string(), ": write failed");
  });
}

std::vector<std::string> read_id_map(const fs::path& path) {
  nlohmann::json map = read_json_file(path);
  if (!map.is_object()) fail(path.string(), ": got ", map.type_name(), ", expected an object {\"id\": index}");
  std::vector<std::string> ids(map.size());
  std::vector<bool> seen(map.size(), false);
  for (const auto& [raw, value] : map.items()) {
    if (!value.is_number_integer()) {
      fail(input_error(path.string(), 0, raw, value.dump(), "an integer index"));
    }
    int64_t idx = value.get<int64_t>();
    if (idx < 0 || idx >= static_cast<int64_t>(ids.size()) || seen[static_cast<size_t>(idx)]) {
      fail(input_error(path.string(), 0, raw, std::to_string(idx),
                       "a unique index in [0, " + std::to_string(ids.size()) + ")"));
    }
    seen[static_cast<size_t>(idx)] = true;
    ids[static_cast<size_t>(idx)] = raw;
  }
  return ids;
}

void write_id_map(const std::vector<std::string>& ids, const fs::path& path) {
  // Written by hand in index order: nlohmann::ordered_json inserts in linear time per key,
  // which is quadratic over a million ids.
  write_file_atomically(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp);
    if (!out) fail(tmp.string(), ": cannot open for writing");
    std::string buffer = "{";
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i > 0) buffer += ", ";
      buffer += nlohmann::json(ids[i]).dump();
      buffer += ": ";
      buffer += std::to_string(i);
      if (buffer.size() > (1 << 20)) {
        out << buffer;
        buffer.clear();
      }
    }
    out << buffer << "}\n";
    out.close();
    if (!out) fail(tmp.string(), ": write failed");
  });
}

void save_dataset(const Dataset& data, const fs::path& dir) {
  const auto& in = data.interactions;
  {
    // The columns are borrowed, not copied: peak memory stays near the interaction columns.
    ParquetWriter w;
    w.add_int64_view("user_idx", in.user);
    w.add_int64_view("item_idx", in.item);
    w.add_float_view_nan_as_null("rating", in.rating);
    w.add_int64_view("timestamp", in.timestamp);
    if (in.split.size() != in.size()) fail("interactions: got ", in.split.size(), " split labels for ", in.size(), " rows");
    std::vector<int8_t> codes(in.size());
    for (size_t i = 0; i < in.size(); ++i) codes[i] = static_cast<int8_t>(in.split[i]);
    w.add_string_codes("split", codes, {split_name(Split::kTrain), split_name(Split::kValid), split_name(Split::kTest)});
    w.write(dir / "interactions_mapped.parquet");
  }
  write_id_map(data.user_ids, dir / "uid2idx.json");
  write_id_map(data.item_ids, dir / "iid2idx.json");
  write_json_file(data.splits, dir / "splits.json");
  if (!data.stats.is_null()) write_json_file(data.stats, dir / "stats.json");

  const auto& it = data.items;
  if (it.title.size() != data.item_ids.size()) {
    fail("item features: got ", it.title.size(), " rows, expected one per item (", data.item_ids.size(), ")");
  }
  std::vector<int64_t> item_idx(data.item_ids.size());
  for (size_t i = 0; i < item_idx.size(); ++i) item_idx[i] = static_cast<int64_t>(i);
  ParquetWriter w;
  w.add_int64("item_idx", item_idx);
  w.add_string("item_id", data.item_ids);
  w.add_string("title", it.title);
  w.add_string("brand", it.brand);
  w.add_string("categories", it.categories);
  w.add_string("description", it.description);
  w.add_string("text", it.text);
  w.add_int32("category_idx", it.category_idx);
  w.add_int32("brand_idx", it.brand_idx);
  w.add_int32_list("category_ids", it.category_ids);
  w.write(dir / "items.parquet");
  write_json_file({{"categories", it.category_vocab}, {"brands", it.brand_vocab}}, dir / "features.json");
}

namespace {

void check_range(const std::vector<int64_t>& values, int64_t size, const fs::path& file,
                 const std::string& column, const std::string& map_name) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0 || values[i] >= size) {
      fail(input_error(file.string(), static_cast<long long>(i) + 1, column, std::to_string(values[i]),
                       "an index in [0, " + std::to_string(size) + ") of " + map_name));
    }
  }
}

}  // namespace

Dataset load_dataset(const fs::path& dir, ItemText text_columns) {
  if (!fs::is_directory(dir)) fail(dir.string(), ": not a prepared data folder (no such directory)");
  Dataset data;
  data.user_ids = read_id_map(dir / "uid2idx.json");
  data.item_ids = read_id_map(dir / "iid2idx.json");
  fs::path inter_path = dir / "interactions_mapped.parquet";
  ParquetTable inter(inter_path);
  auto& in = data.interactions;
  in.user = inter.int64_column("user_idx");
  in.item = inter.int64_column("item_idx");
  check_range(in.user, data.num_users(), inter_path, "user_idx", "uid2idx.json");
  check_range(in.item, data.num_items(), inter_path, "item_idx", "iid2idx.json");
  in.rating = inter.has_column("rating") ? inter.float_column("rating")
                                         : std::vector<float>(in.user.size(), NAN);
  in.timestamp = inter.has_column("timestamp") ? inter.int64_column("timestamp")
                                               : std::vector<int64_t>(in.user.size(), 0);
  auto split = inter.string_column("split");
  in.split.resize(split.size());
  for (size_t i = 0; i < split.size(); ++i) {
    try {
      in.split[i] = parse_split(split[i]);
    } catch (const Error&) {
      fail(input_error(inter_path.string(), static_cast<long long>(i) + 1, "split", "\"" + split[i] + "\"",
                       "train, valid or test"));
    }
  }
  if (fs::exists(dir / "splits.json")) data.splits = read_json_file(dir / "splits.json");
  if (fs::exists(dir / "stats.json")) data.stats = read_json_file(dir / "stats.json");

  auto& it = data.items;
  const bool load_text = text_columns == ItemText::kLoad;
  if (load_text) {
    it.resize(data.item_ids.size());
  } else {
    it.category_idx.resize(data.item_ids.size(), 0);
    it.brand_idx.resize(data.item_ids.size(), 0);
    it.category_ids.resize(data.item_ids.size());
  }
  fs::path items_path = dir / "items.parquet";
  if (fs::exists(items_path)) {
    ParquetTable items = load_text ? ParquetTable(items_path)
                                   : ParquetTable(items_path, {"item_idx", "category_idx", "brand_idx", "category_ids"});
    auto idx = items.int64_column("item_idx");
    check_range(idx, data.num_items(), items_path, "item_idx", "iid2idx.json");
    std::vector<std::string> title, brand, categories, description, text;
    if (load_text) {
      title = items.string_column("title");
      brand = items.string_column("brand");
      categories = items.string_column("categories");
      description = items.string_column("description");
      text = items.string_column("text");
    }
    auto cat = items.int64_column("category_idx"), br = items.int64_column("brand_idx");
    auto cat_ids = items.has_column("category_ids") ? items.int32_list_column("category_ids")
                                                    : std::vector<std::vector<int32_t>>(idx.size());
    for (size_t r = 0; r < idx.size(); ++r) {
      auto i = static_cast<size_t>(idx[r]);
      if (load_text) {
        it.title[i] = std::move(title[r]);
        it.brand[i] = std::move(brand[r]);
        it.categories[i] = std::move(categories[r]);
        it.description[i] = std::move(description[r]);
        it.text[i] = std::move(text[r]);
      }
      it.category_idx[i] = static_cast<int32_t>(cat[r]);
      it.brand_idx[i] = static_cast<int32_t>(br[r]);
      it.category_ids[i] = std::move(cat_ids[r]);
    }
  }
  if (fs::exists(dir / "features.json")) {
    auto features = read_json_file(dir / "features.json");
    it.category_vocab = features.at("categories").get<std::vector<std::string>>();
    it.brand_vocab = features.at("brands").get<std::vector<std::string>>();
  }
  auto ncat = static_cast<int32_t>(it.category_vocab.size()), nbrand = static_cast<int32_t>(it.brand_vocab.size());
  for (size_t i = 0; i < it.category_idx.size(); ++i) {
    if (it.category_idx[i] < 0 || it.category_idx[i] >= ncat || it.brand_idx[i] < 0 || it.brand_idx[i] >= nbrand) {
      fail(items_path.string(), ": item ", i, ": category_idx ", it.category_idx[i], " / brand_idx ",
           it.brand_idx[i], " outside the vocabularies of features.json (", ncat, " categories, ", nbrand,
           " brands)");
    }
  }
  return data;
}

}  // namespace twotower
