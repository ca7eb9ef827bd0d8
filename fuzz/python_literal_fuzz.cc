// One Python literal (2014 metadata lines), parsed straight from memory.
#include <string_view>

#include "twotower/common/error.h"
#include "twotower/data/python_literal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    twotower::parse_python_literal(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const twotower::Error&) {
  }
  return 0;
}
