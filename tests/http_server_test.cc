#include "twotower/serve/http/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_test_service.h"
#include "test_util.h"
#include "twotower/serve/http/http_access.h"

namespace twotower {
namespace {

using nlohmann::json;
using testing::FakeService;

constexpr auto kClientTimeout = std::chrono::seconds(10);

// A started server over a FakeService("v1") whose loader makes FakeService(version), "v-default"
// for "", and throws NotFoundError for "missing".
struct Served {
  explicit Served(HttpServerOptions options = {}) {
    fake = std::make_shared<FakeService>("v1");
    ServiceLoader loader = [](const std::string& version) -> std::shared_ptr<RecommendService> {
      if (version == "missing") throw NotFoundError("no export version \"missing\"");
      return std::make_shared<FakeService>(version.empty() ? "v-default" : version);
    };
    server = std::make_unique<HttpServer>(fake, loader, std::move(options));
    server->start();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server->port());
    c.set_connection_timeout(kClientTimeout);
    c.set_read_timeout(kClientTimeout);
    c.set_write_timeout(kClientTimeout);
    c.set_tcp_nodelay(true);  // else a body written after its headers waits 40 ms for an ACK
    return c;
  }
  httplib::Result post(const std::string& path, const std::string& body) const {
    return client().Post(path.c_str(), body, "application/json");
  }
  httplib::Result get(const std::string& path) const { return client().Get(path.c_str()); }

  std::shared_ptr<FakeService> fake;
  std::unique_ptr<HttpServer> server;
};

// The status and the "error" message of a JSON error answer (fails the test when it is none).
std::pair<int, std::string> error_of(const httplib::Result& result) {
  if (!result) {
    ADD_FAILURE() << "no response: " << httplib::to_string(result.error());
    return {0, ""};
  }
  json body = json::parse(result->body, nullptr, false);
  EXPECT_TRUE(body.is_object() && body.contains("error")) << result->body;
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  return {result->status, body.value("error", "")};
}

json ok_json(const httplib::Result& result) {
  if (!result) {
    ADD_FAILURE() << "no response: " << httplib::to_string(result.error());
    return json();
  }
  EXPECT_EQ(result->status, 200) << result->body;
  return json::parse(result->body);
}

// Item ids of an {"items": [...]} answer, in order.
std::vector<std::string> ids(const json& answer) {
  std::vector<std::string> out;
  for (const json& item : answer.at("items")) out.push_back(item.at("item_id"));
  return out;
}

// Sends `request` as raw bytes on a new loopback connection; returns the response (headers and
// a body of its Content-Length), or what came before the connection closed or went quiet.
std::string raw_exchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string reply;
  auto complete = [&reply] {
    size_t end = reply.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::smatch length;
    std::string head = reply.substr(0, end);
    size_t body = std::regex_search(head, length, std::regex("Content-Length: (\\d+)")) ? std::stoul(length[1]) : 0;
    return reply.size() >= end + 4 + body;
  };
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    for (ssize_t n; !complete() && (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
      reply.append(buffer, static_cast<size_t>(n));
    }
  }
  close(fd);
  return reply;
}

// The body of a raw response.
std::string body_of(const std::string& reply) { return reply.substr(std::min(reply.size(), reply.find("\r\n\r\n") + 4)); }

// u1 has seen "a": the rest of the catalogue best first, cut to k; title and score as stored.
TEST(HttpServer, RecommendKnownUserLeavesSeenItemsOut) {
  Served s;
  json answer = ok_json(s.post("/recommend", R"({"user_id": "u1", "k": 2})"));
  EXPECT_EQ(answer, json::parse(R"({"items": [{"item_id": "b", "title": "Beta@v1", "score": 0.25},
                                               {"item_id": "c", "title": "Gamma@v1", "score": 0.125}],
                                    "source": "known_user"})"));
  answer = ok_json(s.post("/recommend", R"({"user_id": "u1", "exclude_seen": false, "exclude": ["b"]})"));
  EXPECT_EQ(ids(answer), (std::vector<std::string>{"a", "c", "d"}));
}

// A history names the source "history" and is excluded by default; an empty one is a cold user.
TEST(HttpServer, RecommendHistoryAndColdUser) {
  Served s;
  json answer = ok_json(s.post("/recommend", R"({"history": ["a", "c"], "k": 10})"));
  EXPECT_EQ(answer.at("source"), "history");
  EXPECT_EQ(ids(answer), (std::vector<std::string>{"b", "d"}));
  answer = ok_json(s.post("/recommend", R"({"history": []})"));
  EXPECT_EQ(answer.at("source"), "cold_user");
  EXPECT_EQ(ids(answer), (std::vector<std::string>{"a", "b", "c", "d"}));
}

