// Scoring a chunk of users is one [n, D] x [D, I] float32 product. On x86 with AVX2 and FMA it
// runs a register-blocked kernel over items packed once into 16-wide panels, faster than
// LibTorch's mm on these shapes (figures: docs/evaluate.md); elsewhere it falls back to at::mm.
// This is the one evaluation source that includes ATen.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/common/parallel_for.h"
#include "twotower/eval/scorer.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TWOTOWER_HAVE_AVX2_KERNEL 1
#endif

namespace twotower {
namespace {

constexpr int kRowsPerTile = 6;    // users per register tile
constexpr int kItemsPerTile = 16;  // items per panel (two 8-float vectors)
constexpr int64_t kPanelsPerBlock = 32;  // 32 panels x 16 items x D=128 x 4 B = 256 KiB: stays in L2

// ATen reads but never writes these buffers; from_blob only takes a mutable pointer.
at::Tensor view_of(const float* data, int64_t rows, int64_t cols) {
  return at::from_blob(const_cast<float*>(data), {rows, cols}, at::TensorOptions().dtype(at::kFloat));
}

void check_ids(const char* what, std::span<const int64_t> ids, int64_t limit) {
  for (int64_t id : ids) {
    if (id < 0 || id >= limit) fail("dot-product scorer: ", what, " id ", id, " outside [0, ", limit, ")");
  }
}

bool cpu_has_avx2_fma() {
#ifdef TWOTOWER_HAVE_AVX2_KERNEL
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

#ifdef TWOTOWER_HAVE_AVX2_KERNEL
// One row's step of the tile: (lo, hi) += a * (b0, b1), the 16 items of one panel row.
__attribute__((target("avx2,fma"), always_inline)) inline void fma_row(float a, __m256 b0, __m256 b1, __m256& lo,
                                                                        __m256& hi) {
  const __m256 x = _mm256_set1_ps(a);
  lo = _mm256_fmadd_ps(x, b0, lo);
  hi = _mm256_fmadd_ps(x, b1, hi);
}

// c[r, j] = sum_k a[r, k] * panel[k, j] for a 6 x 16 tile; `a` holds 6 full rows (padded by the
// caller), only `rows` x `cols` of the result are stored. The twelve accumulators are named
// variables: as an array gcc stores them to the stack on every step (measured 3x slower).
__attribute__((target("avx2,fma"))) void tile_kernel(const float* a, int64_t d, const float* panel, float* c,
                                                     int64_t ldc, int rows, int cols) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const float *a0 = a, *a1 = a + d, *a2 = a + 2 * d, *a3 = a + 3 * d, *a4 = a + 4 * d, *a5 = a + 5 * d;
  for (int64_t k = 0; k < d; ++k) {
    const __m256 b0 = _mm256_loadu_ps(panel + k * kItemsPerTile);
    const __m256 b1 = _mm256_loadu_ps(panel + k * kItemsPerTile + 8);
    fma_row(a0[k], b0, b1, c00, c01);
    fma_row(a1[k], b0, b1, c10, c11);
    fma_row(a2[k], b0, b1, c20, c21);
    fma_row(a3[k], b0, b1, c30, c31);
    fma_row(a4[k], b0, b1, c40, c41);
    fma_row(a5[k], b0, b1, c50, c51);
  }
  alignas(32) float tmp[kRowsPerTile][kItemsPerTile];
  const __m256 acc[kRowsPerTile][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (rows == kRowsPerTile && cols == kItemsPerTile) {
    for (int r = 0; r < kRowsPerTile; ++r) {
      _mm256_storeu_ps(c + r * ldc, acc[r][0]);
      _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
    }
    return;
  }
  for (int r = 0; r < kRowsPerTile; ++r) {
    _mm256_store_ps(tmp[r], acc[r][0]);
    _mm256_store_ps(tmp[r] + 8, acc[r][1]);
  }
  for (int r = 0; r < rows; ++r) std::memcpy(c + r * ldc, tmp[r], static_cast<size_t>(cols) * sizeof(float));
}

// c[j] = sum_k a[k] * panel[k, j] for one row and one panel, only `cols` stored: the single-query
// case, which the 6-row tile would compute six times over. Four accumulator pairs (k mod 4) keep
// four FMA chains in flight instead of one. One query reads every item once from memory, so each
// step also asks for the same lines of `next` (the following panel, or this one for the last):
// more cache misses in flight than the hardware prefetcher keeps.
__attribute__((target("avx2,fma"))) void row_kernel(const float* a, int64_t d, const float* panel, const float* next,
                                                    float* c, int cols) {
  __m256 l0 = _mm256_setzero_ps(), h0 = l0, l1 = l0, h1 = l0, l2 = l0, h2 = l0, l3 = l0, h3 = l0;
  int64_t k = 0;
  for (; k + 4 <= d; k += 4) {
    const float* p = panel + k * kItemsPerTile;
    const char* ahead = reinterpret_cast<const char*>(next + k * kItemsPerTile);
    for (int line = 0; line < 4; ++line) _mm_prefetch(ahead + line * 64, _MM_HINT_T0);
    fma_row(a[k], _mm256_loadu_ps(p), _mm256_loadu_ps(p + 8), l0, h0);
    fma_row(a[k + 1], _mm256_loadu_ps(p + 16), _mm256_loadu_ps(p + 24), l1, h1);
    fma_row(a[k + 2], _mm256_loadu_ps(p + 32), _mm256_loadu_ps(p + 40), l2, h2);
    fma_row(a[k + 3], _mm256_loadu_ps(p + 48), _mm256_loadu_ps(p + 56), l3, h3);
  }
  for (; k < d; ++k) {
    fma_row(a[k], _mm256_loadu_ps(panel + k * kItemsPerTile), _mm256_loadu_ps(panel + k * kItemsPerTile + 8), l0, h0);
  }
  const __m256 lo = _mm256_add_ps(_mm256_add_ps(l0, l1), _mm256_add_ps(l2, l3));
  const __m256 hi = _mm256_add_ps(_mm256_add_ps(h0, h1), _mm256_add_ps(h2, h3));
  if (cols == kItemsPerTile) {
    _mm256_storeu_ps(c, lo);
    _mm256_storeu_ps(c + 8, hi);
    return;
  }
  alignas(32) float tmp[kItemsPerTile];
  _mm256_store_ps(tmp, lo);
  _mm256_store_ps(tmp + 8, hi);
  std::memcpy(c, tmp, static_cast<size_t>(cols) * sizeof(float));
}
#endif

}  // namespace

DotProductScorer::DotProductScorer(MatrixView user_emb, MatrixView item_emb, std::string name, int num_threads)
    : users_(user_emb), items_(item_emb), name_(std::move(name)), num_threads_(num_threads) {
  if (users_.cols != items_.cols || users_.cols <= 0) {
    fail("dot-product scorer: got user embeddings [", users_.rows, ", ", users_.cols,
         "] and item embeddings [", items_.rows, ", ", items_.cols,
         "], expected the same width D > 0");
  }
  if ((users_.rows > 0 && users_.data == nullptr) || (items_.rows > 0 && items_.data == nullptr)) {
    fail("dot-product scorer: got a null embedding matrix, expected data");
  }
  num_threads_ = resolve_threads(num_threads_, "dot-product scorer");
  use_kernel_ = cpu_has_avx2_fma();
  if (use_kernel_) {
    // Panel p holds items [16p, 16p + 16) as [D, 16] (zeros past the last item).
    const int64_t d = users_.cols, panels = (items_.rows + kItemsPerTile - 1) / kItemsPerTile;
    packed_.assign(static_cast<size_t>(panels * d * kItemsPerTile), 0.0f);
    for (int64_t i = 0; i < items_.rows; ++i) {
      float* panel = packed_.data() + (i / kItemsPerTile) * d * kItemsPerTile + i % kItemsPerTile;
      const float* v = items_.row(i);
      for (int64_t k = 0; k < d; ++k) panel[k * kItemsPerTile] = v[k];
    }
  }
}

void DotProductScorer::score_users(std::span<const int64_t> users, float* out) const {
  check_ids("user", users, users_.rows);
  const auto n = static_cast<int64_t>(users.size());
  const int64_t d = users_.cols, n_items = items_.rows;
  if (n == 0 || n_items == 0) return;
  // The chunk's user rows, contiguous and padded to whole tiles: [ceil(n / 6) * 6, D].
  const int64_t padded = (n + kRowsPerTile - 1) / kRowsPerTile * kRowsPerTile;
  std::vector<float> gathered(static_cast<size_t>(padded * d), 0.0f);
  for (int64_t r = 0; r < n; ++r) std::copy_n(users_.row(users[static_cast<size_t>(r)]), d, gathered.data() + r * d);
  score_rows(gathered.data(), n, out);
}

void DotProductScorer::score_queries(MatrixView queries, float* out) const {
  if (queries.cols != items_.cols) {
    fail("dot-product scorer: got queries of width ", queries.cols, ", expected ", items_.cols);
  }
  const int64_t n = queries.rows, d = queries.cols;
  if (n == 0 || items_.rows == 0) return;
  const int64_t padded = (n + kRowsPerTile - 1) / kRowsPerTile * kRowsPerTile;
  if (padded == n || n == 1) {  // one row takes the row kernel, which reads no padding
    score_rows(queries.data, n, out);
    return;
  }
  std::vector<float> rows(static_cast<size_t>(padded * d), 0.0f);
  std::copy_n(queries.data, n * d, rows.data());
  score_rows(rows.data(), n, out);
}

void DotProductScorer::score_rows(const float* gathered_rows, int64_t n, float* out) const {
  const int64_t d = items_.cols, n_items = items_.rows;
  const int64_t padded = (n + kRowsPerTile - 1) / kRowsPerTile * kRowsPerTile;
  if (!use_kernel_) {
    at::Tensor u = view_of(gathered_rows, n, d);            // [n, D]
    at::Tensor items = view_of(items_.data, n_items, d);    // [I, D]
    at::Tensor result = at::from_blob(out, {n, n_items}, at::TensorOptions().dtype(at::kFloat));
    at::mm_out(result, u, items.t());                       // [n, I]
    return;
  }
#ifdef TWOTOWER_HAVE_AVX2_KERNEL
  const int64_t panels = (n_items + kItemsPerTile - 1) / kItemsPerTile;
  if (n == 1) {
    for (int64_t p = 0; p < panels; ++p) {
      const int cols = static_cast<int>(std::min<int64_t>(kItemsPerTile, n_items - p * kItemsPerTile));
      const float* panel = packed_.data() + p * d * kItemsPerTile;
      row_kernel(gathered_rows, d, panel, p + 1 < panels ? panel + d * kItemsPerTile : panel, out + p * kItemsPerTile,
                 cols);
    }
    return;
  }
  const int64_t tiles = padded / kRowsPerTile;
  auto work = [&](int64_t tile_lo, int64_t tile_hi) {
    for (int64_t p0 = 0; p0 < panels; p0 += kPanelsPerBlock) {
      const int64_t p1 = std::min(panels, p0 + kPanelsPerBlock);
      for (int64_t t = tile_lo; t < tile_hi; ++t) {
        const int64_t r = t * kRowsPerTile;
        const int rows = static_cast<int>(std::min<int64_t>(kRowsPerTile, n - r));
        for (int64_t p = p0; p < p1; ++p) {
          const int cols = static_cast<int>(std::min<int64_t>(kItemsPerTile, n_items - p * kItemsPerTile));
          tile_kernel(gathered_rows + r * d, d, packed_.data() + p * d * kItemsPerTile,
                      out + r * n_items + p * kItemsPerTile, n_items, rows, cols);
        }
      }
    }
  };
  parallel_for(tiles, num_threads_, work);
#endif
}

void DotProductScorer::score_pairs(std::span<const int64_t> users, std::span<const int64_t> items,
                                   float* out) const {
  if (users.size() != items.size()) {
    fail("dot-product scorer: got ", users.size(), " users and ", items.size(), " items, expected pairs");
  }
  check_ids("user", users, users_.rows);
  check_ids("item", items, items_.rows);
  const int64_t d = users_.cols;
  for (size_t i = 0; i < users.size(); ++i) {
    const float* u = users_.row(users[i]);
    const float* v = items_.row(items[i]);
    float s = 0.0f;
    for (int64_t k = 0; k < d; ++k) s += u[k] * v[k];
    out[i] = s;
  }
}

}  // namespace twotower
