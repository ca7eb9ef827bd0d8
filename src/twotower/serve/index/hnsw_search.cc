#include "twotower/serve/index/hnsw_search.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>

#include <algorithm>
#include <queue>

#include "twotower/serve/index/hnsw_storage.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TWOTOWER_PREFETCH(p) _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0)
#else
#define TWOTOWER_PREFETCH(p) __builtin_prefetch(p)
#endif

namespace twotower {
namespace {

using Scored = std::pair<float, int64_t>;  // (inner product, row)

struct Worse {  // the lower score on top: a heap of the kept results, worst first
  bool operator()(const Scored& a, const Scored& b) const { return a.first > b.first; }
};

// Rows marked in this search: mark[row] == generation. A new search takes the next generation
// instead of clearing the table; the table is cleared only when the counter wraps or the index grows.
class VisitedTable {
 public:
  void begin(size_t rows) {
    if (mark_.size() < rows || ++generation_ == 0) {
      mark_.assign(std::max(mark_.size(), rows), 0);
      generation_ = 1;
    }
  }
  // True the first time a row is seen in this search.
  bool visit(int64_t row) {
    uint16_t& m = mark_[static_cast<size_t>(row)];
    if (m == generation_) return false;
    m = generation_;
    return true;
  }

 private:
  std::vector<uint16_t> mark_;
  uint16_t generation_ = 0;
};

class Walk {
 public:
  Walk(const faiss::IndexHNSW& index, const float* query)
      : hnsw_(index.hnsw),
        rows_(static_cast<const faiss::IndexFlat*>(index.storage)->get_xb()),
        d_(index.d),
        query_(query) {}

  float score(int64_t row) const { return storage_inner_product(query_, rows_ + row * d_, d_); }

  void prefetch(int64_t row) const {
    const float* v = rows_ + row * d_;
    for (int64_t j = 0; j < d_; j += 16) TWOTOWER_PREFETCH(v + j);  // one 64-byte line per 16 floats
  }

  // Greedy descent: from `entry`, move to a better neighbour on `level` until none is better.
  void descend(int level, Scored& entry) const {
    for (bool moved = true; moved;) {
      moved = false;
      size_t begin = 0, end = 0;
      hnsw_.neighbor_range(entry.second, level, &begin, &end);
      for (size_t j = begin; j < end && hnsw_.neighbors[j] >= 0; ++j) {
        const float s = score(hnsw_.neighbors[j]);
        if (s > entry.first) {
          entry = {s, hnsw_.neighbors[j]};
          moved = true;
        }
      }
    }
  }

  // Level 0: expand the best open candidate until it is worse than the worst of `ef` kept.
  std::vector<Scored> beam(Scored entry, size_t ef, VisitedTable& visited) const {
    std::priority_queue<Scored> open;  // best first
    std::priority_queue<Scored, std::vector<Scored>, Worse> kept;
    std::vector<int64_t> fresh;
    open.push(entry);
    kept.push(entry);
    visited.visit(entry.second);
    while (!open.empty()) {
      const Scored c = open.top();
      if (kept.size() >= ef && c.first < kept.top().first) break;
      open.pop();
      size_t begin = 0, end = 0;
      hnsw_.neighbor_range(c.second, 0, &begin, &end);
      fresh.clear();
      for (size_t j = begin; j < end && hnsw_.neighbors[j] >= 0; ++j) {
        if (visited.visit(hnsw_.neighbors[j])) {
          fresh.push_back(hnsw_.neighbors[j]);
          prefetch(hnsw_.neighbors[j]);
        }
      }
      for (int64_t row : fresh) {
        const float s = score(row);
        if (kept.size() < ef || s > kept.top().first) {
          open.push({s, row});
          kept.push({s, row});
          if (kept.size() > ef) kept.pop();
        }
      }
    }
    std::vector<Scored> out;
    out.reserve(kept.size());
    for (; !kept.empty(); kept.pop()) out.push_back(kept.top());
    return out;
  }

 private:
  const faiss::HNSW& hnsw_;
  const float* rows_;
  int64_t d_;
  const float* query_;
};

}  // namespace

std::vector<std::pair<float, int64_t>> walk_hnsw(const faiss::IndexHNSW& index, const float* query, int ef_search,
                                                 int64_t k) {
  if (index.hnsw.entry_point < 0 || index.ntotal == 0) return {};
  const Walk walk(index, query);
  Scored entry{walk.score(index.hnsw.entry_point), index.hnsw.entry_point};
  for (int level = index.hnsw.max_level; level > 0; --level) walk.descend(level, entry);
  thread_local VisitedTable visited;
  visited.begin(static_cast<size_t>(index.ntotal));
  std::vector<Scored> found = walk.beam(entry, static_cast<size_t>(std::max<int64_t>(ef_search, k)), visited);
  // `found` is worst first: the best k are its end.
  if (static_cast<int64_t>(found.size()) > k) found.erase(found.begin(), found.end() - k);
  return found;
}

}  // namespace twotower
