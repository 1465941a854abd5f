#include "core/log_record.h"

#include <ctime>

namespace poolwatch {

std::string FormatRfc3339(TimePoint t) {
  std::time_t seconds = Clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace poolwatch
