#include "alerting/rules.h"

namespace poolwatch {

std::unique_ptr<Rule> MakeRule(const RuleConfig& config, std::string_view active_pool) {
  // group_by (issue 17): one rule of the kind per group, made here again without group_by.
  if (!config.group_by.empty()) return std::make_unique<GroupedRule>(config, active_pool, MakeRule);
  switch (config.kind) {
    case RuleKind::kFailover:
      return std::make_unique<FailoverRule>(config, active_pool);
    case RuleKind::kErrorRate:
      return std::make_unique<ErrorRateRule>(config);
    case RuleKind::kTraffic:
      return std::make_unique<TrafficRule>(config);
    case RuleKind::kLatency:
      return std::make_unique<LatencyRule>(config);
    case RuleKind::kReleaseRegression:
      return std::make_unique<ReleaseRegressionRule>(config);
    case RuleKind::kSlo:
      return std::make_unique<SloRule>(config);
  }
  return nullptr;
}

}  // namespace poolwatch
