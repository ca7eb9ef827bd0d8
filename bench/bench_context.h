// What every Google Benchmark binary of bench/ prints before its figures: the command that ran it
// and the machine (CPU, cores, load average), so a reader can rerun it and weigh the numbers.
#pragma once

#include <benchmark/benchmark.h>

#include <string>

#include "train/machine.h"

namespace twotower {

/// The body of each benchmark's main(): the context above, then the benchmarks asked for.
inline int benchmark_main(int argc, char** argv) {
  std::string command;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) command += ' ';
    command += argv[i];
  }
  benchmark::AddCustomContext("command", command);
  // Other jobs on the same cores inflate wall time; the load average says how much.
  MachineInfo m = machine_info();
  benchmark::AddCustomContext("machine", m.cpu_model + ", " + std::to_string(m.cores) + " cores, " + load_text(m));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace twotower
