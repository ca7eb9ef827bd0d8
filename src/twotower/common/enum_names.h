// Names of enum values for the command line and the files: one table per enum serves both the
// parsing of a name and the printing of a value.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace twotower {

/// One accepted name of an enum value. A value may have several (aliases); the first one listed
/// in its table is the value's own name.
template <typename E>
struct EnumName {
  E value;
  const char* name;
};

/// The first name `names` lists for `value`; "?" when it lists none.
template <typename E, size_t N>
const char* enum_name(const EnumName<E> (&names)[N], E value) {
  for (const EnumName<E>& n : names) {
    if (n.value == value) return n.name;
  }
  return "?";
}

/// The value whose name (or alias) is exactly `name`; nullopt when no entry of `names` matches.
template <typename E, size_t N>
std::optional<E> enum_value(const EnumName<E> (&names)[N], std::string_view name) {
  for (const EnumName<E>& n : names) {
    if (name == n.name) return n.value;
  }
  return std::nullopt;
}

}  // namespace twotower