// The item itself is left out; k from the query, 10 (all four) without one.
TEST(HttpServer, SimilarItems) {
  Served s;
  EXPECT_EQ(ids(ok_json(s.get("/similar/b?k=2"))), (std::vector<std::string>{"a", "c"}));
  json answer = ok_json(s.get("/similar/a"));
  EXPECT_EQ(ids(answer), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_FALSE(answer.contains("source"));
}

TEST(HttpServer, HealthReportsTheExport) {
  Served s;
  EXPECT_EQ(ok_json(s.get("/health")), json::parse(R"({"status": "ok", "version": "v1", "path": "/exports/v1",
      "num_users": 1, "num_items": 4, "dim": 4, "index_kind": "exact"})"));
}

// Both body forms add; the catalogue grows by what was added; a duplicate is a 400 naming it.
TEST(HttpServer, ItemsAreAddedThroughTheService) {
  Served s;
  EXPECT_EQ(ok_json(s.post("/items", R"([{"item_id": "e", "title": "Epsilon", "text_embedding": [0.5, 1]},
                                         {"item_id": "f"}])")),
            json::parse(R"({"added": 2})"));
  EXPECT_EQ(ok_json(s.post("/items", R"({"items": [{"item_id": "g", "category": "Toys", "brand": ""}]})")),
            json::parse(R"({"added": 1})"));
  EXPECT_EQ(ok_json(s.get("/health")).at("num_items"), 7);
  EXPECT_EQ(error_of(s.post("/items", R"([{"item_id": "a"}])")),
            std::make_pair(400, std::string("item \"a\" exists already")));
}

// The loader's service answers from then on; an unknown version is a 404 and keeps the old one.
TEST(HttpServer, ReloadSwapsTheService) {
  Served s;
  EXPECT_EQ(ok_json(s.post("/reload", R"({"version": "v2"})")),
            json::parse(R"({"reloaded": true, "version": "v2", "num_items": 4})"));
  EXPECT_EQ(ok_json(s.post("/recommend", R"({"user_id": "u1", "k": 1})")).at("items")[0].at("title"), "Beta@v2");
  EXPECT_EQ(error_of(s.post("/reload", R"({"version": "missing"})")),
            std::make_pair(404, std::string("no export version \"missing\"")));
  EXPECT_EQ(ok_json(s.get("/health")).at("version"), "v2");
  EXPECT_EQ(ok_json(s.post("/reload", "")).at("version"), "v-default");
  EXPECT_EQ(s.server->reload("v3").version, "v3");
  EXPECT_EQ(s.server->service()->info().version, "v3");
}

struct BadRequest {
  std::string method;  // "GET" or "POST"
  std::string path;
  std::string body;
  int status;
  std::string message;
};

// Every malformed request gets its status and a message naming what was got and what was expected.
TEST(HttpServer, ErrorsNameWhatWasGotAndExpected) {
  Served s;
  const std::vector<BadRequest> cases = {
      {"POST", "/recommend", "{\"user_id\": ", 400,
       "malformed JSON body: got 12 bytes that do not parse, expected an object with \"user_id\" or \"history\""},
      {"POST", "/recommend", "[1]", 400,
       "JSON body: got [1] (array), expected an object with \"user_id\" or \"history\""},
      {"POST", "/recommend", R"({"user_id": 5})", 400, "field \"user_id\": got 5 (number), expected a string"},
      {"POST", "/recommend", R"({"user_id": ""})", 400, "field \"user_id\": got \"\" (string), expected a non-empty string"},
      {"POST", "/recommend", R"({"k": 3})", 400,
       "JSON body: got neither \"user_id\" nor \"history\", expected exactly one of them"},
      {"POST", "/recommend", R"({"user_id": "u1", "history": []})", 400,
       "JSON body: got both \"user_id\" and \"history\", expected exactly one of them"},
      {"POST", "/recommend", R"({"user_id": "u1", "k": 1000000})", 400,
       "field \"k\": got 1000000 (number), expected an integer in [1, 20]"},
      {"POST", "/recommend", R"({"user_id": "u1", "k": 0})", 400,
       "field \"k\": got 0 (number), expected an integer in [1, 20]"},
      {"POST", "/recommend", R"({"user_id": "u1", "k": -3})", 400,
       "field \"k\": got -3 (number), expected an integer in [1, 20]"},
      {"POST", "/recommend", R"({"user_id": "u1", "k": 2.5})", 400,
       "field \"k\": got 2.5 (number), expected an integer in [1, 20]"},
      {"POST", "/recommend", R"({"user_id": "u1", "k": "ten"})", 400,
       "field \"k\": got \"ten\" (string), expected an integer in [1, 20]"},
      {"POST", "/recommend", R"({"user_id": "u1", "exclude_seen": 1})", 400,
       "field \"exclude_seen\": got 1 (number), expected true or false"},
      {"POST", "/recommend", R"({"history": ["a", 7]})", 400, "field \"history[1]\": got 7 (number), expected a string"},
      {"POST", "/recommend", R"({"user_id": "u1", "exclude": "b"})", 400,
       "field \"exclude\": got \"b\" (string), expected an array of item id strings"},
      {"POST", "/recommend", R"({"user_id": "u1", "kk": 3})", 400,
       "unknown field \"kk\", expected one of \"user_id\", \"history\", \"k\", \"exclude_seen\", \"exclude\""},
      {"POST", "/recommend", R"({"user_id": "nobody"})", 404, "unknown user id \"nobody\""},
      {"POST", "/recommend", R"({"history": ["zz"]})", 404, "unknown item id \"zz\" in the history"},
      {"POST", "/recommend", R"({"user_id": "boom"})", 500, "internal error: fake failure"},
      {"POST", "/recommend", R"({"user_id": "boom-int"})", 500, "internal error: an exception of unknown type"},
      {"GET", "/similar/zz", "", 404, "unknown item id \"zz\""},
      {"GET", "/similar/a?k=abc", "", 400, "query parameter \"k\": got \"abc\", expected an integer in [1, 20]"},
      {"GET", "/similar/a?k=21", "", 400, "query parameter \"k\": got \"21\", expected an integer in [1, 20]"},
      {"GET", "/similar/a?k=", "", 400, "query parameter \"k\": got \"\", expected an integer in [1, 20]"},
      {"POST", "/items", R"([{"title": "no id"}])", 400, "items[0]: missing field \"item_id\", expected a non-empty string"},
      {"POST", "/items", R"([{"item_id": "x", "text_embedding": [1, "2"]}])", 400,
       "field \"items[0].text_embedding[1]\": got \"2\" (string), expected a number within float range"},
      {"POST", "/items", R"({"things": []})", 400, "unknown field \"things\", expected one of \"items\""},
      {"POST", "/items", "7", 400,
       "JSON body: got 7 (number), expected an array of items or an object {\"items\": [...]}"},
      {"POST", "/reload", R"({"version": 3})", 400, "field \"version\": got 3 (number), expected a string"},
      {"GET", "/nope", "", 404,
       "no route for GET /nope: expected one of POST /recommend, GET /similar/{item}, GET /health, GET /metrics, "
       "POST /items, POST /reload"},
      {"GET", "/recommend", "", 405, "GET /recommend: expected POST"},
      {"POST", "/health", "{}", 405, "POST /health: expected GET"},
  };
  for (const BadRequest& c : cases) {
    httplib::Result result = c.method == "GET" ? s.get(c.path) : s.post(c.path, c.body);
    EXPECT_EQ(error_of(result), std::make_pair(c.status, c.message)) << c.method << " " << c.path << " " << c.body;
  }
  EXPECT_EQ(s.get("/recommend")->get_header_value("Allow"), "POST");
}

const std::string kMalformedHttp =
    "malformed HTTP request: expected a request line such as \"POST /recommend HTTP/1.1\", headers of at most "
    "8192 bytes and a body matching its Content-Length";

// Input no client should send still gets an answer: deep nesting, a broken request line.
TEST(HttpServer, HostileInputIsAnsweredNotFatal) {
  Served s;
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_EQ(error_of(s.post("/recommend", deep)),
            std::make_pair(400, std::string("JSON body: got nesting deeper than 32 levels, expected at most 3")));
  EXPECT_EQ(error_of(s.post("/items", std::string(100000, '{'))).first, 400);
  std::string reply = raw_exchange(s.server->port(), "GARBAGE\r\n\r\n");
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(json::parse(body_of(reply)).at("error"), kMalformedHttp);
  // httplib reads a Content-Length that is no number as 0.
  reply = raw_exchange(s.server->port(), "POST /recommend HTTP/1.1\r\nContent-Length: x\r\n\r\n");
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(json::parse(body_of(reply)).at("error"),
            "malformed JSON body: got 0 bytes that do not parse, expected an object with \"user_id\" or \"history\"");
  reply = raw_exchange(s.server->port(), "GET /health HTTP/1.1\r\nX: " + std::string(10000, 'x') + "\r\n\r\n");
  EXPECT_EQ(reply.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(ok_json(s.get("/health")).at("status"), "ok");
}

// Bytes that are not UTF-8 come back replaced, in valid JSON, instead of failing the answer.
TEST(HttpServer, InvalidUtf8InAnIdIsEchoedSafely) {
  Served s;
  EXPECT_EQ(error_of(s.get("/similar/%FF%FE")), std::make_pair(404, std::string("unknown item id \"\xEF\xBF\xBD\xEF\xBF\xBD\"")));
}

// A body over max_body_bytes is refused with 413 before it reaches a handler.
TEST(HttpServer, OversizedBodyIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  Served s(options);
  std::string body = R"({"user_id": "u1", "exclude": [)" + std::string(600, ' ') + R"("a"]})";
  ASSERT_LT(body.size(), 1024u);
  EXPECT_EQ(ok_json(s.post("/recommend", body)).at("source"), "known_user");
  body = R"({"user_id": "u1", "exclude": [)" + std::string(2000, ' ') + R"("a"]})";
  EXPECT_EQ(error_of(s.post("/recommend", body)),
            std::make_pair(413, "request body of " + std::to_string(body.size()) + " bytes: expected at most 1024"));
  // The count is recorded once the response has gone out, which the client can see first: wait
  // for it (a bounded 5 s).
  const std::string line = "twotower_http_requests_total{endpoint=\"recommend\",status=\"413\"} 1\n";
  std::string metrics;
  for (int i = 0; i < 500; ++i) {
    metrics = s.server->metrics().prometheus_text(s.fake->info());
    if (metrics.find(line) != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(metrics.find(line), std::string::npos) << metrics;
}

// Without a token, loopback callers may mutate; with one, the token is required from everyone.
TEST(HttpServer, TokenGuardsMutatingEndpoints) {
  HttpServerOptions options;
  options.token = "s3cret";
  Served s(options);
  EXPECT_EQ(error_of(s.post("/reload", "")),
            std::make_pair(401, std::string("/reload: got no bearer token, expected Authorization: Bearer <token>")));
  httplib::Client client = s.client();
  client.set_bearer_token_auth("wrong");
  EXPECT_EQ(error_of(client.Post("/items", "[]", "application/json")),
            std::make_pair(403, std::string("/items: got a wrong bearer token")));
  client.set_bearer_token_auth("s3cret");
  EXPECT_EQ(ok_json(client.Post("/items", "[]", "application/json")), json::parse(R"({"added": 0})"));
  EXPECT_EQ(ok_json(s.post("/recommend", R"({"user_id": "u1"})")).at("source"), "known_user");
}

// The access rule itself, for the callers a loopback test cannot be.
TEST(HttpAccess, LoopbackOrToken) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(is_loopback_address("127.8.9.10"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_TRUE(is_loopback_address("::ffff:127.0.0.1"));
  EXPECT_FALSE(is_loopback_address("10.0.0.1"));
  EXPECT_FALSE(is_loopback_address("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_loopback_address("fe80::1"));
  EXPECT_FALSE(is_loopback_address(""));
  EXPECT_EQ(decide_mutation_access("127.0.0.1", "", ""), AccessDecision::kAllowed);
  EXPECT_EQ(decide_mutation_access("192.168.1.4", "", ""), AccessDecision::kForbidden);
  EXPECT_EQ(decide_mutation_access("192.168.1.4", "Bearer t", ""), AccessDecision::kForbidden);
  EXPECT_EQ(decide_mutation_access("192.168.1.4", "Bearer t", "t"), AccessDecision::kAllowed);
  EXPECT_EQ(decide_mutation_access("127.0.0.1", "", "t"), AccessDecision::kUnauthorized);
  EXPECT_EQ(decide_mutation_access("127.0.0.1", "Basic dDp0", "t"), AccessDecision::kUnauthorized);
  EXPECT_EQ(decide_mutation_access("127.0.0.1", "Bearer tt", "t"), AccessDecision::kForbidden);
  EXPECT_EQ(decide_mutation_access("127.0.0.1", "Bearer ", "t"), AccessDecision::kForbidden);
}

// The value of the sample whose name and labels are `series` (-1 when absent).
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// Every line is a comment or `name{labels} value`, and every sample's family has a TYPE line first.
void expect_prometheus_text(const std::string& text) {
  static const std::regex kSample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_]+="([^"\\]|\\.)*",?)*\})? [-+0-9.eE]+)");
  static const std::regex kType(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  std::set<std::string> typed;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, kType)) {
      typed.insert(m[1]);
    } else if (line.rfind("# HELP ", 0) != 0) {
      ASSERT_TRUE(std::regex_match(line, m, kSample)) << line;
      std::string family = std::regex_replace(m[1].str(), std::regex("_(bucket|sum|count)$"), "");
      EXPECT_TRUE(typed.count(m[1]) || typed.count(family)) << "no TYPE before " << line;
    }
  }
}

// Counts grow with the requests answered, by endpoint and status; the export's size and version show.
TEST(HttpServer, MetricsArePrometheusTextAndCount) {
  Served s;
  for (int i = 0; i < 3; ++i) ok_json(s.post("/recommend", R"({"user_id": "u1"})"));
  error_of(s.post("/recommend", R"({"user_id": "nobody"})"));
  ok_json(s.get("/health"));
  httplib::Result result = s.get("/metrics");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  std::string text = result->body;
  expect_prometheus_text(text);
  EXPECT_EQ(sample(text, R"(twotower_http_requests_total{endpoint="recommend",status="200"})"), 3);
  EXPECT_EQ(sample(text, R"(twotower_http_requests_total{endpoint="recommend",status="404"})"), 1);
  EXPECT_EQ(sample(text, R"(twotower_http_requests_total{endpoint="health",status="200"})"), 1);
  EXPECT_EQ(sample(text, R"(twotower_http_request_duration_seconds_count{endpoint="recommend"})"), 4);
  EXPECT_EQ(sample(text, R"(twotower_http_request_duration_seconds_bucket{endpoint="recommend",le="+Inf"})"), 4);
  EXPECT_EQ(sample(text, "twotower_index_items"), 4);
  EXPECT_EQ(sample(text, R"(twotower_model_info{version="v1",index_kind="exact",dim="4"})"), 1);
  EXPECT_EQ(sample(text, R"(twotower_reloads_total{result="ok"})"), 0);

  ok_json(s.post("/reload", R"({"version": "v2"})"));
  error_of(s.post("/reload", R"({"version": "missing"})"));
  error_of(s.get("/nope"));
  text = s.get("/metrics")->body;
  expect_prometheus_text(text);
  EXPECT_EQ(sample(text, R"(twotower_metrics_requests_total)"), -1);
  EXPECT_EQ(sample(text, R"(twotower_http_requests_total{endpoint="metrics",status="200"})"), 1);
  EXPECT_EQ(sample(text, R"(twotower_http_requests_total{endpoint="other",status="404"})"), 1);
  EXPECT_EQ(sample(text, R"(twotower_reloads_total{result="ok"})"), 1);
  EXPECT_EQ(sample(text, R"(twotower_reloads_total{result="failed"})"), 1);
  EXPECT_EQ(sample(text, R"(twotower_model_info{version="v2",index_kind="exact",dim="4"})"), 1);
}

// Clients on four threads keep asking while the service is reloaded 20 times: every request is
// answered 200 by one of the versions swapped in.
TEST(HttpServer, ReloadUnderConcurrentRequestsDropsNone) {
  HttpServerOptions options;
  options.threads = 4;
  Served s(options);
  constexpr int kClients = 4;
  constexpr int kRequestsEach = 100;
  constexpr int kReloads = 20;
  std::atomic<int> failures{0};
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {  // t by value: the loop's t is gone when the thread reads it
      httplib::Client client = s.client();
      client.set_keep_alive(t % 2 == 0);
      for (int i = 0; i < kRequestsEach; ++i) {
        httplib::Result r = client.Post("/recommend", R"({"user_id": "u1", "k": 1})", "application/json");
        bool ok = r && r->status == 200 &&
                  std::regex_match(json::parse(r->body).at("items")[0].at("title").get<std::string>(),
                                   std::regex(R"(Beta@v(1|2\d*))"));
        (ok ? answered : failures)++;
      }
    });
  }
  // Reload i waits until i/20 of the requests are done, so that reloads fall among them.
  const auto deadline = std::chrono::steady_clock::now() + kClientTimeout;
  for (int i = 0; i < kReloads; ++i) {
    while (answered + failures < i * kClients * kRequestsEach / kReloads && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ok_json(s.post("/reload", json{{"version", "v2" + std::to_string(i)}}.dump()));
  }
  for (std::thread& c : clients) c.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(answered, kClients * kRequestsEach);
  EXPECT_EQ(s.server->service()->info().version, "v2" + std::to_string(kReloads - 1));
}

