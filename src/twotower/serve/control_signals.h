// The control signals of a server process: SIGHUP reloads, SIGTERM and SIGINT stop. They are
// taken synchronously by sigwait on one thread, never in an asynchronous handler, so the actions
// may do anything a thread may (load an export, join workers).
#pragma once

#include <functional>
#include <string>

namespace twotower {

class HttpServer;

/// Blocks SIGHUP, SIGTERM and SIGINT in the calling thread; threads started from it afterwards
/// inherit the block. Call it at the top of main, before any thread starts: a thread that does
/// not block them could take one with its default action, which ends the process.
void block_control_signals();

struct ControlSignalActions {
  std::function<void()> on_reload;  // SIGHUP
  std::function<void()> on_stop;    // SIGTERM or SIGINT
};

/// Waits in the calling thread, which must have blocked the signals, and runs their actions:
/// after SIGHUP's it waits again, after SIGTERM's or SIGINT's it returns that signal's number.
/// An exception from an action propagates; Error when sigwait fails.
int wait_for_control_signals(const ControlSignalActions& actions);

/// The loop of `twotower serve`: SIGHUP reloads `server`'s default export (a failed reload is
/// passed to `report` and the old export keeps serving), SIGTERM/SIGINT stop it, draining the
/// requests in flight. Returns the stopping signal's number. Same preconditions as above.
int serve_until_stopped(HttpServer& server, const std::function<void(const std::string&)>& report);

}  // namespace twotower
