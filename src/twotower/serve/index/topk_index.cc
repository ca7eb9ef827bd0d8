#include "twotower/serve/index/topk_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "twotower/common/error.h"
#include "twotower/eval/scorer.h"
#include "twotower/serve/index/hnsw_search.h"
#include "twotower/serve/index/hnsw_storage.h"

namespace twotower {
namespace {

void check_option(int value, int least, const char* name) {
  if (value < least) fail("index option ", name, ": got ", value, ", expected >= ", least);
}

void check_rows(std::span<const float> vectors, int64_t dim, const char* what) {
  if (vectors.size() % static_cast<size_t>(dim) != 0) {
    fail("top-k index: ", what, ": got ", vectors.size(), " floats, expected a multiple of dim ", dim);
  }
}

// Best first: the higher score, then the lower row (a heap ordered so keeps the worst on top).
bool better(const ScoredItem& a, const ScoredItem& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

}  // namespace

std::vector<float> spread_rows(std::span<const float> rows, int64_t dim, int64_t n) {
  const auto count = static_cast<int64_t>(rows.size()) / dim;
  if (count == 0 || n <= 0) return {};
  const int64_t step = std::max<int64_t>(1, count / n);
  std::vector<float> out;
  for (int64_t r = 0; r < count && static_cast<int64_t>(out.size()) < n * dim; r += step) {
    out.insert(out.end(), rows.begin() + r * dim, rows.begin() + (r + 1) * dim);
  }
  return out;
}

const char* to_string(IndexKind kind) { return kind == IndexKind::kExact ? "exact" : "hnsw"; }

IndexKind parse_index_kind(const std::string& name, const std::string& what) {
  if (name == "exact") return IndexKind::kExact;
  if (name == "hnsw") return IndexKind::kHnsw;
  fail(what, ": got \"", name, "\", expected exact or hnsw");
}

TopKIndex::TopKIndex(std::span<const float> vectors, int64_t dim, const IndexOptions& options)
    : dim_(dim), options_(options) {
  if (dim < 1) fail("top-k index: got dim ", dim, ", expected >= 1");
  check_rows(vectors, dim, "vectors");
  if (options.kind == IndexKind::kHnsw) {
    check_option(options.hnsw_m, 2, "hnsw_m");
    check_option(options.hnsw_ef_construction, 1, "hnsw_ef_construction");
    check_option(options.hnsw_ef_search, 1, "hnsw_ef_search");
    auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(dim), options.hnsw_m,
                                                       faiss::METRIC_INNER_PRODUCT);
    hnsw->hnsw.efConstruction = options.hnsw_ef_construction;
    hnsw->hnsw.efSearch = options.hnsw_ef_search;
    use_vectorised_storage(*hnsw);
    index_ = std::move(hnsw);
  }
  add(vectors);
}

TopKIndex::TopKIndex(std::unique_ptr<faiss::Index> hnsw, int64_t dim, const IndexOptions& options)
    : dim_(dim), options_(options), index_(std::move(hnsw)) {}

std::unique_ptr<TopKIndex> TopKIndex::load_hnsw(const std::string& path, int64_t dim, int ef_search) {
  check_option(ef_search, 1, "hnsw_ef_search");
  std::unique_ptr<faiss::Index> read;
  try {
    read.reset(faiss::read_index(path.c_str()));
  } catch (const std::exception& e) {
    fail(path, ": cannot read a faiss index: ", e.what());
  }
  auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(read.get());
  if (hnsw == nullptr || hnsw->metric_type != faiss::METRIC_INNER_PRODUCT || hnsw->d != dim) {
    fail(path, ": got ", hnsw ? "an IndexHNSWFlat" : "another faiss index", " of width ", read->d,
         ", expected an inner-product IndexHNSWFlat of width ", dim);
  }
  use_vectorised_storage(*hnsw);
  IndexOptions o;
  o.kind = IndexKind::kHnsw;
  o.hnsw_m = hnsw->hnsw.nb_neighbors(1);
  o.hnsw_ef_construction = hnsw->hnsw.efConstruction;
  auto index = std::unique_ptr<TopKIndex>(new TopKIndex(std::move(read), dim, o));
  index->set_hnsw_ef_search(ef_search);  // the file holds the efSearch it was built with
  return index;
}

void TopKIndex::save(const std::string& path) const {
  if (!index_) fail("top-k index: save: got the exact index, expected hnsw");
  faiss::write_index(index_.get(), path.c_str());
}

TopKIndex::~TopKIndex() = default;

int64_t TopKIndex::size() const {
  return index_ ? index_->ntotal : static_cast<int64_t>(vectors_.size()) / dim_;
}

std::span<const float> TopKIndex::vector(int64_t row) const {
  const float* base = vectors_.data();
  if (index_) {
    // The graph keeps the vectors in its storage, an inner-product IndexFlat (hnsw_storage.h).
    base = static_cast<const faiss::IndexFlat*>(static_cast<const faiss::IndexHNSW*>(index_.get())->storage)->get_xb();
  }
  return {base + row * dim_, static_cast<size_t>(dim_)};
}

void TopKIndex::add(std::span<const float> vectors) {
  check_rows(vectors, dim_, "added vectors");
  const auto n = static_cast<int64_t>(vectors.size()) / dim_;
  if (index_) {
    if (n > 0) index_->add(n, vectors.data());
    return;
  }
  vectors_.insert(vectors_.end(), vectors.begin(), vectors.end());
  // The scorer packs the items once; added rows mean a new packing.
  scorer_ = std::make_unique<DotProductScorer>(MatrixView{nullptr, 0, dim_}, MatrixView{vectors_.data(), size(), dim_},
                                               "top-k index", 1);
}

void TopKIndex::set_hnsw_ef_search(int ef_search) {
  check_option(ef_search, 1, "hnsw_ef_search");
  options_.hnsw_ef_search = ef_search;
  // The graph's own efSearch follows, for faiss's own search of it and for save(): faiss 1.7.3
  // sizes its candidate queue by that value whatever SearchParametersHNSW say (faiss pull 3233).
  if (index_) static_cast<faiss::IndexHNSW*>(index_.get())->hnsw.efSearch = ef_search;
}

std::vector<ScoredItem> TopKIndex::search(std::span<const float> query, int64_t k,
                                          std::span<const int64_t> exclude) const {
  if (static_cast<int64_t>(query.size()) != dim_) {
    fail("top-k index: got a query of ", query.size(), " floats, expected ", dim_);
  }
  if (k < 1) fail("top-k index: got k ", k, ", expected >= 1");
  std::vector<ScoredItem> out = index_ ? hnsw_search(query, k, exclude) : exact_search(query, k, exclude);
  std::sort(out.begin(), out.end(), better);
  if (static_cast<int64_t>(out.size()) > k) out.resize(static_cast<size_t>(k));
  return out;
}

// Every score, then one pass keeping the k best in a heap whose top is the worst kept.
std::vector<ScoredItem> TopKIndex::exact_search(std::span<const float> query, int64_t k,
                                                std::span<const int64_t> exclude) const {
  const int64_t n = size();
  thread_local std::vector<float> scores;
  scores.resize(static_cast<size_t>(n));
  scorer_->score_queries({query.data(), 1, dim_}, scores.data());
  for (int64_t e : exclude) {
    if (e >= 0 && e < n) scores[static_cast<size_t>(e)] = -std::numeric_limits<float>::infinity();
  }
  std::vector<ScoredItem> heap;
  heap.reserve(static_cast<size_t>(std::min(k, n)));
  for (int64_t i = 0; i < n; ++i) {
    const float s = scores[static_cast<size_t>(i)];
    if (s == -std::numeric_limits<float>::infinity()) continue;
    if (static_cast<int64_t>(heap.size()) < k) {
      heap.push_back({i, s});
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (s > heap.front().score) {  // an equal score keeps the lower row already kept
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = {i, s};
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  return heap;
}

std::vector<ScoredItem> TopKIndex::hnsw_search(std::span<const float> query, int64_t k,
                                               std::span<const int64_t> exclude) const {
  const std::unordered_set<int64_t> excluded(exclude.begin(), exclude.end());
  // The top k of the rest lies within the top k + |excluded| of all.
  const int64_t fetch = std::min<int64_t>(size(), k + static_cast<int64_t>(excluded.size()));
  std::vector<ScoredItem> out;
  if (fetch == 0) return out;
  const auto& graph = static_cast<const faiss::IndexHNSW&>(*index_);
  for (const auto& [score, id] : walk_hnsw(graph, query.data(), options_.hnsw_ef_search, fetch)) {
    if (!excluded.contains(id)) out.push_back({id, score});
  }
  return out;
}

double TopKIndex::recall_at(std::span<const float> queries, int64_t k) const {
  check_rows(queries, dim_, "recall queries");
  const auto n = static_cast<int64_t>(queries.size()) / dim_;
  if (n == 0 || size() == 0 || !index_) return 1.0;
  k = std::min(k, size());
  // The exact top k by a scan of the graph's own flat storage.
  std::vector<float> scores(static_cast<size_t>(n * k));
  std::vector<faiss::Index::idx_t> truth(static_cast<size_t>(n * k));
  const faiss::Index* flat = static_cast<const faiss::IndexHNSW*>(index_.get())->storage;
  flat->search(n, queries.data(), k, scores.data(), truth.data());
  int64_t hits = 0;
  for (int64_t q = 0; q < n; ++q) {
    const auto first = truth.begin() + q * k;
    const std::unordered_set<int64_t> expected(first, first + k);
    const std::span<const float> query = queries.subspan(static_cast<size_t>(q * dim_), static_cast<size_t>(dim_));
    for (const ScoredItem& got : search(query, k)) {
      hits += expected.contains(got.item) ? 1 : 0;
    }
  }
  return static_cast<double>(hits) / static_cast<double>(n * k);
}

}  // namespace twotower
