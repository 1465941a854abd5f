#include "alerting/rule.h"

#include <cctype>

#include "alerting/rule_internal.h"

namespace poolwatch {
namespace rule_internal {

std::string Upper(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string OrUnknown(const std::string& s) { return s.empty() ? "unknown" : s; }

std::string WindowName(std::chrono::seconds window) {
  const int64_t s = window.count();
  if (s >= 86400 && s % 86400 == 0) return std::to_string(s / 86400) + "d";
  if (s >= 3600 && s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s >= 60 && s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

Notification BaseNotification(const RuleConfig& config, const Labels& labels, AlertStatus status) {
  Notification n;
  n.rule = config.name;
  n.status = status;
  n.labels = labels;
  n.severity = config.severity;
  return n;
}

std::string_view PoolOfLabels(const Labels& labels) {
  auto it = labels.find("pool");
  if (labels.size() != 1 || it == labels.end() || !IsRealPool(it->second)) return {};
  return it->second;
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
