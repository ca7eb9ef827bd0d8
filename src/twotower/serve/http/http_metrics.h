// Counters of the HTTP service and their Prometheus text exposition (format 0.0.4): requests by
// endpoint and status, a latency histogram per endpoint, reloads, and the loaded export's size
// and version.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "twotower/serve/recommend_service.h"

namespace twotower {

/// The routes of the API, as the "endpoint" label; kOther is any path no route serves.
enum class Endpoint { kRecommend, kSimilar, kHealth, kMetrics, kItems, kReload, kOther };
constexpr size_t kNumEndpoints = 7;
const char* to_string(Endpoint endpoint);
/// The endpoint a request path belongs to ("/similar/x" -> kSimilar, "/nope" -> kOther).
Endpoint endpoint_of_path(const std::string& path);

/// Upper bounds (seconds) of the latency histogram's buckets; +Inf follows the last.
constexpr std::array<double, 14> kLatencyBucketsSeconds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                           0.025,  0.05,    0.1,    0.25,  0.5,   1.0,   2.5};

/// Thread-safe: every method may be called from any number of threads at once.
class HttpMetrics {
 public:
  /// One answered request: `status` is the HTTP code sent, `seconds` from routing to response.
  void record_request(Endpoint endpoint, int status, double seconds);
  /// One reload attempt, successful or not.
  void record_reload(bool succeeded);

  /// The exposition text: twotower_http_requests_total{endpoint,status},
  /// twotower_http_request_duration_seconds{endpoint} (histogram), twotower_reloads_total{result},
  /// twotower_index_items, twotower_users, and twotower_model_info{version,index_kind,dim} 1.
  std::string prometheus_text(const ExportInfo& info) const;
  /// The request workers' gauges, appended to prometheus_text by the server:
  /// twotower_http_workers (the --threads slots) and twotower_http_requests_waiting (requests
  /// read and waiting for a slot now).
  static std::string workers_text(int64_t workers, int64_t waiting);

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBucketsSeconds.size()> buckets{};  // not cumulative
    uint64_t count = 0;
    double sum = 0;
  };

  mutable std::mutex mutex_;
  std::map<std::pair<Endpoint, int>, uint64_t> requests_;
  std::array<Histogram, kNumEndpoints> latency_{};
  uint64_t reloads_ok_ = 0;
  uint64_t reloads_failed_ = 0;
};

}  // namespace twotower
