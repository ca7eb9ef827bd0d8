// Raw bytes sent to the HTTP service of `twotower serve` (HttpServer: cpp-httplib's request
// parser, then the routes, access rule and JSON handling) over a loopback connection, as a client
// would: one or more pipelined requests, then end of input. The service behind it is a stand-in
// with the RecommendService contract (no model), so that what is fuzzed is the request path alone.
// A crash or sanitizer report in the server threads ends the process like one in this thread; a
// request the server never answers shows as a hang (the reply is read with a 5 s limit).
// cpp-httplib is Debian's compiled library, not instrumented: coverage guides the search through
// the service's own code, and AddressSanitizer sees the library's heap use through its interceptors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "twotower/serve/http/http_server.h"

namespace {

using namespace twotower;

/// Known items are "i0".."i99", known users "u0".."u99"; anything else is NotFoundError.
class StandInService : public RecommendService {
 public:
  RecommendResult recommend(const RecommendRequest& request) const override {
    RecommendResult result;
    if (!request.user_id.empty()) {
      check_known(request.user_id, 'u');
    } else {
      for (const auto& item : request.history) check_known(item, 'i');
      result.source = request.history.empty() ? QuerySource::kColdUser : QuerySource::kHistory;
    }
    for (const auto& item : request.exclude) check_known(item, 'i');
    result.items = top(request.k);
    return result;
  }
  std::vector<Recommendation> similar(const std::string& item_id, int64_t k) const override {
    check_known(item_id, 'i');
    return top(k);
  }
  int64_t add_items(const std::vector<NewItem>& items) override {
    for (const auto& item : items) {
      if (item.item_id.size() > 1 && item.item_id[0] == 'i') throw Error("item \"" + item.item_id + "\" exists");
    }
    return static_cast<int64_t>(items.size());
  }
  ExportInfo info() const override { return {"v000001", "/fuzz/export", 100, 100, 8, "exact"}; }
  int64_t max_k() const override { return 100; }

 private:
  static void check_known(const std::string& id, char kind) {
    if (id.size() < 2 || id.size() > 3 || id[0] != kind) throw NotFoundError("unknown id \"" + id + "\"");
  }
  static std::vector<Recommendation> top(int64_t k) {
    std::vector<Recommendation> items;
    for (int64_t i = 0; i < k; ++i) items.push_back({"i" + std::to_string(i), "title \xe2\x9c\x93", 1.0f / (i + 1)});
    return items;
  }
};

HttpServer& server() {
  static HttpServer* instance = [] {
    HttpServerOptions options;
    options.threads = 2;
    options.max_body_bytes = 1024;
    options.read_timeout = std::chrono::milliseconds(200);
    options.write_timeout = std::chrono::milliseconds(200);
    options.keep_alive_timeout = std::chrono::seconds(1);
    options.keep_alive_max_requests = 8;
    options.token = "fuzz-token";
    ServiceLoader loader = [](const std::string& version) -> std::shared_ptr<RecommendService> {
      if (!version.empty() && version != "v000001") throw NotFoundError("no export version \"" + version + "\"");
      return std::make_shared<StandInService>();
    };
    auto* s = new HttpServer(std::make_shared<StandInService>(), loader, options);  // lives to the end
    s->start();
    return s;
  }();
  return *instance;
}

/// Connects `fd`; a connect interrupted by a signal (libFuzzer's timer) goes on in the kernel, so
/// its end is awaited. Aborts when the connection fails.
void connect_or_abort(int fd, const sockaddr_in& address) {
  int error = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    error = errno;
    if (error == EINTR) {
      pollfd p{fd, POLLOUT, 0};
      while (poll(&p, 1, 5000) < 0 && errno == EINTR) {
      }
      socklen_t length = sizeof(error);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    }
  }
  if (error != 0) {
    std::fprintf(stderr, "http_request_fuzz: connect: %s\n", std::strerror(error));
    std::abort();
  }
}

/// Sends `size` bytes on a new loopback connection, closes the sending side and reads the replies
/// until the server closes the connection.
void exchange(int port, const uint8_t* data, size_t size) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) std::abort();
  timeval limit{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
  // Each connection from the next loopback source address (127.1.x.y): one address's ephemeral
  // ports, each held 60 s in TIME_WAIT, run out at thousands of connections a second.
  static uint32_t next_source = 0;
  const uint32_t n = next_source++;
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | (((n / 254) % 256) << 8) | (n % 254 + 1));
  if (bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof(source)) != 0) {
    std::fprintf(stderr, "http_request_fuzz: bind: %s\n", std::strerror(errno));
    std::abort();
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connect_or_abort(fd, address);
  for (size_t sent = 0; sent < size;) {
    const ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early (413, a malformed request line)
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char buffer[4096];
  for (;;) {
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) __builtin_trap();  // no answer within 5 s: a hang
      break;  // reset by the server
    }
  }
  close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  exchange(server().port(), data, size);
  return 0;
}
