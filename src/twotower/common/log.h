// Minimal leveled logging to stderr and, optionally, a log file (a run's train.log).
#pragma once

#include <filesystem>
#include <string>

#include "twotower/common/error.h"

namespace twotower {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

/// Sets the minimum level written to stderr (the file sink always gets kInfo and above).
void set_log_level(LogLevel level);
/// Also append every line to `path` (created if absent); an empty path closes the file.
void set_log_file(const std::filesystem::path& path);
/// Writes one line "[HH:MM:SS] LEVEL message".
void log_line(LogLevel level, const std::string& message);

template <typename... Args>
void log_info(Args&&... args) { log_line(LogLevel::kInfo, str_cat(std::forward<Args>(args)...)); }
template <typename... Args>
void log_warn(Args&&... args) { log_line(LogLevel::kWarn, str_cat(std::forward<Args>(args)...)); }

}  // namespace twotower
