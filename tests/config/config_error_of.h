#pragma once

#include <string>

#include "config/config.h"

namespace poolwatch::testing {

// The error of `yaml` (read as poolwatch.yml) loaded and validated as the daemon does, or ""
// when it is accepted.
inline std::string ConfigErrorOf(const std::string& yaml, const Environment& env = {}) {
  try {
    ValidateConfig(LoadConfigFromString(yaml, "poolwatch.yml", env));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace poolwatch::testing
