#include "train/machine.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "twotower/common/error.h"

extern char** environ;

namespace twotower {

MachineInfo machine_info() {
  MachineInfo info;
  info.cpu_model = "unknown";
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) info.cpu_model = line.substr(line.find_first_not_of(' ', colon + 1));
      break;
    }
  }
  info.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  std::ifstream load("/proc/loadavg");
  load >> info.load1 >> info.load5 >> info.load15;
  return info;
}

std::string load_text(const MachineInfo& info) {
  char text[64];
  std::snprintf(text, sizeof text, "load %.2f %.2f %.2f", info.load1, info.load5, info.load15);
  return text;
}

ChildResult run_child(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  if (argv.empty()) fail("run_child: empty command");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) fail("cannot start ", argv[0], " (error ", rc, ")");
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) < 0) fail("waiting for ", argv[0], " failed");
  ChildResult result;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.peak_rss_kib = usage.ru_maxrss;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string log_tail(const std::filesystem::path& log) {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i) out += "\n  " + lines[i];
  return out;
}

}  // namespace twotower
