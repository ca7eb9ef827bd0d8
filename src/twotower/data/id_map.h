// Interns raw string ids (user or item) into dense indices 0, 1, 2, ... in order of first
// appearance. Strings live in one arena, so adding an id costs no heap allocation per id.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace twotower {

class IdMap {
 public:
  IdMap();

  /// The index of `id`, adding it as the next index when it is new.
  int32_t intern(std::string_view id) { return intern(id, hash(id)); }
  /// The same with hash(id) computed by the caller, who may have called prefetch(hash) earlier
  /// so that the table's cache line is on its way while other work is done.
  int32_t intern(std::string_view id, uint64_t hash);
  /// The hash intern() and prefetch() take for `id` (the same for equal ids in every IdMap).
  static uint64_t hash(std::string_view id);
  /// Always inlined: GCC takes a function that only prefetches for one without side effects and
  /// drops calls to it.
  [[gnu::always_inline]] void prefetch(uint64_t hash) const { __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]); }
  /// The index of `id`, or -1 when absent.
  int32_t find(std::string_view id) const;

  /// Number of distinct ids; indices are [0, size()).
  size_t size() const { return ids_.size(); }
  /// The id of `index` (0 <= index < size(); unchecked); valid while the map lives.
  std::string_view id(int32_t index) const { return ids_[static_cast<size_t>(index)]; }
  /// Copies of every id ordered by index.
  std::vector<std::string> ids() const;

 private:
  static constexpr size_t kInline = 16;
  // The first 16 bytes of the id live in the slot, zero-padded: most ids (asin, reviewerID)
  // compare without touching the arena, so a lookup costs one cache line. Slots are aligned so
  // that none straddles two lines, and the prefix is compared as two words (a library memcmp
  // reads 32 bytes, past the slot into the next line, a cache miss of its own).
  struct alignas(32) Slot {
    uint64_t hash = 0;
    int32_t index = -1;
    uint32_t size = 0;
    uint64_t prefix[2] = {0, 0};
  };
  /// The first kInline bytes of an id, zero-padded, as they are stored in a slot.
  static void prefix_of(std::string_view id, uint64_t (&prefix)[2]);
  bool matches(const Slot& s, uint64_t hash, std::string_view id, const uint64_t (&prefix)[2]) const;
  std::string_view store(std::string_view id);
  void grow();

  /// Puts tables of 2 MiB and more on transparent huge pages where the system allows: lookups
  /// land anywhere in the table, and with 4 KiB pages most of them also miss the TLB.
  template <typename T>
  struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <typename U>
    HugePageAllocator(const HugePageAllocator<U>&) {}
    T* allocate(size_t n) { return static_cast<T*>(allocate_bytes(n * sizeof(T), alignof(T))); }
    void deallocate(T* p, size_t) { free_bytes(p); }
    bool operator==(const HugePageAllocator&) const { return true; }
  };
  static void* allocate_bytes(size_t bytes, size_t alignment);
  static void free_bytes(void* p);

  std::vector<Slot, HugePageAllocator<Slot>> slots_;  // open addressing, linear probing, size a power of two
  std::vector<std::string_view> ids_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0, block_size_ = 0;
};

}  // namespace twotower
