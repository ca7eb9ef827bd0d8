// The HTTP/JSON front end of a RecommendService (cpp-httplib underneath):
//   POST /recommend       {"user_id": "u"} or {"history": [...]}, "k", "exclude_seen", "exclude"
//                         -> {"items": [{"item_id", "title", "score"}], "source": "known_user"}
//   GET  /similar/{item}?k=N -> {"items": [...]}
//   GET  /health          -> {"status": "ok", "version", "path", "num_users", "num_items", ...}
//   GET  /metrics         -> Prometheus text (see http_metrics.h)
//   POST /items           [NewItem, ...] or {"items": [...]} -> {"added": n}          (mutating)
//   POST /reload          optional {"version": "..."} -> {"reloaded": true, "version", ...} (mutating)
// Errors are JSON {"error": message}: 400 for malformed JSON, wrong types, missing or unknown
// fields, k outside [1, max_k()] and other twotower::Error; 404 for NotFoundError and unknown
// routes; 405 for a known route with another method; 413 for a body over max_body_bytes; 401/403
// for mutating calls the access rule (http_access.h) refuses; 500 with the message for any other
// exception. No input ends the process.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "twotower/serve/http/fifo_slots.h"
#include "twotower/serve/http/http_metrics.h"
#include "twotower/serve/recommend_service.h"
#include "twotower/serve/service_slot.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace twotower {

struct HttpServerOptions {
  std::string host = "127.0.0.1";           // address to bind; "0.0.0.0" for every interface
  int port = 0;                             // [0, 65535]; 0 picks a free port, see HttpServer::port()
  int threads = 4;       // [1, 1024] request workers: at most this many requests are answered at
                         // once (/recommend, /similar, /items; about a core each), the rest wait
  int connections = 0;   // [0, 4096] connections served at once, each on a thread that reads its
                         // requests and waits on its socket between them (keep-alive); more wait to
                         // be accepted. 0 = max(threads, 64)
  size_t max_body_bytes = 1 << 20;          // >= 1; a larger request body is answered 413
  std::chrono::milliseconds read_timeout{5000};   // > 0, per read of a request
  std::chrono::milliseconds write_timeout{5000};  // > 0, per write of a response
  std::chrono::seconds keep_alive_timeout{5};     // >= 1; an idle keep-alive connection closes
                                                  // after it, and stop() may wait that long for one
  size_t keep_alive_max_requests = 10000;   // >= 1 requests on one connection before it closes
  std::string token;  // "": /items and /reload answer loopback callers only; else the bearer token they require
};

/// Throws Error naming every option out of its range, with the value got.
void validate(const HttpServerOptions& options);

/// Loads the service a reload swaps in; `version` is "" for the default (the newest export).
/// Throws what loading throws (NotFoundError for an unknown version: the reload answers 404).
using ServiceLoader = std::function<std::shared_ptr<RecommendService>(const std::string& version)>;

/// Thread-safe: reload, stop, port, service and metrics may be called from any thread while the
/// server runs (stop from a request handler would wait for itself: don't).
class HttpServer {
 public:
  /// `service` must not be null; `loader` may be empty (POST /reload then answers 500 and reload
  /// throws). Throws Error for invalid options.
  HttpServer(std::shared_ptr<RecommendService> service, ServiceLoader loader, HttpServerOptions options);
  /// stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds host:port and answers requests on background threads from then on. Throws Error when
  /// the address cannot be bound or the server was started before.
  void start();
  /// The bound port (the one picked when options.port was 0); 0 before start().
  int port() const { return port_; }
  /// Loads `version` through the loader and swaps it in. Requests already running finish on the
  /// old service; later ones get the new. Reloads run one at a time. Throws what the loader throws
  /// and keeps the old service then.
  ExportInfo reload(const std::string& version);
  /// Stops accepting connections and returns once every request in flight has been answered (an
  /// idle keep-alive connection may hold it for up to keep_alive_timeout). Idempotent.
  void stop();

  /// The service requests are answered with now.
  std::shared_ptr<RecommendService> service() const { return slot_.get(); }
  const HttpMetrics& metrics() const { return metrics_; }

 private:
  void install_routes();
  void install_hooks();
  /// Answers 401/403 and returns false when the access rule refuses a mutating call.
  bool allow_mutation(const httplib::Request& request, httplib::Response& response) const;
  void handle_recommend(const httplib::Request& request, httplib::Response& response) const;
  void handle_similar(const httplib::Request& request, httplib::Response& response) const;
  void handle_health(const httplib::Request& request, httplib::Response& response) const;
  void handle_metrics(const httplib::Request& request, httplib::Response& response) const;
  void handle_items(const httplib::Request& request, httplib::Response& response);
  void handle_reload(const httplib::Request& request, httplib::Response& response);

  HttpServerOptions options_;
  FifoSlots workers_;  // options_.threads slots, handed out in request order
  ServiceLoader loader_;
  ServiceSlot slot_;
  HttpMetrics metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::mutex reload_mutex_;
  std::mutex lifecycle_mutex_;  // start and stop
  std::thread listener_;
  std::atomic<int> port_{0};
};

}  // namespace twotower
