#include "twotower/data/parquet_io.h"

#include <algorithm>
#include <functional>

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/arrow/writer.h>

#include <cmath>

#include "twotower/common/atomic_file.h"
#include "twotower/common/checksum.h"
#include "twotower/common/error.h"

namespace twotower {
namespace {

void check(const arrow::Status& status, const std::string& what) {
  if (!status.ok()) fail(what, ": ", status.ToString());
}

template <typename T>
T unwrap(arrow::Result<T> result, const std::string& what) {
  if (!result.ok()) fail(what, ": ", result.status().ToString());
  return std::move(result).ValueOrDie();
}

template <typename Builder, typename T>
std::shared_ptr<arrow::Array> build(const std::vector<T>& values) {
  Builder builder;
  check(builder.AppendValues(values), "arrow append");
  return unwrap(builder.Finish(), "arrow finish");
}

// A list column: row i holds values[i].
template <typename ValueBuilder, typename T>
std::shared_ptr<arrow::Array> build_list(const std::vector<std::vector<T>>& values) {
  auto value_builder = std::make_shared<ValueBuilder>();
  arrow::ListBuilder builder(arrow::default_memory_pool(), value_builder);
  for (const auto& row : values) {
    check(builder.Append(), "arrow append");
    check(value_builder->AppendValues(row), "arrow append");
  }
  return unwrap(builder.Finish(), "arrow finish");
}

// Reads element `i` of a numeric array as double; the caller checks IsNull first.
double numeric_value(const arrow::Array& array, int64_t i, const std::string& where) {
  switch (array.type_id()) {
    case arrow::Type::INT8: return static_cast<const arrow::Int8Array&>(array).Value(i);
    case arrow::Type::INT16: return static_cast<const arrow::Int16Array&>(array).Value(i);
    case arrow::Type::INT32: return static_cast<const arrow::Int32Array&>(array).Value(i);
    case arrow::Type::INT64: return static_cast<double>(static_cast<const arrow::Int64Array&>(array).Value(i));
    case arrow::Type::UINT8: return static_cast<const arrow::UInt8Array&>(array).Value(i);
    case arrow::Type::UINT16: return static_cast<const arrow::UInt16Array&>(array).Value(i);
    case arrow::Type::UINT32: return static_cast<const arrow::UInt32Array&>(array).Value(i);
    case arrow::Type::UINT64: return static_cast<double>(static_cast<const arrow::UInt64Array&>(array).Value(i));
    case arrow::Type::FLOAT: return static_cast<const arrow::FloatArray&>(array).Value(i);
    case arrow::Type::DOUBLE: return static_cast<const arrow::DoubleArray&>(array).Value(i);
    case arrow::Type::BOOL: return static_cast<const arrow::BooleanArray&>(array).Value(i);
    default: fail(where, ": got type ", array.type()->ToString(), ", expected a numeric column");
  }
}

int64_t integer_value(const arrow::Array& array, int64_t i, const std::string& where) {
  switch (array.type_id()) {
    case arrow::Type::INT64: return static_cast<const arrow::Int64Array&>(array).Value(i);
    case arrow::Type::UINT64: return static_cast<int64_t>(static_cast<const arrow::UInt64Array&>(array).Value(i));
    case arrow::Type::TIMESTAMP: {
      const auto& ts = static_cast<const arrow::TimestampArray&>(array);
      int64_t v = ts.Value(i);
      switch (static_cast<const arrow::TimestampType&>(*array.type()).unit()) {
        case arrow::TimeUnit::SECOND: return v;
        case arrow::TimeUnit::MILLI: return v / 1000;
        case arrow::TimeUnit::MICRO: return v / 1000000;
        case arrow::TimeUnit::NANO: return v / 1000000000;
      }
      return v;
    }
    default: return static_cast<int64_t>(std::llround(numeric_value(array, i, where)));
  }
}

}  // namespace

ParquetWriter::ParquetWriter() = default;
ParquetWriter::~ParquetWriter() = default;

void ParquetWriter::add(const std::string& name, std::shared_ptr<arrow::Array> array) {
  if (!arrays_.empty() && arrays_.front()->length() != array->length()) {
    fail("parquet column \"", name, "\": got ", array->length(), " rows, expected ",
         arrays_.front()->length(), " like column \"", fields_.front()->name(), "\"");
  }
  fields_.push_back(arrow::field(name, array->type()));
  arrays_.push_back(std::move(array));
}

void ParquetWriter::add_int64(const std::string& name, const std::vector<int64_t>& values) {
  add(name, build<arrow::Int64Builder>(values));
}

void ParquetWriter::add_int32(const std::string& name, const std::vector<int32_t>& values) {
  add(name, build<arrow::Int32Builder>(values));
}

void ParquetWriter::add_string(const std::string& name, const std::vector<std::string>& values) {
  add(name, build<arrow::StringBuilder>(values));
}

void ParquetWriter::add_int32_list(const std::string& name, const std::vector<std::vector<int32_t>>& values) {
  add(name, build_list<arrow::Int32Builder>(values));
}

void ParquetWriter::add_float_list(const std::string& name, const std::vector<std::vector<float>>& values) {
  add(name, build_list<arrow::FloatBuilder>(values));
}

void ParquetWriter::add_int64_view(const std::string& name, const std::vector<int64_t>& values) {
  auto buffer = std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(values.data()),
                                                static_cast<int64_t>(values.size() * sizeof(int64_t)));
  add(name, std::make_shared<arrow::Int64Array>(static_cast<int64_t>(values.size()), buffer));
}

