// A progress bar on a terminal (rate and ETA), plain periodic log lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace twotower {

class Progress {
 public:
  /// @param label  shown before the bar
  /// @param total  units of work expected (0 if unknown)
  /// @param unit   name of a unit in the rate ("pairs", "reviews")
  Progress(std::string label, int64_t total, std::string unit);
  ~Progress();

  /// Adds `n` finished units; redraws at most every 0.2 s (terminal) or 10 s (log).
  void add(int64_t n, const std::string& suffix = "");
  /// Prints the final line; called by the destructor if not called before.
  void finish(const std::string& suffix = "");

  int64_t done() const { return done_; }
  double seconds() const;

 private:
  void draw(bool final_line, const std::string& suffix);

  std::string label_;
  int64_t total_;
  std::string unit_;
  int64_t done_ = 0;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

/// Formats seconds as "1h02m03s", "2m03s" or "3.4s".
std::string format_duration(double seconds);

}  // namespace twotower
