#include "core/log_record.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>

namespace poolwatch {

void AppendSourceKey(std::string& key, std::string_view value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof(digits), value.size()).ptr;
  key.append(digits, end);
  key += ':';
  key.append(value);
}

uint64_t NewLineSourceId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::string FormatRfc3339(TimePoint t) {
  std::time_t seconds = Clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

std::string FormatDuration(Clock::duration d, std::string_view gap) {
  const int64_t s = std::max<int64_t>(0, std::chrono::floor<std::chrono::seconds>(d).count());
  const std::string g(gap);
  if (s >= 3600) {
    return std::to_string(s / 3600) + "h" + g + std::to_string(s / 60 % 60) + "m" + g +
           std::to_string(s % 60) + "s";
  }
  if (s >= 60) return std::to_string(s / 60) + "m" + g + std::to_string(s % 60) + "s";
  return std::to_string(s) + "s";
}

}  // namespace poolwatch
