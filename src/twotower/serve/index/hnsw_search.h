// One query's walk of a faiss HNSW graph, in place of faiss 1.7.3's IndexHNSW::search.
//
// The graph is faiss's (built by IndexHNSWFlat::add, saved and read by its index_io); only the
// search differs. Debian's faiss 1.7.3 allocates and zeroes a visited table of the whole index per
// call, pops its candidate list by a linear scan (O(efSearch) a pop), and scores one neighbour at a
// time as it reaches it, so each waits on its vector's cache misses. This walk is the same greedy
// descent through the upper levels, then hnswlib's beam search at level 0 (binary heaps; stop when
// the best open candidate is worse than the worst of efSearch kept), with a visited table reused
// per thread and every unvisited neighbour's vector prefetched before the first is scored.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace faiss {
struct IndexHNSW;
}  // namespace faiss

namespace twotower {

/// The up to `k` rows of `index` with the largest inner product with `query` ([index.d] float32)
/// that a beam of max(ef_search, k) candidates finds, as (score, row), in no particular order.
/// `index` must have an IndexFlat storage (IndexHNSWFlat); ef_search >= 1, k >= 1. Any number of
/// threads may walk one graph at once (each has its own visited table).
std::vector<std::pair<float, int64_t>> walk_hnsw(const faiss::IndexHNSW& index, const float* query, int ef_search,
                                                 int64_t k);

}  // namespace twotower
