#include "train_workers.h"

#include <cstdlib>

#include "twotower/common/child_process.h"
#include "twotower/common/error.h"
#include "twotower/common/log.h"
#include "twotower_build_paths.h"

namespace twotower::cli {

std::vector<std::string> torchrun_command(int nproc, const std::vector<std::string>& train_args) {
  if (nproc < 1) fail("train --nproc: got ", nproc, ", expected >= 1");
  std::vector<std::string> argv{TWOTOWER_PYTHON, "-m", "torch.distributed.run", "--standalone",
                                "--nproc_per_node", std::to_string(nproc), "-m", "twotower", "train"};
  argv.insert(argv.end(), train_args.begin(), train_args.end());
  return argv;
}

int run_train_workers(int nproc, const std::vector<std::string>& train_args) {
  const std::vector<std::string> argv = torchrun_command(nproc, train_args);
  // This checkout's package first, so the workers run the same build as this program.
  const std::string package_dir = std::string(TWOTOWER_SOURCE_DIR) + "/python";
  const char* old_path = std::getenv("PYTHONPATH");
  const std::string python_path = package_dir + (old_path && *old_path ? std::string(":") + old_path : "");
  std::string shown;
  for (const std::string& a : argv) shown += (shown.empty() ? "" : " ") + a;
  log_info("train: starting ", nproc, " workers: ", shown);
  return run_child_process(argv, {"PYTHONPATH=" + python_path}, "train --nproc");
}

}  // namespace twotower::cli
