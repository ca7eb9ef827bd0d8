#include "twotower/data/text_embeddings.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <unordered_map>

#include "twotower/common/error.h"
#include "twotower/data/npy.h"
#include "twotower/data/parquet_io.h"

namespace twotower {
namespace {

bool has_suffix(const std::filesystem::path& path, const std::string& suffix) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == suffix;
}

// item_idx of each Parquet row, from an item_idx column or an item_id column through the id map.
std::vector<int64_t> row_items(const ParquetTable& table, const std::filesystem::path& path,
                               const std::vector<std::string>& item_ids) {
  const auto num_items = static_cast<int64_t>(item_ids.size());
  std::vector<int64_t> items;
  if (table.has_column("item_idx")) {
    items = table.int64_column("item_idx", -1);
    for (size_t r = 0; r < items.size(); ++r) {
      if (items[r] < 0 || items[r] >= num_items) {
        fail(path.string(), ": row ", r, ": item_idx got ", items[r], ", expected 0 <= item_idx < ", num_items,
             " (the items of iid2idx.json)");
      }
    }
    return items;
  }
  if (!table.has_column("item_id")) {
    fail(path.string(), ": no item_idx or item_id column, expected one of them to say which item each row embeds");
  }
  std::unordered_map<std::string, int64_t> index;
  index.reserve(item_ids.size());
  for (size_t i = 0; i < item_ids.size(); ++i) index.emplace(item_ids[i], static_cast<int64_t>(i));
  std::vector<std::string> ids = table.string_column("item_id");
  items.resize(ids.size());
  for (size_t r = 0; r < ids.size(); ++r) {
    auto it = index.find(ids[r]);
    if (it == index.end()) {
      fail(path.string(), ": row ", r, ": item_id \"", ids[r], "\" is not in iid2idx.json, expected an id of the prepared catalogue");
    }
    items[r] = it->second;
  }
  return items;
}

Matrix read_parquet_embeddings(const std::filesystem::path& path, const std::string& column,
                               const std::vector<std::string>& item_ids) {
  ParquetTable table(path);
  std::vector<int64_t> items = row_items(table, path, item_ids);
  std::vector<std::vector<float>> vectors = table.float_list_column(column);
  Matrix m;
  m.rows = static_cast<int64_t>(item_ids.size());
  if (vectors.empty()) fail(path.string(), ": no rows, expected one per item (", m.rows, ")");
  m.cols = static_cast<int64_t>(vectors.front().size());
  if (m.cols == 0) fail(path.string(), ": column \"", column, "\" row 0: empty vector, expected at least one number");
  m.data.assign(static_cast<size_t>(m.rows * m.cols), 0.0f);
  std::vector<int64_t> row_of(item_ids.size(), -1);
  for (size_t r = 0; r < vectors.size(); ++r) {
    if (static_cast<int64_t>(vectors[r].size()) != m.cols) {
      fail(path.string(), ": column \"", column, "\" row ", r, ": got ", vectors[r].size(), " numbers, expected ",
           m.cols, " like row 0");
    }
    auto item = static_cast<size_t>(items[r]);
    if (row_of[item] >= 0) {
      fail(path.string(), ": rows ", row_of[item], " and ", r, " both embed item ", item_ids[item],
           ", expected one row per item");
    }
    row_of[item] = static_cast<int64_t>(r);
    std::copy(vectors[r].begin(), vectors[r].end(), m.row(static_cast<int64_t>(item)));
  }
  auto missing = std::find(row_of.begin(), row_of.end(), -1);
  if (missing != row_of.end()) {
    auto count = std::count(row_of.begin(), row_of.end(), -1);
    fail(path.string(), ": ", count, " of ", m.rows, " items have no row (the first: item ",
         item_ids[static_cast<size_t>(missing - row_of.begin())], "), expected one row per item of iid2idx.json");
  }
  return m;
}

// The first non-finite value, by row and column: a NaN found here, not as a scorer error later.
void check_finite(const Matrix& m, const std::filesystem::path& path) {
  for (int64_t r = 0; r < m.rows; ++r) {
    const float* row = m.row(r);
    for (int64_t c = 0; c < m.cols; ++c) {
      if (!std::isfinite(row[c])) {
        fail(path.string(), ": row ", r, ", column ", c, ": got ", row[c], ", expected a finite number (text embeddings)");
      }
    }
  }
}

}  // namespace

Matrix read_text_embeddings(const std::filesystem::path& path, const std::string& column,
                            const std::vector<std::string>& item_ids) {
  if (has_suffix(path, ".parquet")) {
    Matrix m = read_parquet_embeddings(path, column, item_ids);
    check_finite(m, path);
    return m;
  }
  if (!has_suffix(path, ".npy")) {
    fail(path.string(), ": got extension \"", path.extension().string(), "\", expected .npy or .parquet text embeddings");
  }
  Matrix m = read_npy(path);
  if (m.rows != static_cast<int64_t>(item_ids.size())) {
    fail(path.string(), " has ", m.rows, " rows, expected one per item of iid2idx.json (", item_ids.size(), ")");
  }
  check_finite(m, path);
  return m;
}

}  // namespace twotower
