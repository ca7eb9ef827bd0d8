#include "twotower/data/id_map.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "twotower/common/error.h"

namespace twotower {
namespace {

constexpr size_t kBlockBytes = 1 << 20;
constexpr size_t kInitialSlots = 1 << 12;
constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

// Eight bytes at a time (ids are mostly 10-20 bytes, so FNV-1a's byte loop was a long chain of
// multiplications), then a final mix so that linear probing sees well-spread low bits.
uint64_t IdMap::hash(std::string_view s) {
  constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ull, kMul = 0xbf58476d1ce4e5b9ull;
  uint64_t h = kSeed ^ s.size();
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 31;
  }
  if (n > 0) {
    uint64_t word = 0;
    for (size_t i = 0; i < n; ++i) word |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    h = (h ^ word) * kMul;
    h ^= h >> 31;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

void IdMap::prefix_of(std::string_view id, uint64_t (&prefix)[2]) {
  prefix[0] = prefix[1] = 0;
  if (!id.empty()) std::memcpy(prefix, id.data(), std::min(id.size(), kInline));
}

bool IdMap::matches(const Slot& s, uint64_t h, std::string_view id, const uint64_t (&prefix)[2]) const {
  if (s.hash != h || s.size != id.size() || s.prefix[0] != prefix[0] || s.prefix[1] != prefix[1]) return false;
  return id.size() <= kInline ||
         std::memcmp(ids_[static_cast<size_t>(s.index)].data() + kInline, id.data() + kInline, id.size() - kInline) == 0;
}

void* IdMap::allocate_bytes(size_t bytes, size_t alignment) {
  bool huge = bytes >= kHugePage;
  // aligned_alloc wants a size that is a multiple of the alignment.
  size_t align = huge ? kHugePage : alignment;
  size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (huge) madvise(p, rounded, MADV_HUGEPAGE);  // only a hint: ignored where huge pages are off
#endif
  return p;
}

void IdMap::free_bytes(void* p) { std::free(p); }

IdMap::IdMap() : slots_(kInitialSlots) {}

std::string_view IdMap::store(std::string_view id) {
  if (block_used_ + id.size() > block_size_) {
    block_size_ = std::max(kBlockBytes, id.size());
    blocks_.push_back(std::make_unique<char[]>(block_size_));
    block_used_ = 0;
  }
  char* dst = blocks_.back().get() + block_used_;
  if (!id.empty()) std::memcpy(dst, id.data(), id.size());
  block_used_ += id.size();
  return {dst, id.size()};
}

void IdMap::grow() {
  std::vector<Slot, HugePageAllocator<Slot>> bigger(slots_.size() * 2);
  size_t mask = bigger.size() - 1;
  for (const Slot& s : slots_) {
    if (s.index < 0) continue;
    size_t i = s.hash & mask;
    while (bigger[i].index >= 0) i = (i + 1) & mask;
    bigger[i] = s;
  }
  slots_.swap(bigger);
}

int32_t IdMap::find(std::string_view id) const {
  uint64_t h = hash(id);
  uint64_t prefix[2];
  prefix_of(id, prefix);
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.index < 0) return -1;
    if (matches(s, h, id, prefix)) return s.index;
  }
}

int32_t IdMap::intern(std::string_view id, uint64_t h) {
  uint64_t prefix[2];
  prefix_of(id, prefix);
  size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  for (;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.index < 0) break;
    if (matches(s, h, id, prefix)) return s.index;
  }
  if (id.size() > UINT32_MAX) fail("id of ", id.size(), " bytes, expected fewer than 2^32");
  auto index = static_cast<int32_t>(ids_.size());
  ids_.push_back(store(id));
  Slot& slot = slots_[i];
  slot.hash = h;
  slot.index = index;
  slot.size = static_cast<uint32_t>(id.size());
  slot.prefix[0] = prefix[0];
  slot.prefix[1] = prefix[1];
  // Keep the load factor under 1/2.
  if (ids_.size() * 2 > slots_.size()) grow();
  return index;
}

std::vector<std::string> IdMap::ids() const {
  std::vector<std::string> out;
  out.reserve(ids_.size());
  for (auto s : ids_) out.emplace_back(s);
  return out;
}

}  // namespace twotower
