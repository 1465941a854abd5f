#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "config/value_parsers.h"

namespace poolwatch {

// LogLevel and its one parser, ParseLogLevel, live with the other configuration values.

// One key=value pair after the message; the key is a literal of poolwatch's, the value may come
// from outside (a log line, a file name, a server's answer).
struct LogField {
  std::string_view key;
  std::string_view value;
};

// `value` as a logfmt value. Bare when it is non-empty printable ASCII without space, '"', '='
// or a backslash; otherwise double-quoted, with \" \\ \n \r \t, and every other byte a
// terminal or a parser could take for something else (control characters, DEL, C1 controls,
// invalid UTF-8) as \xHH. Valid UTF-8 text stays readable. Whatever the input, the result is one
// line that a logfmt parser splits back into exactly this one value.
std::string LogfmtValue(std::string_view value);

// One log line: `ts=… level=… msg="…"` followed by the fields, each value through LogfmtValue.
std::string FormatLogLine(std::string_view timestamp, LogLevel level, std::string_view message,
                          std::initializer_list<LogField> fields);

// Operational messages on stderr in logfmt, one line each, written with one write() so lines
// from different threads never interleave. Alerts themselves go to stdout through the console
// notifier. Thread-safe.
class Logger {
 public:
  static void SetLevel(LogLevel level);
  static bool Enabled(LogLevel level);
  static void Log(LogLevel level, std::string_view message,
                  std::initializer_list<LogField> fields = {});
};

inline void LogDebug(std::string_view m, std::initializer_list<LogField> fields = {}) {
  if (Logger::Enabled(LogLevel::kDebug)) Logger::Log(LogLevel::kDebug, m, fields);
}
inline void LogInfo(std::string_view m, std::initializer_list<LogField> fields = {}) {
  Logger::Log(LogLevel::kInfo, m, fields);
}
inline void LogWarn(std::string_view m, std::initializer_list<LogField> fields = {}) {
  Logger::Log(LogLevel::kWarn, m, fields);
}
inline void LogError(std::string_view m, std::initializer_list<LogField> fields = {}) {
  Logger::Log(LogLevel::kError, m, fields);
}

}  // namespace poolwatch
