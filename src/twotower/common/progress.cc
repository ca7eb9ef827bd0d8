#include "twotower/common/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "twotower/common/log.h"

namespace twotower {

std::string format_duration(double seconds) {
  char buf[32];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof(buf), "%dm%02ds", static_cast<int>(seconds) / 60,
                  static_cast<int>(seconds) % 60);
  } else {
    int s = static_cast<int>(seconds);
    std::snprintf(buf, sizeof(buf), "%dh%02dm%02ds", s / 3600, (s / 60) % 60, s % 60);
  }
  return buf;
}

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_) finish();
}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::add(int64_t n, const std::string& suffix) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (tty_ ? 0.2 : 10.0)) {
    last_draw_ = now;
    draw(false, suffix);
  }
}

void Progress::finish(const std::string& suffix) {
  if (finished_) return;
  finished_ = true;
  draw(true, suffix);
}

void Progress::draw(bool final_line, const std::string& suffix) {
  double elapsed = seconds();
  double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  char line[256];
  if (total_ > 0) {
    double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;
    constexpr int kWidth = 24;
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::snprintf(line, sizeof(line), "%s [%s] %3.0f%% %lld/%lld %.0f %s/s %s %s", label_.c_str(),
                  bar.c_str(), 100 * frac, static_cast<long long>(done_),
                  static_cast<long long>(total_), rate, unit_.c_str(),
                  final_line ? format_duration(elapsed).c_str()
                             : ("ETA " + format_duration(eta)).c_str(),
                  suffix.c_str());
  } else {
    std::snprintf(line, sizeof(line), "%s %lld %s %.0f %s/s %s %s", label_.c_str(),
                  static_cast<long long>(done_), unit_.c_str(), rate, unit_.c_str(),
                  format_duration(elapsed).c_str(), suffix.c_str());
  }
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", line, final_line ? "\n" : "");
    std::fflush(stderr);
  } else {
    log_info(line);
  }
}

}  // namespace twotower
