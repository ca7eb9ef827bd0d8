// A YAML config and its key=value overrides: the text up to the first NUL byte is the file, each
// further NUL-separated piece an override.
#include <string>
#include <vector>

#include "twotower/common/error.h"
#include "twotower/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  for (size_t start = 0;;) {
    const size_t end = input.find('\0', start);
    parts.push_back(input.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  const std::string yaml = parts.front();
  parts.erase(parts.begin());
  try {
    twotower::Config c = twotower::parse_config(yaml, "fuzz.yaml", parts);
    // What parses must write back to text that parses to the same config.
    const std::string written = twotower::config_to_yaml(c);
    if (twotower::config_to_yaml(twotower::parse_config(written, "written.yaml")) != written) __builtin_trap();
  } catch (const twotower::Error&) {
  }
  return 0;
}
