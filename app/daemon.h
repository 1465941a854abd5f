#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace poolwatch {

// Settings given as flags; they win over the file and the environment, also after a reload.
struct FlagOverrides {
  std::optional<std::vector<std::string>> log_paths;         // --log.path, repeated
  std::optional<std::string> start_at;                       // "end" | "beginning"
  std::optional<std::vector<std::string>> listen_addresses;  // --web.listen-address, repeated
  std::optional<std::string> telemetry_path;
  std::optional<std::string> log_level;
  std::optional<std::string> instance;
  bool enable_admin_api = false;
  std::optional<std::string> state_path;
  std::optional<std::string> web_config_file;

  void ApplyTo(Config& config) const;
};

// File, then environment, then flags, validated. Throws ConfigError.
Config LoadEffectiveConfig(const std::string& config_path, const FlagOverrides& flags);

// The daemon: follows the log, serves HTTP, evaluates rules, dispatches alerts until SIGTERM
// or SIGINT; SIGHUP reloads the configuration. Returns the process exit code.
int RunDaemon(const std::string& config_path, const FlagOverrides& flags);

}  // namespace poolwatch
