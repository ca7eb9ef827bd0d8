#include "twotower/common/memory.h"

#include <malloc.h>
#include <sys/resource.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "twotower/common/error.h"
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

// "1,024 MiB" for a resource limit, "unlimited" when it has none.
std::string limit_text(int resource) {
  rlimit limit{};
  if (getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return "unlimited";
  return str_cat(static_cast<int64_t>(limit.rlim_cur >> 20), " MiB");
}

// MemAvailable of /proc/meminfo, in MiB (0 where it is absent).
int64_t available_mib() {
  std::FILE* f = std::fopen("/proc/meminfo", "r");
  if (f == nullptr) return 0;
  char line[256];
  long long kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "MemAvailable: %lld kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib / 1024;
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

std::string memory_limits_summary() {
  return str_cat("data limit ", limit_text(RLIMIT_DATA), ", address-space limit ", limit_text(RLIMIT_AS),
                 ", peak resident ", static_cast<int64_t>(std::lround(peak_resident_mib())), " MiB, available ",
                 available_mib(), " MiB");
}

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