// stop() waits for a request in flight, which is answered in full; new connections are refused after.
TEST(HttpServer, StopDrainsRequestsInFlight) {
  Served s;
  std::shared_ptr<FakeService> fake = s.fake;
  auto in_flight = std::async(std::launch::async, [&] { return s.post("/recommend", R"({"user_id": "slow", "k": 2})"); });
  fake->entered.wait();
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    s.server->stop();
    stopped = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(stopped) << "stop() returned while a request was in flight";
  fake->release.open();
  stopper.join();
  httplib::Result result = in_flight.get();
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(ids(ok_json(result)), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(s.get("/health"));
}

// At most `threads` requests run the service at once: with one worker a second /recommend waits
// for the first, while /health answers meanwhile.
TEST(HttpServer, WorkersBoundTheRequestsAnsweredAtOnce) {
  HttpServerOptions options;
  options.threads = 1;
  Served s(options);
  std::shared_ptr<FakeService> fake = s.fake;
  auto slow = std::async(std::launch::async, [&] { return s.post("/recommend", R"({"user_id": "slow", "k": 2})"); });
  fake->entered.wait();
  auto second = std::async(std::launch::async, [&] { return s.post("/recommend", R"({"user_id": "u1", "k": 1})"); });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout)
      << "a second request ran the service beside the first with threads = 1";
  EXPECT_EQ(ok_json(s.get("/health"))["status"], "ok");
  httplib::Result metrics = s.get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("\ntwotower_http_workers 1\n"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("\ntwotower_http_requests_waiting 1\n"), std::string::npos) << metrics->body;
  fake->release.open();
  EXPECT_EQ(ids(ok_json(slow.get())), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ids(ok_json(second.get())), (std::vector<std::string>{"b"}));
}

