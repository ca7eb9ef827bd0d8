// The process's resident memory, for the progress log (Linux /proc; 0 where it is absent).
#pragma once

namespace twotower {

/// Resident set size now (VmRSS) and its peak so far (VmHWM), in MiB.
double resident_mib();
double peak_resident_mib();

}  // namespace twotower
