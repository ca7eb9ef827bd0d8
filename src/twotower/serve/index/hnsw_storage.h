// The vectors under the HNSW graph, scored by a vectorised inner product.
//
// faiss's graph walk (IndexHNSW::search, and add while it builds) scores every node it visits
// through its storage's distance computer. Debian's libfaiss 1.7.3 is compiled for baseline
// x86-64 (SSE2 without SSE3), where faiss's fvec_inner_product is its scalar reference loop
// (fvec_inner_product_ref: one float add after another). This storage is an
// IndexFlat with the same vectors, layout and file format (write_index saves it as faiss's own
// inner-product IndexFlat), whose distance computer runs an AVX2/FMA product where the CPU has
// one and faiss's own otherwise.
#pragma once

#include <cstdint>

namespace faiss {
struct IndexHNSW;
}  // namespace faiss

namespace twotower {

/// Replaces `index`'s storage (an inner-product IndexFlat, as IndexHNSWFlat makes or read_index
/// reads; anything else throws naming what it got) by the vectorised one, moving the vectors.
/// The index must own its storage (faiss's default).
void use_vectorised_storage(faiss::IndexHNSW& index);

/// sum_j a[j] * b[j] over `d` floats, as the vectorised storage computes it (AVX2/FMA where the
/// CPU has it, a plain loop otherwise); for tests.
float storage_inner_product(const float* a, const float* b, int64_t d);

}  // namespace twotower
