#include "twotower/serve/http/http_metrics.h"

#include <sstream>

namespace twotower {
namespace {

// A label value with \, " and newline escaped as the exposition format requires.
std::string label_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void header(std::ostream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

const char* to_string(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kRecommend: return "recommend";
    case Endpoint::kSimilar: return "similar";
    case Endpoint::kHealth: return "health";
    case Endpoint::kMetrics: return "metrics";
    case Endpoint::kItems: return "items";
    case Endpoint::kReload: return "reload";
    case Endpoint::kOther: return "other";
  }
  return "other";
}

Endpoint endpoint_of_path(const std::string& path) {
  if (path == "/recommend") return Endpoint::kRecommend;
  if (path.rfind("/similar/", 0) == 0) return Endpoint::kSimilar;
  if (path == "/health") return Endpoint::kHealth;
  if (path == "/metrics") return Endpoint::kMetrics;
  if (path == "/items") return Endpoint::kItems;
  if (path == "/reload") return Endpoint::kReload;
  return Endpoint::kOther;
}

void HttpMetrics::record_request(Endpoint endpoint, int status, double seconds) {
  size_t bucket = 0;
  while (bucket < kLatencyBucketsSeconds.size() && seconds > kLatencyBucketsSeconds[bucket]) ++bucket;
  std::lock_guard lock(mutex_);
  ++requests_[{endpoint, status}];
  Histogram& h = latency_[static_cast<size_t>(endpoint)];
  if (bucket < h.buckets.size()) ++h.buckets[bucket];
  ++h.count;
  h.sum += seconds;
}

void HttpMetrics::record_reload(bool succeeded) {
  std::lock_guard lock(mutex_);
  ++(succeeded ? reloads_ok_ : reloads_failed_);
}

std::string HttpMetrics::prometheus_text(const ExportInfo& info) const {
  std::ostringstream out;
  out.precision(17);
  std::lock_guard lock(mutex_);
  header(out, "twotower_http_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
  for (const auto& [key, count] : requests_) {
    out << "twotower_http_requests_total{endpoint=\"" << to_string(key.first) << "\",status=\"" << key.second
        << "\"} " << count << '\n';
  }
  header(out, "twotower_http_request_duration_seconds", "histogram",
         "Time from routing a request to its response, by endpoint.");
  for (size_t e = 0; e < kNumEndpoints; ++e) {
    const Histogram& h = latency_[e];
    if (h.count == 0) continue;
    std::string name = to_string(static_cast<Endpoint>(e));
    uint64_t cumulative = 0;
    for (size_t b = 0; b < h.buckets.size(); ++b) {
      cumulative += h.buckets[b];
      out << "twotower_http_request_duration_seconds_bucket{endpoint=\"" << name << "\",le=\""
          << kLatencyBucketsSeconds[b] << "\"} " << cumulative << '\n';
    }
    out << "twotower_http_request_duration_seconds_bucket{endpoint=\"" << name << "\",le=\"+Inf\"} " << h.count
        << '\n';
    out << "twotower_http_request_duration_seconds_sum{endpoint=\"" << name << "\"} " << h.sum << '\n';
    out << "twotower_http_request_duration_seconds_count{endpoint=\"" << name << "\"} " << h.count << '\n';
  }
  header(out, "twotower_reloads_total", "counter", "Reloads of the export, by result.");
  out << "twotower_reloads_total{result=\"ok\"} " << reloads_ok_ << '\n';
  out << "twotower_reloads_total{result=\"failed\"} " << reloads_failed_ << '\n';
  header(out, "twotower_index_items", "gauge", "Items in the top-K index, added ones included.");
  out << "twotower_index_items " << info.num_items << '\n';
  header(out, "twotower_users", "gauge", "Users the export knows.");
  out << "twotower_users " << info.num_users << '\n';
  header(out, "twotower_model_info", "gauge", "The loaded export: version, index kind and vector width.");
  out << "twotower_model_info{version=\"" << label_value(info.version) << "\",index_kind=\""
      << label_value(info.index_kind) << "\",dim=\"" << info.dim << "\"} 1\n";
  return out.str();
}

std::string HttpMetrics::workers_text(int64_t workers, int64_t waiting) {
  std::ostringstream out;
  header(out, "twotower_http_workers", "gauge", "Request workers: requests the service answers at once.");
  out << "twotower_http_workers " << workers << '\n';
  header(out, "twotower_http_requests_waiting", "gauge", "Requests read and waiting for a worker.");
  out << "twotower_http_requests_waiting " << waiting << '\n';
  return out.str();
}

}  // namespace twotower
