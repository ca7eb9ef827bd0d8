// Who may call the mutating endpoints (POST /items, POST /reload): loopback callers when the
// server was started without a token; holders of the token (`Authorization: Bearer <token>`) from
// anywhere when it was started with one.
#pragma once

#include <string>

namespace twotower {

/// True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.x.y.z), as httplib writes
/// Request::remote_addr.
bool is_loopback_address(const std::string& address);

enum class AccessDecision {
  kAllowed,
  kUnauthorized,  // 401: a token is required and the request carries no bearer token
  kForbidden,     // 403: a wrong token, or no token configured and the caller is not loopback
};

/// The rule above. `authorization` is the request's Authorization header ("" when absent); the
/// token is compared in time independent of where it differs.
AccessDecision decide_mutation_access(const std::string& remote_address, const std::string& authorization,
                                      const std::string& token);

}  // namespace twotower
