// Column-wise Parquet reading and writing through Apache Arrow.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace arrow {
class Table;
class Array;
class Field;
}  // namespace arrow

namespace twotower {

/// Builds a table one named column at a time, then writes it as one Parquet file.
class ParquetWriter {
 public:
  ParquetWriter();
  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  /// Adds column `name` holding a copy of `values` (one row each). Every add_* throws naming the
  /// column when its row count differs from the first column's.
  void add_int64(const std::string& name, const std::vector<int64_t>& values);
  void add_int32(const std::string& name, const std::vector<int32_t>& values);
  void add_string(const std::string& name, const std::vector<std::string>& values);
  /// A list<int32> column: row i holds values[i] (an empty vector is an empty list, not null).
  void add_int32_list(const std::string& name, const std::vector<std::vector<int32_t>>& values);
  /// Borrowing variants for large columns: no copy is made, so `values` must stay alive and
  /// unchanged until write() returns. NaN floats become nulls (only a validity bitmap is built).
  void add_int64_view(const std::string& name, const std::vector<int64_t>& values);
  void add_float_view_nan_as_null(const std::string& name, const std::vector<float>& values);
  /// A string column from small integer codes: row i holds labels[codes[i]] (each code must be
  /// a valid index), built without one std::string per row. `codes` is borrowed, as above.
  void add_string_codes(const std::string& name, const std::vector<int8_t>& codes, const std::vector<std::string>& labels);
  /// A list<float> column: row i holds values[i] (one embedding per row).
  void add_float_list(const std::string& name, const std::vector<std::vector<float>>& values);

  /// Writes all columns (which must have equal lengths) to `path`, through a temporary file
  /// beside it and a rename, so a failed write leaves any earlier `path` as it was.
  void write(const std::filesystem::path& path) const;

 private:
  void add(const std::string& name, std::shared_ptr<arrow::Array> array);
  std::vector<std::shared_ptr<arrow::Field>> fields_;
  std::vector<std::shared_ptr<arrow::Array>> arrays_;
};

/// A Parquet file read whole (through the system allocator, so that freed tables go back to
/// malloc, not to a pool that keeps them); columns are converted to the requested C++ type on access.
class ParquetTable {
 public:
  /// Reads every column of `path`; throws naming the file when it is absent or not Parquet.
  explicit ParquetTable(const std::filesystem::path& path);
  /// Reads only the named columns that the file has (the others are never decoded); asking
  /// has_column() or a getter for one left out behaves as for a column the file lacks.
  ParquetTable(const std::filesystem::path& path, const std::vector<std::string>& columns);
  ~ParquetTable();

  /// True when the table read holds column `name`. The getters below throw naming the file and
  /// listing its columns when it does not, and naming the column and its type when the type does not fit.
  bool has_column(const std::string& name) const;
  /// Any integer, float or timestamp column (timestamps in seconds) as int64; nulls become `null_value`.
  std::vector<int64_t> int64_column(const std::string& name, int64_t null_value = 0) const;
  /// Any numeric column as float; nulls become NaN.
  std::vector<float> float_column(const std::string& name) const;
  /// String, large string or dictionary-of-string column; nulls become "".
  std::vector<std::string> string_column(const std::string& name) const;
  /// list<integer> column; nulls become empty lists.
  std::vector<std::vector<int32_t>> int32_list_column(const std::string& name) const;
  /// list, large list or fixed-size list of numbers (one embedding per row) as floats; null rows
  /// become empty lists, a null element is an error.
  std::vector<std::vector<float>> float_list_column(const std::string& name) const;

 private:
  std::shared_ptr<arrow::Array> column(const std::string& name) const;
  void read(const std::vector<std::string>* columns);
  std::filesystem::path path_;
  std::shared_ptr<arrow::Table> table_;
};

}  // namespace twotower
