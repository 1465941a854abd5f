#include "alerting/rule.h"

#include <cctype>
#include <cinttypes>
#include <cstdio>

#include "alerting/rule_internal.h"

namespace poolwatch {
namespace rule_internal {

std::string Upper(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string OrUnknown(const std::string& s) { return s.empty() ? "unknown" : s; }

std::string FormatDuration(Clock::duration d) {
  int64_t s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (s < 0) s = 0;
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 "h %" PRId64 "m %" PRId64 "s", s / 3600, s / 60 % 60,
                  s % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%" PRId64 "s", s);
  }
  return buf;
}

Notification BaseNotification(const RuleConfig& config, const Labels& labels, AlertStatus status) {
  Notification n;
  n.rule = config.name;
  n.status = status;
  n.labels = labels;
  n.severity = config.severity;
  return n;
}

}  // namespace rule_internal

std::string_view ServingPoolOf(const LogRecord& record) {
  if (rule_internal::IsRealPool(record.pool)) return record.pool;
  // A response without the pool header (the app does not set it, or the log format uses
  // $http_x_app_pool by mistake): the last attempt is the server that answered.
  if ((record.pool.empty() || record.pool == "-") && !record.attempts.empty() &&
      rule_internal::IsRealPool(record.attempts.back().pool)) {
    return record.attempts.back().pool;
  }
  return {};
}

}  // namespace poolwatch
