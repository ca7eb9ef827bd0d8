#include "twotower/common/log.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>

namespace twotower {
namespace {

struct LogState {
  std::mutex mutex;
  LogLevel level = LogLevel::kInfo;
  std::ofstream file;
};

LogState& state() {
  static LogState s;
  return s;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}

}  // namespace

void set_log_level(LogLevel level) {
  std::lock_guard<std::mutex> lock(state().mutex);
  state().level = level;
}

void set_log_file(const std::filesystem::path& path) {
  std::lock_guard<std::mutex> lock(state().mutex);
  auto& s = state();
  if (s.file.is_open()) s.file.close();
  if (path.empty()) return;
  s.file.open(path, std::ios::app);
  if (!s.file) fail("cannot open log file ", path.string());
}

void log_line(LogLevel level, const std::string& message) {
  std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
  std::lock_guard<std::mutex> lock(state().mutex);
  auto& s = state();
  if (level >= s.level) std::cerr << '[' << stamp << "] " << level_name(level) << ' ' << message << '\n';
  if (s.file.is_open() && level >= LogLevel::kInfo) {
    s.file << '[' << stamp << "] " << level_name(level) << ' ' << message << '\n';
    s.file.flush();
  }
}

}  // namespace twotower
