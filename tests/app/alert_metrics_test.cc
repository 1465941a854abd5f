#include "app/alert_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

namespace poolwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RuleStatus Rule(const std::string& name, RuleKind kind, bool firing, double value = 0) {
  RuleStatus rs;
  rs.name = name;
  rs.kind = kind;
  rs.firing = firing;
  rs.value = value;
  return rs;
}

std::string Scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(AlertMetrics, series_of_rules_removed_by_a_reload_disappear) {
  prometheus::Registry registry;
  AlertMetrics metrics(registry);
  EngineStatus status;
  status.active_pool = "blue";
  status.rules = {Rule("old_error_rate", RuleKind::kErrorRate, true, 40),
                  Rule("failover", RuleKind::kFailover, false)};
  metrics.Update(status);
  ASSERT_THAT(Scrape(registry), HasSubstr("poolwatch_alert_firing{rule=\"old_error_rate\"} 1"));
  ASSERT_THAT(Scrape(registry), HasSubstr("poolwatch_rule_error_ratio{rule=\"old_error_rate\"}"));

  // Reloaded without the rule.
  status.rules = {Rule("failover", RuleKind::kFailover, true)};
  metrics.Update(status);
  const std::string after = Scrape(registry);
  EXPECT_THAT(after, Not(HasSubstr("old_error_rate")));
  EXPECT_THAT(after, HasSubstr("poolwatch_alert_firing{rule=\"failover\"} 1"));

  // And a rule that comes back gets its series again.
  status.rules.push_back(Rule("old_error_rate", RuleKind::kErrorRate, false, 1));
  metrics.Update(status);
  EXPECT_THAT(Scrape(registry), HasSubstr("poolwatch_alert_firing{rule=\"old_error_rate\"} 0"));
}

}  // namespace
}  // namespace poolwatch
