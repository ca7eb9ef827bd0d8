#include "twotower/common/crc32.h"

#include <zlib.h>

#include <algorithm>
#include <climits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TWOTOWER_CRC32_PCLMUL 1
#endif

namespace twotower {

uint32_t crc32_zlib(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const Bytef*>(data);
  uLong c = crc;
  // zlib takes the length as uInt: feed it in pieces below 4 GiB.
  while (size > 0) {
    auto n = static_cast<uInt>(std::min<size_t>(size, UINT_MAX));
    c = ::crc32(c, p, n);
    p += n;
    size -= n;
  }
  return static_cast<uint32_t>(c);
}

#ifdef TWOTOWER_CRC32_PCLMUL
namespace {

// x * k (its low half by k's low, its high half by k's high), plus the next 16 bytes.
[[gnu::target("pclmul,sse4.1")]] inline __m128i fold16(__m128i x, __m128i k, __m128i next) {
  __m128i lo = _mm_clmulepi64_si128(x, k, 0x00);
  __m128i hi = _mm_clmulepi64_si128(x, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
}

[[gnu::target("pclmul,sse4.1")]] inline __m128i load(const unsigned char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// Folds 64 bytes at a time into four 128-bit lanes, then the lanes into one, then reduces it to
// 32 bits (Gopal et al., "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ", Intel
// 2009; the constants of the bit-reflected polynomial 0xEDB88320, as in Linux's crc32-pclmul).
// Works on the bit-inverted register, 16-byte blocks only, at least 64 bytes.
[[gnu::target("pclmul,sse4.1")]] uint32_t fold(uint32_t state, const unsigned char* p, size_t blocks) {
  const __m128i k1k2 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
  const __m128i k3k4 = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0);
  const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124);
  const __m128i poly = _mm_set_epi64x(0x1f7011641, 0x1db710641);  // high: u (Barrett), low: P'
  const __m128i mask32 = _mm_set_epi32(0, 0, 0, -1);
  __m128i x1 = _mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(state)));
  __m128i x2 = load(p + 16), x3 = load(p + 32), x4 = load(p + 48);
  p += 64;
  blocks -= 4;
  for (; blocks >= 4; blocks -= 4, p += 64) {
    x1 = fold16(x1, k1k2, load(p));
    x2 = fold16(x2, k1k2, load(p + 16));
    x3 = fold16(x3, k1k2, load(p + 32));
    x4 = fold16(x4, k1k2, load(p + 48));
  }
  x1 = fold16(x1, k3k4, x2);
  x1 = fold16(x1, k3k4, x3);
  x1 = fold16(x1, k3k4, x4);
  for (; blocks > 0; --blocks, p += 16) x1 = fold16(x1, k3k4, load(p));
  // 128 -> 64 bits (appending 32 zero bits), then 64 -> 32 by Barrett reduction.
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(x1, k3k4, 0x10), _mm_srli_si128(x1, 8));
  __m128i x2b = _mm_srli_si128(x1, 4);
  x1 = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x1, mask32), k5, 0x00), x2b);
  __m128i t = _mm_clmulepi64_si128(_mm_and_si128(x1, mask32), poly, 0x10);
  t = _mm_clmulepi64_si128(_mm_and_si128(t, mask32), poly, 0x00);
  return static_cast<uint32_t>(_mm_extract_epi32(_mm_xor_si128(t, x1), 1));
}

bool has_pclmul() {
  static const bool has = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
  return has;
}

}  // namespace
#endif

uint32_t crc32(uint32_t crc, const void* data, size_t size) {
#ifdef TWOTOWER_CRC32_PCLMUL
  constexpr size_t kMinFold = 64;
  if (size >= kMinFold && has_pclmul()) {
    size_t blocks = size / 16;
    crc = ~fold(~crc, static_cast<const unsigned char*>(data), blocks);
    return crc32_zlib(crc, static_cast<const unsigned char*>(data) + blocks * 16, size - blocks * 16);
  }
#endif
  return crc32_zlib(crc, data, size);
}

}  // namespace twotower