void ParquetWriter::add_float_view_nan_as_null(const std::string& name, const std::vector<float>& values) {
  auto n = static_cast<int64_t>(values.size());
  auto data = std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(values.data()),
                                              static_cast<int64_t>(values.size() * sizeof(float)));
  int64_t nulls = 0;
  for (float v : values) nulls += std::isnan(v);
  std::shared_ptr<arrow::Buffer> validity;
  if (nulls > 0) {
    auto bitmap = unwrap(arrow::AllocateEmptyBitmap(n), "arrow allocate");
    for (int64_t i = 0; i < n; ++i) {
      if (!std::isnan(values[static_cast<size_t>(i)])) arrow::bit_util::SetBit(bitmap->mutable_data(), i);
    }
    validity = std::move(bitmap);
  }
  add(name, std::make_shared<arrow::FloatArray>(n, data, validity, nulls));
}

void ParquetWriter::add_string_codes(const std::string& name, const std::vector<int8_t>& codes,
                                     const std::vector<std::string>& labels) {
  for (int8_t c : codes) {
    if (c < 0 || static_cast<size_t>(c) >= labels.size()) {
      fail("parquet column \"", name, "\": got code ", static_cast<int>(c), ", expected an index in [0, ",
           labels.size(), ")");
    }
  }
  // A dictionary column over the borrowed codes: one byte per row, where a plain string column
  // would take 4 bytes of offset plus the label per row (46 MB at 5M rows) while it is written.
  // The file holds an ordinary dictionary-encoded string column; readers get strings back.
  arrow::StringBuilder dictionary;
  for (const auto& label : labels) check(dictionary.Append(label), "arrow append");
  auto indices = std::make_shared<arrow::Int8Array>(
      static_cast<int64_t>(codes.size()),
      std::make_shared<arrow::Buffer>(reinterpret_cast<const uint8_t*>(codes.data()), static_cast<int64_t>(codes.size())));
  add(name, unwrap(arrow::DictionaryArray::FromArrays(arrow::dictionary(arrow::int8(), arrow::utf8()), indices,
                                                     unwrap(dictionary.Finish(), "arrow finish")),
                   "arrow dictionary"));
}

void ParquetWriter::write(const std::filesystem::path& path) const {
  auto table = arrow::Table::Make(arrow::schema(fields_), arrays_);
  auto props = parquet::WriterProperties::Builder().compression(parquet::Compression::SNAPPY)->build();
  write_checksummed_file(path, [&](const std::filesystem::path& temporary) {
    auto out = unwrap(arrow::io::FileOutputStream::Open(temporary.string()), "cannot open " + temporary.string());
    check(parquet::arrow::WriteTable(*table, arrow::default_memory_pool(), out, 1 << 20, props),
          "writing " + path.string());
    check(out->Close(), "closing " + path.string());
  });
}

ParquetTable::ParquetTable(const std::filesystem::path& path) : path_(path) { read(nullptr); }

ParquetTable::ParquetTable(const std::filesystem::path& path, const std::vector<std::string>& columns)
    : path_(path) {
  read(&columns);
}

void ParquetTable::read(const std::vector<std::string>* columns) {
  const std::string name = path_.string();
  if (!std::filesystem::exists(path_)) fail(name, ": no such file");
  verify_checksum(path_);
  auto input = unwrap(arrow::io::ReadableFile::Open(name), "cannot open " + name);
  auto reader = unwrap(parquet::arrow::OpenFile(input, arrow::system_memory_pool()),
                       name + ": not a readable parquet file");
  std::shared_ptr<arrow::Table> table;
  if (columns == nullptr) {
    table = unwrap(reader->ReadTable(), "reading " + name);
  } else {
    // ReadTable takes leaf column indices: a list column is one leaf below its top-level field.
    std::vector<int> leaves;
    std::function<void(const parquet::arrow::SchemaField&)> add_leaves = [&](const parquet::arrow::SchemaField& f) {
      if (f.is_leaf()) leaves.push_back(f.column_index);
      for (const auto& child : f.children) add_leaves(child);
    };
    for (const auto& field : reader->manifest().schema_fields) {
      if (std::find(columns->begin(), columns->end(), field.field->name()) != columns->end()) add_leaves(field);
    }
    table = unwrap(reader->ReadTable(leaves), "reading " + name);
  }
  table_ = unwrap(table->CombineChunks(), "combining chunks of " + name);
}

ParquetTable::~ParquetTable() = default;

bool ParquetTable::has_column(const std::string& name) const {
  return table_->GetColumnByName(name) != nullptr;
}

