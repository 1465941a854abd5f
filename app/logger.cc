#include "app/logger.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "exporter/log_record.h"

namespace poolwatch {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

std::string_view Name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}
}  // namespace

bool ParseLogLevel(std::string_view text, LogLevel* level) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (text == Name(l)) {
      *level = l;
      return true;
    }
  }
  return false;
}

void Logger::SetLevel(LogLevel level) { g_level = static_cast<int>(level); }

bool Logger::Enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void Logger::Log(LogLevel level, std::string_view message) {
  if (!Enabled(level)) return;
  std::string line = "ts=" + FormatRfc3339(Clock::now()) + " level=" + std::string(Name(level)) +
                     " msg=" + std::string(message) + "\n";
  ssize_t ignored = ::write(2, line.data(), line.size());
  (void)ignored;
}

}  // namespace poolwatch
