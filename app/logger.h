#pragma once

#include <string>
#include <string_view>

namespace poolwatch {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// Parses "debug", "info", "warn" or "error"; false when unknown.
bool ParseLogLevel(std::string_view text, LogLevel* level);

// Operational messages on stderr, one line each ("time level message"), written with one
// write() so lines from different threads never interleave. Alerts themselves go to stdout
// through the console notifier. Thread-safe.
class Logger {
 public:
  static void SetLevel(LogLevel level);
  static bool Enabled(LogLevel level);
  static void Log(LogLevel level, std::string_view message);
};

inline void LogDebug(std::string_view m) {
  if (Logger::Enabled(LogLevel::kDebug)) Logger::Log(LogLevel::kDebug, m);
}
inline void LogInfo(std::string_view m) { Logger::Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Logger::Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Logger::Log(LogLevel::kError, m); }

}  // namespace poolwatch
