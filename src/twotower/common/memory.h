// The process's resident memory, for the progress log (Linux /proc; 0 where it is absent), and
// malloc's tuning for a training run.
#pragma once

#include <string>

namespace twotower {

/// Resident set size now (VmRSS) and its peak so far (VmHWM), in MiB.
double resident_mib();
double peak_resident_mib();

/// The resident set split: anonymous pages (heap, stacks, relocated library data) and file pages
/// (library code and read-only data, mapped files), RssAnon and RssFile, in MiB.
double resident_anon_mib();
double resident_file_mib();

/// What malloc holds: bytes in live allocations and bytes freed but kept for reuse (mallinfo2's
/// uordblks + hblkhd and fordblks), in MiB; 0 where glibc's mallinfo2 is absent.
double malloc_live_mib();
double malloc_free_held_mib();

/// Why an allocation may have failed, for the message of an out-of-memory error: the process's
/// limits (RLIMIT_DATA, RLIMIT_AS; "unlimited" when unset), its peak resident memory and the
/// machine's available memory, e.g. "data limit 1,024 MiB, address-space limit unlimited, peak
/// resident 900 MiB, available 20,000 MiB".
std::string memory_limits_summary();

/// One log line of the resident memory at a stage of a run ("memory: STAGE: resident ...").
void log_memory(const char* stage);

/// glibc serves allocations above a (dynamic, at most 32 MB) threshold with fresh mmap pages and
/// returns them on free, so each training step's large activations would page-fault and be zeroed
/// anew. While training allocates the same sizes every step, keep them in the heap for reuse.
void keep_large_allocations();
/// After training: large allocations go back to fresh mmap pages, returned on free, and the
/// heap's free pages go back to the system now.
void release_large_allocations();
/// Hands malloc's free pages back to the system (malloc_trim).
void trim_heap();

}  // namespace twotower
