// One exception type for every failure the library reports to a user.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace twotower {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Concatenates its arguments with operator<< into one string.
template <typename... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

/// Throws twotower::Error with the concatenated arguments as message.
template <typename... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(str_cat(std::forward<Args>(args)...));
}

/// The message format for bad input: `file:line: field "x": got ..., expected ...`.
std::string input_error(const std::string& file, long long line, const std::string& field,
                        const std::string& got, const std::string& expected);

}  // namespace twotower