std::shared_ptr<arrow::Array> ParquetTable::column(const std::string& name) const {
  auto chunked = table_->GetColumnByName(name);
  if (!chunked) fail(path_.string(), ": no column \"", name, "\" (columns: ", table_->schema()->ToString(), ")");
  if (chunked->num_chunks() == 0) {
    return unwrap(arrow::MakeArrayOfNull(chunked->type(), 0), "arrow empty column");
  }
  return chunked->chunk(0);
}

std::vector<int64_t> ParquetTable::int64_column(const std::string& name, int64_t null_value) const {
  auto array = column(name);
  std::string where = path_.string() + ": column \"" + name + "\"";
  std::vector<int64_t> out(static_cast<size_t>(array->length()));
  for (int64_t i = 0; i < array->length(); ++i) {
    out[static_cast<size_t>(i)] = array->IsNull(i) ? null_value : integer_value(*array, i, where);
  }
  return out;
}

std::vector<float> ParquetTable::float_column(const std::string& name) const {
  auto array = column(name);
  std::string where = path_.string() + ": column \"" + name + "\"";
  std::vector<float> out(static_cast<size_t>(array->length()));
  for (int64_t i = 0; i < array->length(); ++i) {
    out[static_cast<size_t>(i)] =
        array->IsNull(i) ? NAN : static_cast<float>(numeric_value(*array, i, where));
  }
  return out;
}

std::vector<std::string> ParquetTable::string_column(const std::string& name) const {
  auto array = column(name);
  std::vector<std::string> out(static_cast<size_t>(array->length()));
  auto read_strings = [&](const arrow::Array& values, auto index_of) {
    for (int64_t i = 0; i < array->length(); ++i) {
      if (array->IsNull(i)) continue;
      int64_t k = index_of(i);
      if (values.type_id() == arrow::Type::STRING) {
        out[static_cast<size_t>(i)] = static_cast<const arrow::StringArray&>(values).GetString(k);
      } else if (values.type_id() == arrow::Type::LARGE_STRING) {
        out[static_cast<size_t>(i)] = static_cast<const arrow::LargeStringArray&>(values).GetString(k);
      } else {
        fail(path_.string(), ": column \"", name, "\": got type ", array->type()->ToString(),
             ", expected strings");
      }
    }
  };
  if (array->type_id() == arrow::Type::DICTIONARY) {
    const auto& dict = static_cast<const arrow::DictionaryArray&>(*array);
    read_strings(*dict.dictionary(), [&](int64_t i) { return dict.GetValueIndex(i); });
  } else {
    read_strings(*array, [](int64_t i) { return i; });
  }
  return out;
}

std::vector<std::vector<int32_t>> ParquetTable::int32_list_column(const std::string& name) const {
  auto array = column(name);
  if (array->type_id() != arrow::Type::LIST) {
    fail(path_.string(), ": column \"", name, "\": got type ", array->type()->ToString(), ", expected list<int>");
  }
  const auto& list = static_cast<const arrow::ListArray&>(*array);
  std::string where = path_.string() + ": column \"" + name + "\"";
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(list.length()));
  for (int64_t i = 0; i < list.length(); ++i) {
    if (list.IsNull(i)) continue;
    for (int64_t k = list.value_offset(i); k < list.value_offset(i + 1); ++k) {
      out[static_cast<size_t>(i)].push_back(static_cast<int32_t>(integer_value(*list.values(), k, where)));
    }
  }
  return out;
}

namespace {

// Rows of a list, large list or fixed-size list array of numbers, as float vectors.
template <typename ListArray>
std::vector<std::vector<float>> float_rows(const ListArray& list, const std::string& where) {
  std::vector<std::vector<float>> out(static_cast<size_t>(list.length()));
  const arrow::Array& values = *list.values();
  for (int64_t i = 0; i < list.length(); ++i) {
    if (list.IsNull(i)) continue;
    auto& row = out[static_cast<size_t>(i)];
    row.reserve(static_cast<size_t>(list.value_length(i)));
    for (int64_t k = list.value_offset(i); k < list.value_offset(i) + list.value_length(i); ++k) {
      if (values.IsNull(k)) fail(where, ": row ", i, " element ", k - list.value_offset(i), " is null, expected a number");
      row.push_back(static_cast<float>(numeric_value(values, k, where)));
    }
  }
  return out;
}

}  // namespace

std::vector<std::vector<float>> ParquetTable::float_list_column(const std::string& name) const {
  auto array = column(name);
  std::string where = path_.string() + ": column \"" + name + "\"";
  switch (array->type_id()) {
    case arrow::Type::LIST: return float_rows(static_cast<const arrow::ListArray&>(*array), where);
    case arrow::Type::LARGE_LIST: return float_rows(static_cast<const arrow::LargeListArray&>(*array), where);
    case arrow::Type::FIXED_SIZE_LIST: return float_rows(static_cast<const arrow::FixedSizeListArray&>(*array), where);
    default:
      fail(where, ": got type ", array->type()->ToString(), ", expected a list of numbers (list<float>)");
  }
}

}  // namespace twotower
