// The one description of every configuration key: section, name, the Config member it fills, its
// type and allowed range, and the comment configs/default.yaml shows beside it. Parsing,
// validation, writing (config.yaml of a run) and the documented default file all read this table.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <string>
#include <vector>

#include "twotower/config/config.h"

namespace twotower {

struct ConfigKey {
  std::string section;   // data | model | training
  std::string name;      // the key within the section
  std::string expected;  // the allowed values, as an error message states them ("an integer >= 1")
  std::string doc;       // the comment beside the key in configs/default.yaml ('\n' between lines)
  /// Reads `node` (a defined YAML node) into the member; false when the value is not allowed.
  std::function<bool(const YAML::Node& node, Config& config)> read;
  /// Writes the member's value (a scalar, null or a flow sequence) to `out`.
  std::function<void(YAML::Emitter& out, const Config& config)> write;
};

/// Every key, in the order of configs/default.yaml (data, model, training).
const std::vector<ConfigKey>& config_keys();

}  // namespace twotower
