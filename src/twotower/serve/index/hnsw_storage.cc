#include "twotower/serve/index/hnsw_storage.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/DistanceComputer.h>

#include <memory>

#include "twotower/common/error.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TWOTOWER_HAVE_AVX2_PRODUCT 1
#endif

namespace twotower {
namespace {

float plain_inner_product(const float* a, const float* b, int64_t d) {
  float s = 0;
  for (int64_t j = 0; j < d; ++j) s += a[j] * b[j];
  return s;
}

#ifdef TWOTOWER_HAVE_AVX2_PRODUCT
// Four accumulators keep four FMA chains in flight (one would wait on the FMA latency each step).
__attribute__((target("avx2,fma"))) float avx2_inner_product(const float* a, const float* b, int64_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t j = 0;
  for (; j + 32 <= d; j += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 16), _mm256_loadu_ps(b + j + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 24), _mm256_loadu_ps(b + j + 24), s3);
  }
  for (; j + 8 <= d; j += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
  const __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_hadd_ps(h, h);
  h = _mm_hadd_ps(h, h);
  return _mm_cvtss_f32(h) + plain_inner_product(a + j, b + j, d - j);
}
#endif

bool cpu_has_avx2_fma() {
#ifdef TWOTOWER_HAVE_AVX2_PRODUCT
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// Inner products of one query with stored rows, and of two stored rows (the build's neighbour
// selection). IndexHNSW negates them itself for an inner-product storage.
class InnerProductComputer : public faiss::FlatCodesDistanceComputer {
 public:
  InnerProductComputer(const float* rows, int64_t d)
      : FlatCodesDistanceComputer(reinterpret_cast<const uint8_t*>(rows), static_cast<size_t>(d) * sizeof(float)),
        rows_(rows),
        d_(d) {}
  void set_query(const float* x) override { query_ = x; }
  float distance_to_code(const uint8_t* code) override {
    return storage_inner_product(query_, reinterpret_cast<const float*>(code), d_);
  }
  float symmetric_dis(idx_t i, idx_t j) override { return storage_inner_product(rows_ + i * d_, rows_ + j * d_, d_); }

 private:
  const float* rows_;
  int64_t d_;
  const float* query_ = nullptr;
};

class VectorisedFlatIP : public faiss::IndexFlat {
 public:
  explicit VectorisedFlatIP(idx_t d) : IndexFlat(d, faiss::METRIC_INNER_PRODUCT) {}
  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override {
    if (!cpu_has_avx2_fma()) return IndexFlat::get_FlatCodesDistanceComputer();
    return new InnerProductComputer(get_xb(), d);
  }
};

}  // namespace

float storage_inner_product(const float* a, const float* b, int64_t d) {
#ifdef TWOTOWER_HAVE_AVX2_PRODUCT
  static const bool avx2 = cpu_has_avx2_fma();
  if (avx2) return avx2_inner_product(a, b, d);
#endif
  return plain_inner_product(a, b, d);
}

void use_vectorised_storage(faiss::IndexHNSW& index) {
  auto* flat = dynamic_cast<faiss::IndexFlat*>(index.storage);
  if (flat == nullptr) fail("hnsw storage: got a storage that is not an IndexFlat, expected an owned inner-product IndexFlat");
  if (flat->metric_type != faiss::METRIC_INNER_PRODUCT || !index.own_fields) {
    fail("hnsw storage: got an IndexFlat of metric ", static_cast<int>(flat->metric_type),
         index.own_fields ? ", owned" : ", not owned", ", expected an owned inner-product IndexFlat (metric ",
         static_cast<int>(faiss::METRIC_INNER_PRODUCT), ")");
  }
  if (dynamic_cast<VectorisedFlatIP*>(flat) != nullptr) return;
  auto vectorised = std::make_unique<VectorisedFlatIP>(flat->d);
  vectorised->codes.swap(flat->codes);
  vectorised->ntotal = flat->ntotal;
  delete flat;
  index.storage = vectorised.release();
}

}  // namespace twotower
