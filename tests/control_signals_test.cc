#include "twotower/serve/control_signals.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http_test_service.h"
#include "twotower/serve/http/http_server.h"

namespace twotower {
namespace {

using testing::FakeService;

constexpr auto kTimeout = std::chrono::seconds(10);

// Runs `body` on a thread that blocks the control signals first; send() aims a signal at that
// thread alone, so the test process never takes one with its default action. The destructor
// sends SIGTERM if the body has not returned yet, then joins.
class SignalThread {
 public:
  explicit SignalThread(std::function<int()> body) {
    std::promise<void> ready;
    std::future<void> blocked = ready.get_future();
    thread_ = std::thread([this, body = std::move(body), &ready] {
      block_control_signals();
      ready.set_value();
      result_ = body();
      done_ = true;
    });
    blocked.wait();
  }
  ~SignalThread() {
    if (!done_) send(SIGTERM);
    thread_.join();
  }
  void send(int signal) { pthread_kill(thread_.native_handle(), signal); }
  bool done() const { return done_; }
  // The body's result once it returned within kTimeout, else -1.
  int result() {
    auto deadline = std::chrono::steady_clock::now() + kTimeout;
    while (!done_ && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return done_ ? result_.load() : -1;
  }

 private:
  std::thread thread_;
  std::atomic<int> result_{0};
  std::atomic<bool> done_{false};
};

bool eventually(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Each SIGHUP runs the reload action and the wait goes on; SIGTERM and SIGINT run stop and end it.
TEST(ControlSignals, HangupReloadsTerminateAndInterruptStop) {
  for (int stop_signal : {SIGTERM, SIGINT}) {
    std::atomic<int> reloads{0};
    std::atomic<int> stops{0};
    SignalThread waiter([&] { return wait_for_control_signals({[&] { ++reloads; }, [&] { ++stops; }}); });
    // Signals of one kind pending together count once: each is sent after the previous was taken.
    waiter.send(SIGHUP);
    ASSERT_TRUE(eventually([&] { return reloads == 1; }));
    waiter.send(SIGHUP);
    ASSERT_TRUE(eventually([&] { return reloads == 2; }));
    EXPECT_EQ(stops, 0);
    waiter.send(stop_signal);
    EXPECT_EQ(waiter.result(), stop_signal);
    EXPECT_EQ(stops, 1);
    EXPECT_EQ(reloads, 2);
  }
}

// SIGHUP swaps in the loader's default export; a failed reload is reported and keeps the old one;
// SIGTERM lets a request in flight finish before serve_until_stopped returns.
TEST(ControlSignals, ServeUntilStoppedReloadsAndDrains) {
  auto fake = std::make_shared<FakeService>("v1");
  std::atomic<bool> fail_next{false};
  ServiceLoader loader = [&](const std::string& version) -> std::shared_ptr<RecommendService> {
    if (fail_next) throw Error("export folder is empty");
    return std::make_shared<FakeService>(version.empty() ? "v-default" : version);
  };
  HttpServer server(fake, loader, {});
  server.start();
  std::mutex reports_mutex;
  std::vector<std::string> reports;
  SignalThread serving([&] {
    return serve_until_stopped(server, [&](const std::string& line) {
      std::lock_guard lock(reports_mutex);
      reports.push_back(line);
    });
  });
  auto report_count = [&] {
    std::lock_guard lock(reports_mutex);
    return reports.size();
  };
  serving.send(SIGHUP);
  ASSERT_TRUE(eventually([&] { return report_count() == 1; }));
  EXPECT_EQ(server.service()->info().version, "v-default");
  fail_next = true;
  serving.send(SIGHUP);
  ASSERT_TRUE(eventually([&] { return report_count() == 2; }));
  EXPECT_EQ(server.service()->info().version, "v-default");

  // A slow request on the export loaded first: it is in flight when SIGTERM arrives.
  std::shared_ptr<FakeService> current = std::dynamic_pointer_cast<FakeService>(server.service());
  ASSERT_TRUE(current);
  auto in_flight = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", server.port());
    client.set_read_timeout(kTimeout);
    return client.Post("/recommend", R"({"user_id": "slow", "k": 1})", "application/json");
  });
  current->entered.wait();
  serving.send(SIGTERM);
  ASSERT_TRUE(eventually([&] { return report_count() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(serving.done()) << "serve_until_stopped returned while a request was in flight";
  current->release.open();
  EXPECT_EQ(serving.result(), SIGTERM);
  httplib::Result result = in_flight.get();
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->body, R"({"items":[{"item_id":"a","score":0.5,"title":"Alpha@v-default"}],"source":"known_user"})");
  std::lock_guard lock(reports_mutex);
  EXPECT_EQ(reports, (std::vector<std::string>{
                         "SIGHUP: reloaded /exports/v-default (version v-default, 4 items)",
                         "SIGHUP: reload failed, still serving the previous export: export folder is empty",
                         "stopping: answering the requests in flight"}));
}

}  // namespace
}  // namespace twotower
