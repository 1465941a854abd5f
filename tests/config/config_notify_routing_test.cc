// Which notifiers get a rule's alerts: a rule's own `notify` list, notify.default_notifiers
// (or POOLWATCH_DEFAULT_NOTIFIERS) for the others, every configured notifier without either.
// Mistakes name file, line and key; a kind with no notifier is found after the merge.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"
#include "tests/config/config_error_of.h"

namespace poolwatch {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using ::poolwatch::testing::ConfigErrorOf;

const char* kTwoRules =
    "alerting:\n"
    "  rules:\n"
    "    - name: failover\n"
    "      kind: failover\n"
    "      notify: [alertmanager]\n"
    "    - name: error_rate\n"
    "      kind: error_rate\n";

TEST(ConfigNotifyRouting, without_any_list_every_rule_goes_to_every_notifier) {
  Config config = LoadConfigFromString("", "poolwatch.yml", {});
  ASSERT_EQ(config.alerting.rules.size(), 2u);
  for (const RuleConfig& rule : config.alerting.rules) EXPECT_THAT(rule.notify, IsEmpty());
}

TEST(ConfigNotifyRouting, a_rules_own_list_wins_and_the_others_take_the_default) {
  const std::string yaml = std::string(kTwoRules) +
                           "notify:\n"
                           "  slack_webhook_url: https://hooks.slack.com/services/T/B/x\n"
                           "  alertmanager_urls: [http://am:9093]\n"
                           "  default_notifiers: [slack, alertmanager]\n";
  Config config = LoadConfigFromString(yaml, "poolwatch.yml", {});
  EXPECT_NO_THROW(ValidateConfig(config));
  EXPECT_THAT(config.alerting.rules[0].notify, ElementsAre("alertmanager"));
  EXPECT_THAT(config.alerting.rules[1].notify, ElementsAre("slack", "alertmanager"));
}

TEST(ConfigNotifyRouting, the_default_can_come_from_the_environment) {
  Config config = LoadConfig("", {{"POOLWATCH_ALERTMANAGER_URLS", "http://am:9093"},
                                  {"POOLWATCH_DEFAULT_NOTIFIERS", " alertmanager "}});
  EXPECT_NO_THROW(ValidateConfig(config));
  for (const RuleConfig& rule : config.alerting.rules) {
    EXPECT_THAT(rule.notify, ElementsAre("alertmanager"));
  }
}

TEST(ConfigNotifyRouting, an_unknown_kind_names_file_line_and_key) {
  const std::string error = ConfigErrorOf(
      "alerting:\n"
      "  rules:\n"
      "    - name: failover\n"
      "      kind: failover\n"
      "      notify: [slack, pagerduty]\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:5"));
  EXPECT_THAT(error, HasSubstr("alerting.rules[0].notify[1]"));
  EXPECT_THAT(error, HasSubstr("unknown notifier 'pagerduty'"));
  EXPECT_THAT(error, HasSubstr("slack, webhook, console, alertmanager"));
  EXPECT_THAT(ConfigErrorOf("notify:\n  default_notifiers: [email]\n"),
              HasSubstr("poolwatch.yml:2: notify.default_notifiers[0]: unknown notifier"));
  EXPECT_THAT(ConfigErrorOf("", {{"POOLWATCH_DEFAULT_NOTIFIERS", "slack,sms"}}),
              HasSubstr("environment variable POOLWATCH_DEFAULT_NOTIFIERS"));
}

TEST(ConfigNotifyRouting, empty_scalar_or_repeated_lists_are_refused) {
  EXPECT_THAT(ConfigErrorOf("alerting:\n  rules:\n    - name: f\n      kind: failover\n"
                            "      notify: []\n"),
              HasSubstr("poolwatch.yml:5: alerting.rules[0].notify: expected a list"));
  // As the README's complete file writes it: the default, every notifier.
  EXPECT_EQ(ConfigErrorOf("notify:\n  default_notifiers: []\n"), "");
  EXPECT_THAT(ConfigErrorOf("notify:\n  default_notifiers: slack\n"),
              HasSubstr("expected a list of notifier kinds"));
  EXPECT_THAT(ConfigErrorOf("notify:\n  console: true\n  default_notifiers: [console, console]\n"),
              HasSubstr("notify.default_notifiers[1]: 'console' is listed twice"));
}

TEST(ConfigNotifyRouting, a_kind_with_no_notifier_configured_is_an_error_with_its_line) {
  // The rule asks for Alertmanager, but no Alertmanager URL is set anywhere.
  const std::string error = ConfigErrorOf(kTwoRules);
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:5: alerting.rules[0].notify: alertmanager is "
                               "not configured"));
  EXPECT_THAT(error, HasSubstr("POOLWATCH_ALERTMANAGER_URLS"));
  // The environment may supply it: the check is made after the merge.
  EXPECT_EQ(ConfigErrorOf(kTwoRules, {{"POOLWATCH_ALERTMANAGER_URLS", "http://am:9093"}}), "");

  const std::string slack =
      ConfigErrorOf("notify:\n  default_notifiers: [slack]\n", {{"POOLWATCH_WEBHOOK_URL", ""}});
  EXPECT_THAT(slack, HasSubstr("poolwatch.yml:2: notify.default_notifiers: slack is not "
                               "configured (set notify.slack_webhook_url or SLACK_WEBHOOK_URL)"));
  EXPECT_EQ(ConfigErrorOf("notify:\n  default_notifiers: [slack]\n",
                          {{"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/secret"}}),
            "");
}

TEST(ConfigNotifyRouting, the_console_counts_as_configured_only_when_it_would_be_built) {
  // Alone, the console is what BuildNotifiers falls back to.
  EXPECT_EQ(ConfigErrorOf("notify:\n  default_notifiers: [console]\n"), "");
  const std::string with_slack = "notify:\n  default_notifiers: [console]\n";
  const Environment slack = {{"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/secret"}};
  const std::string error = ConfigErrorOf(with_slack, slack);
  EXPECT_THAT(error, HasSubstr("console is not configured"));
  EXPECT_THAT(error, Not(HasSubstr("secret"))) << "the webhook URL is never echoed";
  EXPECT_EQ(ConfigErrorOf("notify:\n  console: true\n  default_notifiers: [console]\n", slack), "");
}

}  // namespace
}  // namespace poolwatch
