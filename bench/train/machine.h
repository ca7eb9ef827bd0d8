// What a benchmark prints about the machine it ran on, and the child processes it measures.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace twotower {

struct MachineInfo {
  std::string cpu_model;  // /proc/cpuinfo "model name", "unknown" when absent
  int cores = 0;          // online logical CPUs
  double load1 = 0, load5 = 0, load15 = 0;  // /proc/loadavg
};

/// Reads the CPU model, core count and load averages.
MachineInfo machine_info();
/// "load 1.52 1.40 1.31".
std::string load_text(const MachineInfo& info);

struct ChildResult {
  int exit_code = -1;        // the child's exit status; 128 + signal when killed
  double seconds = 0;        // wall time
  int64_t peak_rss_kib = 0;  // ru_maxrss of the child (wait4)
};

/// Runs argv[0] (a path) with argv, stdout and stderr appended to `log`, and waits for it.
ChildResult run_child(const std::vector<std::string>& argv, const std::filesystem::path& log);

/// The last 8 lines of `log`, each on a new line indented by two spaces: what a failed child said.
std::string log_tail(const std::filesystem::path& log);

}  // namespace twotower
