#include "twotower/common/memory.h"

#include <malloc.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "twotower/common/log.h"

namespace twotower {
namespace {

// The kB figure of a "Name:   1234 kB" line of /proc/self/status, in MiB.
double status_mib(const char* name) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  double kib = 0;
  const size_t n = std::strlen(name);
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, name, n) == 0 && line[n] == ':') {
      std::sscanf(line + n + 1, "%lf", &kib);
      break;
    }
  }
  std::fclose(f);
  return kib / 1024.0;
}

}  // namespace

double resident_mib() { return status_mib("VmRSS"); }
double peak_resident_mib() { return status_mib("VmHWM"); }
double resident_anon_mib() { return status_mib("RssAnon"); }
double resident_file_mib() { return status_mib("RssFile"); }

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
double malloc_live_mib() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}
double malloc_free_held_mib() { return static_cast<double>(mallinfo2().fordblks) / (1024.0 * 1024.0); }
#else
double malloc_live_mib() { return 0; }
double malloc_free_held_mib() { return 0; }
#endif

void log_memory(const char* stage) {
  auto mib = [](double v) { return static_cast<int64_t>(std::lround(v)); };
  log_info("memory: ", stage, ": resident ", mib(resident_mib()), " MiB (anonymous ", mib(resident_anon_mib()),
           ", file ", mib(resident_file_mib()), "), peak ", mib(peak_resident_mib()), " MiB; malloc: live ",
           mib(malloc_live_mib()), " MiB, free held ", mib(malloc_free_held_mib()), " MiB");
}

void keep_large_allocations() {
  mallopt(M_MMAP_THRESHOLD, 128 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
}

void release_large_allocations() {
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 20);
  malloc_trim(0);
}

void trim_heap() { malloc_trim(0); }

}  // namespace twotower
