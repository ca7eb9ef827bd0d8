// Top-K inner-product search over item vectors: exact (a full scan by the evaluator's
// DotProductScorer, faster than Debian's faiss IndexFlatIP for single queries: docs/serving.md)
// by default, or approximate (faiss IndexHNSWFlat with METRIC_INNER_PRODUCT over a vectorised
// storage, hnsw_storage.h: a graph walk whose recall against exact is measured and logged when it
// is built).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace faiss {
struct Index;
}  // namespace faiss

namespace twotower {

class DotProductScorer;

enum class IndexKind { kExact, kHnsw };
/// "exact" | "hnsw".
const char* to_string(IndexKind kind);
/// Parses "exact" | "hnsw"; throws naming `what` and the value otherwise.
IndexKind parse_index_kind(const std::string& name, const std::string& what);

struct IndexOptions {
  IndexKind kind = IndexKind::kExact;
  int hnsw_m = 32;                 // HNSW neighbours per node, >= 2
  int hnsw_ef_construction = 200;  // HNSW candidate list while building, >= 1
  int hnsw_ef_search = 96;         // HNSW candidate list while searching, >= 1 (raised to k); 96 keeps
                                   // recall@10 >= 0.995 on Games (docs/serving.md)
};

struct ScoredItem {
  int64_t item = 0;  // row of the indexed vectors
  float score = 0;   // inner product with the query
};

/// At most `n` rows of `rows` ([rows.size() / dim, dim] float32), spread evenly (every
/// max(1, count / n)-th row, from the first): queries for recall_at.
std::vector<float> spread_rows(std::span<const float> rows, int64_t dim, int64_t n);

/// Thread safety: any number of threads may call the const methods at once; `add` must exclude
/// them (the caller's lock). Each search runs on its calling thread alone (the exact scan on one
/// thread, the HNSW walk of hnsw_search.h without OpenMP), so concurrent requests do not
/// oversubscribe cores.
class TopKIndex {
 public:
  /// @param vectors  [n, dim] float32 row-major, copied into the index; n >= 0, dim >= 1
  /// Throws naming the option and the value when an option is out of range.
  TopKIndex(std::span<const float> vectors, int64_t dim, const IndexOptions& options = {});
  /// Reads an HNSW graph written by save(): its M and efConstruction come from the file,
  /// efSearch from `ef_search`. Throws naming the file when it is not an inner-product
  /// IndexHNSWFlat of width `dim`.
  static std::unique_ptr<TopKIndex> load_hnsw(const std::string& path, int64_t dim, int ef_search);
  ~TopKIndex();
  TopKIndex(const TopKIndex&) = delete;
  TopKIndex& operator=(const TopKIndex&) = delete;

  /// The k rows with the largest inner product with `query` ([dim] float32), rows in `exclude`
  /// (any order, repeats and ids outside the index allowed) left out; best first, ties by the
  /// lower row. Fewer than k when the index holds fewer eligible rows. k >= 1 (else throws).
  /// Exact: the true top k. HNSW: approximate (see recall_at).
  std::vector<ScoredItem> search(std::span<const float> query, int64_t k,
                                 std::span<const int64_t> exclude = {}) const;

  /// Appends rows ([n, dim] float32); their ids continue from size().
  void add(std::span<const float> vectors);

  /// Writes the HNSW graph and its vectors to `path` (faiss's index format); throws for the exact
  /// index (nothing to save beyond the vectors).
  void save(const std::string& path) const;

  /// Sets HNSW's efSearch (>= 1; no effect on the exact index). Like `add`, excludes searches.
  void set_hnsw_ef_search(int ef_search);

  /// Recall@k of this index against an exact scan for `queries` ([n, dim] float32): the mean over
  /// queries of |approximate top k intersect exact top k| / k. 1.0 for the exact index.
  double recall_at(std::span<const float> queries, int64_t k) const;

  /// The stored vector of `row` ([dim] float32, 0 <= row < size(); no bounds check), valid until
  /// the next `add`.
  std::span<const float> vector(int64_t row) const;

  int64_t size() const;
  int64_t dim() const { return dim_; }
  const IndexOptions& options() const { return options_; }

 private:
  std::vector<ScoredItem> exact_search(std::span<const float> query, int64_t k,
                                       std::span<const int64_t> exclude) const;
  std::vector<ScoredItem> hnsw_search(std::span<const float> query, int64_t k,
                                      std::span<const int64_t> exclude) const;

  TopKIndex(std::unique_ptr<faiss::Index> hnsw, int64_t dim, const IndexOptions& options);

  int64_t dim_;
  IndexOptions options_;
  std::vector<float> vectors_;                 // exact: [size, dim] rows the scorer reads
  std::unique_ptr<DotProductScorer> scorer_;   // exact
  std::unique_ptr<faiss::Index> index_;        // hnsw
};

}  // namespace twotower
