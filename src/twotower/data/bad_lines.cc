#include "twotower/data/bad_lines.h"

#include "twotower/common/error.h"

namespace twotower {

void BadLines::report(std::string message) {
  if (!skip_) throw Error(message);
  ++count_;
  if (examples_.size() < kMaxExamples) examples_.push_back(std::move(message));
}

std::string quote_token(std::string_view token) {
  constexpr size_t kMaxToken = 40;
  std::string out = "\"";
  for (char c : token.substr(0, kMaxToken)) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    out += c;
  }
  if (token.size() > kMaxToken) out += "...";
  out += '"';
  return out;
}

}  // namespace twotower
