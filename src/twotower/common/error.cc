#include "twotower/common/error.h"

namespace twotower {

std::string input_error(const std::string& file, long long line, const std::string& field,
                        const std::string& got, const std::string& expected) {
  std::ostringstream out;
  out << file;
  if (line > 0) out << ':' << line;
  out << ": ";
  if (!field.empty()) out << "field \"" << field << "\": ";
  out << "got " << got << ", expected " << expected;
  return out.str();
}

}  // namespace twotower
