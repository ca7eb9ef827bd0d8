#include "train_workers.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>

#include "twotower/common/error.h"
#include "twotower/common/log.h"

extern char** environ;

namespace twotower::cli {

std::vector<std::string> torchrun_command(int nproc, const std::vector<std::string>& train_args) {
  if (nproc < 1) fail("train --nproc: got ", nproc, ", expected >= 1");
  std::vector<std::string> argv{TWOTOWER_PYTHON, "-m", "torch.distributed.run", "--standalone",
                                "--nproc_per_node", std::to_string(nproc), "-m", "twotower", "train"};
  argv.insert(argv.end(), train_args.begin(), train_args.end());
  return argv;
}

int run_train_workers(int nproc, const std::vector<std::string>& train_args) {
  std::vector<std::string> argv = torchrun_command(nproc, train_args);
  // This checkout's package first, so the workers run the same build as this program.
  std::vector<std::string> env_text;
  const std::string package_dir = std::string(TWOTOWER_SOURCE_DIR) + "/python";
  const char* old_path = std::getenv("PYTHONPATH");
  env_text.push_back("PYTHONPATH=" + package_dir + (old_path && *old_path ? std::string(":") + old_path : ""));
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "PYTHONPATH=", 11) != 0) env_text.emplace_back(*e);
  }
  std::vector<char*> args, env;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  for (std::string& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  std::string shown;
  for (const std::string& a : argv) shown += (shown.empty() ? "" : " ") + a;
  log_info("train: starting ", nproc, " workers: ", shown);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), env.data());
  if (rc != 0) fail("train --nproc: cannot start ", argv[0], ": ", std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail("train --nproc: waiting for torchrun failed: ", std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace twotower::cli
