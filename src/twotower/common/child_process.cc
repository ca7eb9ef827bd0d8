#include "twotower/common/child_process.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "twotower/common/error.h"

extern char** environ;

namespace twotower {
namespace {

std::string variable_name(const std::string& entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

int run_child_process(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                      const std::string& what) {
  if (argv.empty() || argv[0].empty()) fail(what, ": got no program to start, expected its path");
  std::vector<std::string> env_text = environment;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    bool replaced = false;
    for (const std::string& own : environment) replaced = replaced || variable_name(own) == variable_name(entry);
    if (!replaced) env_text.push_back(entry);
  }
  std::vector<std::string> arg_text = argv;
  std::vector<char*> args, env;
  for (std::string& a : arg_text) args.push_back(a.data());
  args.push_back(nullptr);
  for (std::string& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), env.data());
  if (rc != 0) fail(what, ": cannot start ", argv[0], ": ", std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail(what, ": waiting for ", argv[0], " failed: ", std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace twotower
