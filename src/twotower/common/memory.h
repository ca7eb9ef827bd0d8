// The process's resident memory, for the progress log (Linux /proc; 0 where it is absent).
#pragma once

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

}  // namespace twotower