// A kept-alive connection holds a connection thread, not a worker: with one worker another
// client is answered while the first keeps its connection open. With one connection thread it
// is not (it waits for the first connection to close), which shows what the test measures.
TEST(HttpServer, KeptAliveConnectionsDoNotStarveOthers) {
  for (int connections : {0, 1}) {
    HttpServerOptions options;
    options.threads = 1;
    options.connections = connections;
    options.keep_alive_timeout = std::chrono::seconds(30);
    Served s(options);
    httplib::Client first = s.client();
    first.set_keep_alive(true);
    ASSERT_TRUE(first.Post("/recommend", R"({"user_id": "u1", "k": 1})", "application/json"));
    httplib::Client other = s.client();
    other.set_read_timeout(std::chrono::seconds(connections == 0 ? 10 : 1));
    httplib::Result answer = other.Post("/recommend", R"({"user_id": "u1", "k": 1})", "application/json");
    EXPECT_EQ(static_cast<bool>(answer), connections == 0) << "connections " << connections;
    first.stop();  // closes the kept-alive connection before the server stops
  }
}

TEST(HttpServer, InvalidOptionsAreListed) {
  HttpServerOptions options;
  options.port = 70000;
  options.threads = 0;
  options.connections = 5000;
  options.read_timeout = std::chrono::milliseconds(0);
  testing::expect_exact_error([&] { validate(options); },
                              "invalid HTTP server options:\n"
                              "  port: got 70000, expected 0 (any free port) to 65535\n"
                              "  threads: got 0, expected 1 to 1024\n"
                              "  connections: got 5000, expected 0 (max(threads, 64)) to 4096\n"
                              "  read_timeout: got 0 ms, expected > 0");
  testing::expect_error([&] { HttpServer(std::make_shared<FakeService>("v1"), nullptr, options); }, "port: got 70000");
}

// A port in use, a second start and a reload without a loader are errors, not crashes.
TEST(HttpServer, StartAndReloadErrors) {
  Served s;
  HttpServerOptions options;
  options.port = s.server->port();
  HttpServer second(std::make_shared<FakeService>("v1"), nullptr, options);
  testing::expect_error([&] { second.start(); },
                        "cannot listen on 127.0.0.1:" + std::to_string(options.port) + ": expected a local address");
  testing::expect_error([&] { s.server->start(); }, "the server was started before");
  testing::expect_error([&] { second.reload("v2"); }, "started without a loader");
}

}  // namespace
}  // namespace twotower
