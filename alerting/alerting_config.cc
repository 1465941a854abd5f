#include "alerting/alerting_config.h"

namespace poolwatch {

std::string_view RuleKindName(RuleKind kind) {
  switch (kind) {
    case RuleKind::kFailover:
      return "failover";
    case RuleKind::kErrorRate:
      return "error_rate";
    case RuleKind::kTraffic:
      return "traffic";
    case RuleKind::kLatency:
      return "latency";
    case RuleKind::kReleaseRegression:
      return "release_regression";
    case RuleKind::kSlo:
      return "slo";
  }
  return "unknown";
}

std::vector<BurnRateWindows> DefaultBurnRates() {
  using std::chrono::hours;
  using std::chrono::minutes;
  return {{hours(1), minutes(5), 14.4, true},
          {hours(6), minutes(30), 6, true},
          {hours(72), hours(6), 1, false}};
}

AlertingConfig AlertingConfig::SeedDefaults() {
  AlertingConfig config;
  RuleConfig failover;
  failover.name = "failover";
  failover.kind = RuleKind::kFailover;
  failover.severity = "critical";
  config.rules.push_back(failover);

  RuleConfig error_rate;
  error_rate.name = "error_rate";
  error_rate.kind = RuleKind::kErrorRate;
  error_rate.severity = "critical";
  config.rules.push_back(error_rate);
  return config;
}

}  // namespace poolwatch
