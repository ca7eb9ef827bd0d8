// Parses the chunks of a ChunkReader on several threads and merges the results on the calling
// thread in file order, so that whatever depends on order (ids numbered by first appearance,
// the first bad line, line numbers) comes out as from one thread reading the file line by line.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "twotower/data/chunk_reader.h"

namespace twotower {

/// Threads for parsing when the caller asks for 0: the machine's cores, at most kMaxParseThreads.
constexpr int kMaxParseThreads = 8;
inline int parse_threads(int requested) {
  if (requested > 0) return std::min(requested, kMaxParseThreads);
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxParseThreads);
}

/// For every chunk of `source`: `parse(chunk, result)` on one of `threads` worker threads, then
/// `merge(chunk, result)` on the calling thread, chunk after chunk in file order. `Result` is
/// reused from chunk to chunk: parse must reset what it fills. An exception from parse is
/// rethrown when its chunk's turn to merge comes (so an earlier chunk's error wins), one from
/// merge or from the reader (a gzip error) stops the workers and propagates. At most
/// 2 * threads + 2 chunks are in flight.
template <typename Result, typename Parse, typename Merge>
void parse_chunks_in_order(ChunkReader& source, int threads, const Parse& parse, Merge&& merge) {
  struct Slot {
    std::unique_ptr<LineChunk> chunk;
    Result result;
    std::exception_ptr error;
    bool ready = false;
    bool end = false;  // no chunk: the file ended here (or the reader failed: error)
  };
  const auto slots_in_flight = static_cast<int64_t>(2 * threads + 2);
  std::vector<Slot> slots(static_cast<size_t>(slots_in_flight));
  std::mutex mutex;        // guards the fields below and every Slot's ready/end/chunk/error
  std::mutex fetch_mutex;  // one worker at a time takes the next chunk from the reader
  std::condition_variable slot_ready, slot_free;
  int64_t next_index = 0, merged = 0;
  bool source_done = false, stop = false;

  auto work = [&] {
    for (;;) {
      int64_t k = 0;
      std::unique_ptr<LineChunk> chunk;
      std::exception_ptr error;
      {
        std::lock_guard<std::mutex> fetch(fetch_mutex);
        {
          std::unique_lock<std::mutex> lock(mutex);
          slot_free.wait(lock, [&] { return stop || source_done || next_index < merged + slots_in_flight; });
          if (stop || source_done) return;
          k = next_index++;
        }
        try {
          chunk = source.next();
        } catch (...) {
          error = std::current_exception();
        }
        if (!chunk) {
          std::lock_guard<std::mutex> lock(mutex);
          source_done = true;
        }
      }
      Slot& slot = slots[static_cast<size_t>(k % slots_in_flight)];
      if (chunk) {
        try {
          parse(*chunk, slot.result);
        } catch (...) {
          error = std::current_exception();
        }
      }
      bool end = !chunk;
      {
        std::lock_guard<std::mutex> lock(mutex);
        slot.chunk = std::move(chunk);
        slot.error = error;
        slot.end = end;
        slot.ready = true;
      }
      slot_ready.notify_all();
      if (end) {
        slot_free.notify_all();
        return;
      }
    }
  };

  // Stops and joins the workers however this function is left.
  struct Workers {
    std::vector<std::thread> threads;
    std::mutex& mutex;
    bool& stop;
    std::condition_variable& slot_free;
    ~Workers() {
      {
        std::lock_guard<std::mutex> lock(mutex);
        stop = true;
      }
      slot_free.notify_all();
      for (std::thread& t : threads) t.join();
    }
  } workers{{}, mutex, stop, slot_free};
  for (int i = 0; i < threads; ++i) workers.threads.emplace_back(work);

  for (int64_t k = 0;; ++k) {
    Slot& slot = slots[static_cast<size_t>(k % slots_in_flight)];
    {
      std::unique_lock<std::mutex> lock(mutex);
      slot_ready.wait(lock, [&] { return slot.ready; });
    }
    if (slot.error) std::rethrow_exception(slot.error);
    if (slot.end) return;
    merge(*slot.chunk, slot.result);
    source.recycle(std::move(slot.chunk));
    {
      std::lock_guard<std::mutex> lock(mutex);
      slot.ready = false;
      merged = k + 1;
    }
    slot_free.notify_all();
  }
}

}  // namespace twotower
