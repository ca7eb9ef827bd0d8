// Starting another program and waiting for it: `twotower train --nproc` starts torchrun, and
// `twotower bench` starts the benchmark program (bench/), each with this process's terminal.
#pragma once

#include <string>
#include <vector>

namespace twotower {

/// Runs argv[0] (a path; no search of PATH) with the arguments argv[1..], this process's standard
/// streams, and its environment with `environment` ("NAME=value" each) replacing the variables of
/// the same names. Waits for it and returns its exit code, or 128 + the signal that ended it.
/// Throws twotower::Error naming `what` and the program when it cannot be started or waited for.
int run_child_process(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                      const std::string& what);

}  // namespace twotower
