// `twotower train --nproc N`: the local shortcut for data-parallel training, which starts N worker
// processes through torchrun (`python -m torch.distributed.run --standalone`), each running
// `python -m twotower train ...` with the same arguments.
#pragma once

#include <string>
#include <vector>

namespace twotower::cli {

/// The command that starts `nproc` workers of `twotower train train_args...` on this machine.
std::vector<std::string> torchrun_command(int nproc, const std::vector<std::string>& train_args);

/// Runs torchrun_command (the project's Python, this checkout's package first on PYTHONPATH) with
/// this process's terminal and waits: returns torchrun's exit code (non-zero, with its message
/// naming the failed rank, when a worker fails). Throws twotower::Error when it cannot start.
int run_train_workers(int nproc, const std::vector<std::string>& train_args);

}  // namespace twotower::cli
