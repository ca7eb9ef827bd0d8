#include "twotower/serve/control_signals.h"

#include <pthread.h>

#include <csignal>
#include <cstring>
#include <exception>

#include "twotower/common/error.h"
#include "twotower/serve/http/http_server.h"

namespace twotower {
namespace {

sigset_t control_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void block_control_signals() {
  sigset_t set = control_signal_set();
  int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr);
  if (rc != 0) fail("blocking SIGHUP/SIGTERM/SIGINT: pthread_sigmask failed: ", std::strerror(rc));
}

int wait_for_control_signals(const ControlSignalActions& actions) {
  sigset_t set = control_signal_set();
  while (true) {
    int signal = 0;
    int rc = sigwait(&set, &signal);
    if (rc != 0) fail("waiting for SIGHUP/SIGTERM/SIGINT: sigwait failed: ", std::strerror(rc));
    if (signal == SIGHUP) {
      if (actions.on_reload) actions.on_reload();
      continue;
    }
    if (actions.on_stop) actions.on_stop();
    return signal;
  }
}

int serve_until_stopped(HttpServer& server, const std::function<void(const std::string&)>& report) {
  ControlSignalActions actions;
  actions.on_reload = [&] {
    try {
      ExportInfo info = server.reload("");
      report(str_cat("SIGHUP: reloaded ", info.path, " (version ", info.version, ", ", info.num_items, " items)"));
    } catch (const std::exception& e) {
      report(str_cat("SIGHUP: reload failed, still serving the previous export: ", e.what()));
    }
  };
  actions.on_stop = [&] {
    report("stopping: answering the requests in flight");
    server.stop();
  };
  return wait_for_control_signals(actions);
}

}  // namespace twotower
