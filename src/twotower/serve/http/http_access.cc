#include "twotower/serve/http/http_access.h"

#include <string_view>

namespace twotower {
namespace {

constexpr std::string_view kBearerPrefix = "Bearer ";
constexpr std::string_view kMappedIpv4Prefix = "::ffff:";

// Equal strings in time that depends on their lengths only, not on the first difference.
bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

bool is_loopback_address(const std::string& address) {
  std::string_view ip = address;
  if (ip == "::1") return true;
  if (ip.substr(0, kMappedIpv4Prefix.size()) == kMappedIpv4Prefix) ip.remove_prefix(kMappedIpv4Prefix.size());
  return ip.substr(0, 4) == "127.";
}

AccessDecision decide_mutation_access(const std::string& remote_address, const std::string& authorization,
                                      const std::string& token) {
  if (token.empty()) return is_loopback_address(remote_address) ? AccessDecision::kAllowed : AccessDecision::kForbidden;
  std::string_view header = authorization;
  if (header.substr(0, kBearerPrefix.size()) != kBearerPrefix) return AccessDecision::kUnauthorized;
  header.remove_prefix(kBearerPrefix.size());
  return constant_time_equal(header, token) ? AccessDecision::kAllowed : AccessDecision::kForbidden;
}

}  // namespace twotower
