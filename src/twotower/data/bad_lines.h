// Bad input lines: either the first one stops the run, or (--skip-bad-lines) they are counted
// and the first few kept as examples for the summary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace twotower {

class BadLines {
 public:
  static constexpr size_t kMaxExamples = 5;

  /// `skip`: count bad lines and keep the first kMaxExamples; otherwise the first one throws.
  explicit BadLines(bool skip) : skip_(skip) {}

  /// Throws twotower::Error(message) unless skipping; then counts it and keeps an example.
  void report(std::string message);

  /// Bad lines reported so far.
  int64_t count() const { return count_; }
  /// The first kMaxExamples messages, in report order.
  const std::vector<std::string>& examples() const { return examples_; }

 private:
  bool skip_;
  int64_t count_ = 0;
  std::vector<std::string> examples_;
};

/// Quotes and shortens a token for a message: got "five" or got "a very long...".
std::string quote_token(std::string_view token);

}  // namespace twotower
