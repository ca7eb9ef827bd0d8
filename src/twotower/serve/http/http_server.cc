#include "twotower/serve/http/http_server.h"

#include <httplib.h>

#include <algorithm>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/serve/http/http_access.h"
#include "twotower/serve/http/http_json.h"

namespace twotower {
namespace {

using httplib::Request;
using httplib::Response;

constexpr const char* kJsonType = "application/json";
constexpr const char* kPrometheusType = "text/plain; version=0.0.4; charset=utf-8";
constexpr int kMaxPort = 65535;
constexpr int kMaxThreads = 1024;
constexpr int kMaxConnections = 4096;
constexpr int kDefaultConnections = 64;
constexpr auto kStartTimeout = std::chrono::seconds(10);
// Connections waiting to be accepted. httplib listens with a backlog of 5 (compiled into the
// Debian library): more clients connecting at once than that get their SYN dropped and retry a
// second later, which shows as 1 s tail latency under load.
constexpr int kListenBacklog = 1024;
constexpr const char* kRoutes =
    "POST /recommend, GET /similar/{item}, GET /health, GET /metrics, POST /items, POST /reload";

// httplib's server with its listening socket's backlog widened (listen() again on a listening
// socket sets the new backlog on Linux).
class ListeningServer : public httplib::Server {
 public:
  void widen_backlog(int backlog) { ::listen(svr_sock_, backlog); }
};

// When the request this worker thread is answering was routed: the latency the logger records.
thread_local std::optional<std::chrono::steady_clock::time_point> request_started;

void set_error(Response& response, int status, const std::string& message) {
  response.status = status;
  response.set_content(error_json(message), kJsonType);
}

// The one place exceptions become responses (see the status table in http_server.h).
void answer_exception(const std::exception_ptr& error, Response& response) {
  try {
    std::rethrow_exception(error);
  } catch (const NotFoundError& e) {
    set_error(response, 404, e.what());
  } catch (const Error& e) {
    set_error(response, 400, e.what());
  } catch (const std::exception& e) {
    set_error(response, 500, str_cat("internal error: ", e.what()));
  } catch (...) {
    set_error(response, 500, "internal error: an exception of unknown type");
  }
}

// A handler whose exceptions are answered here rather than by httplib.
template <typename Handler>
httplib::Server::Handler guarded(Handler handler) {
  return [handler = std::move(handler)](const Request& request, Response& response) {
    try {
      handler(request, response);
    } catch (...) {
      answer_exception(std::current_exception(), response);
    }
  };
}

// The body of an error httplib answered itself (unknown route, oversized body, bad request line).
std::string httplib_error_message(const Request& request, const Response& response, size_t max_body_bytes) {
  switch (response.status) {
    case 404: return str_cat("no route for ", request.method, " ", request.path, ": expected one of ", kRoutes);
    case 413:
      return str_cat("request body of ", request.get_header_value("Content-Length"),
                     " bytes: expected at most ", max_body_bytes);
    case 400:
      return "malformed HTTP request: expected a request line such as \"POST /recommend HTTP/1.1\", headers of at "
             "most 8192 bytes and a body matching its Content-Length";
    default: return str_cat("HTTP ", response.status, " answering ", request.method, " ", request.path);
  }
}

}  // namespace

void validate(const HttpServerOptions& options) {
  std::vector<std::string> problems;
  if (options.host.empty()) problems.push_back("host: got \"\", expected an address such as 127.0.0.1");
  if (options.port < 0 || options.port > kMaxPort) {
    problems.push_back(str_cat("port: got ", options.port, ", expected 0 (any free port) to ", kMaxPort));
  }
  if (options.threads < 1 || options.threads > kMaxThreads) {
    problems.push_back(str_cat("threads: got ", options.threads, ", expected 1 to ", kMaxThreads));
  }
  if (options.connections < 0 || options.connections > kMaxConnections) {
    problems.push_back(str_cat("connections: got ", options.connections, ", expected 0 (max(threads, ",
                               kDefaultConnections, ")) to ", kMaxConnections));
  }
  if (options.max_body_bytes < 1) problems.push_back("max_body_bytes: got 0, expected at least 1");
  if (options.read_timeout.count() <= 0) {
    problems.push_back(str_cat("read_timeout: got ", options.read_timeout.count(), " ms, expected > 0"));
  }
  if (options.write_timeout.count() <= 0) {
    problems.push_back(str_cat("write_timeout: got ", options.write_timeout.count(), " ms, expected > 0"));
  }
  if (options.keep_alive_timeout.count() < 1) {
    problems.push_back(str_cat("keep_alive_timeout: got ", options.keep_alive_timeout.count(), " s, expected >= 1"));
  }
  if (options.keep_alive_max_requests < 1) problems.push_back("keep_alive_max_requests: got 0, expected >= 1");
  if (problems.empty()) return;
  std::string message = "invalid HTTP server options:";
  for (const std::string& p : problems) message += "\n  " + p;
  fail(message);
}

HttpServer::HttpServer(std::shared_ptr<RecommendService> service, ServiceLoader loader, HttpServerOptions options)
    : options_(std::move(options)), workers_(options_.threads), loader_(std::move(loader)), slot_(std::move(service)),
      server_(std::make_unique<ListeningServer>()) {
  validate(options_);
  install_hooks();
  install_routes();
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::install_hooks() {
  // httplib gives each connection a thread until it closes; the request workers are the
  // slots the routes take (install_routes), so kept-alive connections do not starve the rest.
  const auto connections =
      static_cast<size_t>(options_.connections > 0 ? options_.connections : std::max(options_.threads, kDefaultConnections));
  server_->new_task_queue = [connections] { return new httplib::ThreadPool(connections); };
  server_->set_payload_max_length(options_.max_body_bytes);
  // httplib's default also sets SO_REUSEPORT, with which a second server on the same port starts
  // and silently takes half the connections: SO_REUSEADDR alone makes that a bind error.
  server_->set_socket_options([](socket_t socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Without it a response waits for the client's delayed ACK (40 ms on Linux) behind Nagle.
  server_->set_tcp_nodelay(true);
  server_->set_read_timeout(options_.read_timeout);
  server_->set_write_timeout(options_.write_timeout);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout.count());
  server_->set_keep_alive_max_count(options_.keep_alive_max_requests);
  server_->set_exception_handler([](const Request&, Response& response, std::exception_ptr error) {
    answer_exception(error, response);
  });
  size_t max_body = options_.max_body_bytes;
  // Called for every status >= 400, ours included: it fills only the bodies httplib left empty.
  httplib::Server::HandlerWithResponse fill_error = [max_body](const Request& request, Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    set_error(response, response.status, httplib_error_message(request, response, max_body));
    return httplib::Server::HandlerResponse::Handled;
  };
  server_->set_error_handler(fill_error);
  server_->set_pre_routing_handler([](const Request&, Response&) {
    request_started = std::chrono::steady_clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Recorded once the status is final but before the response is written (httplib calls the
  // post-routing handler there; its logger runs after the write), so a client that has its
  // answer finds it counted in /metrics.
  server_->set_post_routing_handler([this](const Request& request, Response& response) {
    double seconds = 0;
    if (request_started) {
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - *request_started).count();
      request_started.reset();
    }
    metrics_.record_request(endpoint_of_path(request.path), response.status, seconds);
  });
}

void HttpServer::install_routes() {
  auto bind = [this](auto method) {
    return guarded([this, method](const Request& request, Response& response) { (this->*method)(request, response); });
  };
  // The service's work holds one of the `threads` worker slots; /health, /metrics and /reload
  // (a load beside the served export) answer without waiting for one.
  auto bind_worker = [this](auto method) {
    return guarded([this, method](const Request& request, Response& response) {
      FifoSlots::Held worker(workers_);
      (this->*method)(request, response);
    });
  };
  server_->Post("/recommend", bind_worker(&HttpServer::handle_recommend));
  server_->Get(R"(/similar/(.+))", bind_worker(&HttpServer::handle_similar));
  server_->Get("/health", bind(&HttpServer::handle_health));
  server_->Get("/metrics", bind(&HttpServer::handle_metrics));
  server_->Post("/items", bind_worker(&HttpServer::handle_items));
  server_->Post("/reload", bind(&HttpServer::handle_reload));

  // A known route asked with another method: 405 with the method it takes.
  auto not_allowed = [](const char* allowed) {
    return [allowed](const Request& request, Response& response) {
      response.set_header("Allow", allowed);
      set_error(response, 405, str_cat(request.method, " ", request.path, ": expected ", allowed));
    };
  };
  for (const char* path : {"/recommend", "/items", "/reload"}) {
    server_->Get(path, not_allowed("POST"));
    server_->Put(path, not_allowed("POST"));
    server_->Patch(path, not_allowed("POST"));
    server_->Delete(path, not_allowed("POST"));
  }
  for (const char* path : {R"(/similar/(.+))", "/health", "/metrics"}) {
    server_->Post(path, not_allowed("GET"));
    server_->Put(path, not_allowed("GET"));
    server_->Patch(path, not_allowed("GET"));
    server_->Delete(path, not_allowed("GET"));
  }
}

void HttpServer::start() {
  std::lock_guard lock(lifecycle_mutex_);
  if (listener_.joinable()) fail("HttpServer::start: the server was started before, expected one start");
  int port = options_.port;
  bool bound = port == 0 ? (port = server_->bind_to_any_port(options_.host)) > 0
                         : server_->bind_to_port(options_.host, port);
  if (!bound) {
    fail("cannot listen on ", options_.host, ":", options_.port,
         ": expected a local address and a free port (is another server running there?)");
  }
  port_ = port;
  static_cast<ListeningServer&>(*server_).widen_backlog(kListenBacklog);
  auto listening_done = std::make_shared<std::atomic<bool>>(false);
  listener_ = std::thread([this, listening_done] {
    server_->listen_after_bind();
    *listening_done = true;
  });
  // stop() does nothing until httplib marks itself running: wait for that here.
  auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!server_->is_running()) {
    if (*listening_done || std::chrono::steady_clock::now() > deadline) {
      fail("HttpServer::start: ", options_.host, ":", port, " was bound but the server did not start accepting");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void HttpServer::stop() {
  std::lock_guard lock(lifecycle_mutex_);
  if (!listener_.joinable()) return;
  // httplib closes the listening socket, then joins its workers once each has answered the
  // request it is on: that join is the drain.
  server_->stop();
  listener_.join();
}

ExportInfo HttpServer::reload(const std::string& version) {
  std::lock_guard lock(reload_mutex_);
  try {
    if (!loader_) fail("reload: this server was started without a loader, expected one to reload with");
    std::shared_ptr<RecommendService> next = loader_(version);
    if (!next) fail("reload of version \"", version, "\": the loader returned no service, expected a loaded one");
    ExportInfo info = next->info();
    slot_.swap(std::move(next));
    metrics_.record_reload(true);
    return info;
  } catch (...) {
    metrics_.record_reload(false);
    throw;
  }
}

bool HttpServer::allow_mutation(const Request& request, Response& response) const {
  switch (decide_mutation_access(request.remote_addr, request.get_header_value("Authorization"), options_.token)) {
    case AccessDecision::kAllowed: return true;
    case AccessDecision::kUnauthorized:
      response.set_header("WWW-Authenticate", "Bearer");
      set_error(response, 401, str_cat(request.path, ": got no bearer token, expected Authorization: Bearer <token>"));
      return false;
    case AccessDecision::kForbidden:
      set_error(response, 403,
                options_.token.empty()
                    ? str_cat(request.path, ": got a call from ", request.remote_addr,
                              ", expected a loopback caller (the server was started without a token)")
                    : str_cat(request.path, ": got a wrong bearer token"));
      return false;
  }
  return false;
}

void HttpServer::handle_recommend(const Request& request, Response& response) const {
  std::shared_ptr<RecommendService> service = slot_.get();
  RecommendResult result = service->recommend(parse_recommend_request(request.body, service->max_k()));
  response.set_content(recommendations_json(result.items, &result.source), kJsonType);
}

void HttpServer::handle_similar(const Request& request, Response& response) const {
  std::shared_ptr<RecommendService> service = slot_.get();
  std::optional<std::string> k_text;
  if (request.has_param("k")) k_text = request.get_param_value("k");
  int64_t k = parse_k_parameter(k_text ? &*k_text : nullptr, service->max_k());
  std::vector<Recommendation> items = service->similar(request.matches[1].str(), k);
  response.set_content(recommendations_json(items, nullptr), kJsonType);
}

void HttpServer::handle_health(const Request&, Response& response) const {
  response.set_content(health_json(slot_.get()->info()), kJsonType);
}

void HttpServer::handle_metrics(const Request&, Response& response) const {
  response.set_content(metrics_.prometheus_text(slot_.get()->info()) +
                           HttpMetrics::workers_text(options_.threads, workers_.waiting()),
                       kPrometheusType);
}

void HttpServer::handle_items(const Request& request, Response& response) {
  if (!allow_mutation(request, response)) return;
  std::vector<NewItem> items = parse_new_items(request.body);
  response.set_content(added_json(slot_.get()->add_items(items)), kJsonType);
}

void HttpServer::handle_reload(const Request& request, Response& response) {
  if (!allow_mutation(request, response)) return;
  response.set_content(reloaded_json(reload(parse_reload_request(request.body))), kJsonType);
}

}  // namespace twotower
