#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "commands.h"
#include "twotower/common/log.h"
#include "twotower/serve/control_signals.h"
#include "twotower/serve/http/http_server.h"
#include "twotower/serve/service_factory.h"

namespace twotower::cli {
namespace {

struct ServeOptions {
  std::filesystem::path export_dir;
  std::string version;              // "" : the newest export
  std::string index_kind = "exact";
  HttpServerOptions http;
};

void run_serve(const ServeOptions& options) {
  // Before the loader or the server starts a thread: every thread inherits the block, and the
  // signals wait for serve_until_stopped.
  block_control_signals();
  ServiceLoader load = [options](const std::string& version) {
    return load_recommend_service(options.export_dir, version, options.index_kind);
  };
  std::shared_ptr<RecommendService> service = load(options.version);
  ExportInfo info = service->info();
  HttpServer server(service, load, options.http);
  server.start();
  log_info("serving ", info.path, " (version ", info.version, ", ", info.num_items, " items, ", info.index_kind,
           " index) on http://", options.http.host, ":", server.port(), " with ", options.http.threads,
           " request workers; SIGHUP reloads the newest export, SIGTERM stops");
  int signal = serve_until_stopped(server, [](const std::string& line) { log_info(line); });
  log_info("stopped on ", strsignal(signal));
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "HTTP/JSON recommendation service over a model export");
  cmd->add_option("--export", options->export_dir, "export folder (twotower export --out)")->required();
  cmd->add_option("--version", options->version, "export version to serve first (default: the newest)");
  cmd->add_option("--index", options->index_kind, "top-K index")->check(CLI::IsMember({"exact", "hnsw"}))
      ->capture_default_str();
  cmd->add_option("--host", options->http.host, "address to bind (0.0.0.0: every interface)")->capture_default_str();
  cmd->add_option("--port", options->http.port, "port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  options->http.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cmd->add_option("--threads", options->http.threads, "request workers: requests answered at once (default: the cores)")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--connections", options->http.connections,
                  "connections served at once, a waiting thread each (0: max(threads, 64))")
      ->check(CLI::Range(0, 4096))->capture_default_str();
  cmd->add_option("--keep-alive-requests", options->http.keep_alive_max_requests,
                  "requests on one connection before the server closes it (1: none kept alive)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-body-bytes", options->http.max_body_bytes, "larger request bodies get 413")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--token", options->http.token,
                  "bearer token /items and /reload require (default: none, loopback callers only)")
      ->envname("TWOTOWER_SERVE_TOKEN");
  cmd->callback([options] { run_serve(*options); });
}

}  // namespace twotower::cli
