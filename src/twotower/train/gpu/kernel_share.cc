#include "twotower/train/gpu/kernel_share.h"

#include <algorithm>
#include <fstream>
#include <utility>
#include <vector>

#include "twotower/common/error.h"

namespace twotower {

KernelShare kernel_share(const nlohmann::json& trace) {
  if (!trace.is_object() || !trace.contains("traceEvents") || !trace["traceEvents"].is_array()) {
    fail("trace: expected an object with a \"traceEvents\" array (Chrome trace format)");
  }
  std::vector<std::pair<double, double>> runs;  // [start, end) of each kernel, microseconds
  for (const nlohmann::json& e : trace["traceEvents"]) {
    if (!e.is_object() || e.value("ph", "") != "X" || e.value("cat", "") != "kernel") continue;
    if (!e.contains("ts") || !e["ts"].is_number() || !e.contains("dur") || !e["dur"].is_number()) {
      fail("trace: kernel \"", e.value("name", "?"), "\": expected numeric \"ts\" and \"dur\", got ", e.dump());
    }
    const double start = e["ts"].get<double>();
    runs.emplace_back(start, start + std::max(0.0, e["dur"].get<double>()));
  }
  KernelShare share;
  share.kernels = static_cast<int64_t>(runs.size());
  if (runs.empty()) return share;
  std::sort(runs.begin(), runs.end());
  const double first = runs.front().first;
  double open = first, close = runs.front().second;  // the run of overlapping kernels being merged
  for (const auto& [start, end] : runs) {
    if (start > close) {  // a gap: the run so far is done
      share.busy_us += close - open;
      open = start;
    }
    close = std::max(close, end);
  }
  share.busy_us += close - open;
  share.span_us = close - first;  // close: the latest end of all
  return share;
}

KernelShare read_kernel_share(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) fail(file.string(), ": cannot open the trace");
  nlohmann::json trace = nlohmann::json::parse(in, nullptr, false);
  if (trace.is_discarded()) fail(file.string(), ": not JSON (expected a Chrome trace)");
  try {
    return kernel_share(trace);
  } catch (const std::exception& e) {
    fail(file.string(), ": ", e.what());
  }
}

}  // namespace twotower
