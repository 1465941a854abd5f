#include "config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/config/config_error_of.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using ::testing::HasSubstr;

using ::poolwatch::testing::ConfigErrorOf;

TEST(Config, WithoutFileTheSeedVariablesDefineTwoRules) {
  Config config = LoadConfig("", {{"ACTIVE_POOL", "green"},
                                  {"ERROR_RATE_THRESHOLD", "5"},
                                  {"WINDOW_SIZE", "500"},
                                  {"ALERT_COOLDOWN_SEC", "600"},
                                  {"MAINTENANCE_MODE", "true"}});
  EXPECT_EQ(config.alerting.active_pool, "green");
  EXPECT_TRUE(config.alerting.maintenance);
  ASSERT_EQ(config.alerting.rules.size(), 2u);
  EXPECT_EQ(config.alerting.rules[0].name, "failover");
  EXPECT_EQ(config.alerting.rules[1].name, "error_rate");
  EXPECT_DOUBLE_EQ(config.alerting.rules[1].threshold_percent, 5);
  EXPECT_EQ(config.alerting.rules[1].window_size, 500u);
  EXPECT_EQ(config.alerting.rules[0].cooldown, std::chrono::seconds(600));
  EXPECT_EQ(config.alerting.rules[1].cooldown, std::chrono::seconds(600));
}

TEST(Config, SeedDefaultsMatchTheSeedReadme) {
  Config config = LoadConfig("", {});
  EXPECT_EQ(config.alerting.active_pool, "blue");
  EXPECT_FALSE(config.alerting.maintenance);
  EXPECT_DOUBLE_EQ(config.alerting.rules[1].threshold_percent, 2);
  EXPECT_EQ(config.alerting.rules[1].window_size, 200u);
  EXPECT_EQ(config.alerting.rules[0].cooldown, std::chrono::seconds(300));
  EXPECT_TRUE(config.notify.slack_webhook_url.empty());
}

TEST(Config, EnvironmentOverridesTheFile) {
  Config config = LoadConfigFromString(
      "alerting:\n  active_pool: green\n  rules:\n    - name: errors\n      kind: error_rate\n"
      "      threshold_percent: 10\n",
      "poolwatch.yml", {{"ACTIVE_POOL", "blue"}, {"ERROR_RATE_THRESHOLD", "3"}});
  EXPECT_EQ(config.alerting.active_pool, "blue");
  ASSERT_EQ(config.alerting.rules.size(), 1u);
  EXPECT_DOUBLE_EQ(config.alerting.rules[0].threshold_percent, 3);
}

TEST(Config, ReadsEveryRuleOption) {
  Config config = LoadConfigFromString(R"(
alerting:
  rules:
    - name: blue_upstream
      kind: error_rate
      scope: upstream
      threshold_percent: 5
      resolve_threshold_percent: 1
      window_size: 100
      max_age: 2m
      min_requests: 10
      cooldown: 1m
      repeat_interval: 1h
      send_resolved: false
      muted_in_maintenance: true
      severity: warning
    - name: failover
      kind: failover
      for: 1500ms
)",
                                       "poolwatch.yml", {});
  const RuleConfig& r = config.alerting.rules[0];
  EXPECT_EQ(r.scope, ErrorScope::kUpstream);
  EXPECT_DOUBLE_EQ(r.ResolveThreshold(), 1);
  EXPECT_EQ(r.max_age, std::chrono::seconds(120));
  EXPECT_EQ(r.min_requests, 10u);
  EXPECT_EQ(r.repeat_interval, std::chrono::seconds(3600));
  EXPECT_FALSE(r.send_resolved);
  EXPECT_TRUE(r.MutedInMaintenance());
  EXPECT_EQ(r.severity, "warning");
  EXPECT_EQ(config.alerting.rules[1].for_duration, std::chrono::milliseconds(1500));
}

TEST(Config, UnknownKeyNamesFileLineAndKey) {
  std::string error = ConfigErrorOf("log:\n  path: /var/log/x\n  pathh: /y\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:3"));
  EXPECT_THAT(error, HasSubstr("log.pathh"));
  EXPECT_THAT(error, HasSubstr("unknown key"));
}

TEST(Config, BadValueNamesFileLineAndKey) {
  std::string error = ConfigErrorOf(
      "alerting:\n  rules:\n    - name: e\n      kind: error_rate\n      threshold_percent: "
      "lots\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:5"));
  EXPECT_THAT(error, HasSubstr("alerting.rules[0].threshold_percent"));
  EXPECT_THAT(error, HasSubstr("'lots'"));
}

TEST(Config, RejectsOutOfRangeAndInconsistentValues) {
  EXPECT_THAT(
      ConfigErrorOf(
          "alerting:\n  rules:\n    - {name: e, kind: error_rate, threshold_percent: 120}\n"),
      HasSubstr("between 0 and 100"));
  EXPECT_THAT(ConfigErrorOf("alerting:\n  rules:\n    - {name: e, kind: error_rate, window_size: "
                            "10, min_requests: 20}\n"),
              HasSubstr("min_requests"));
  EXPECT_THAT(ConfigErrorOf("alerting:\n  rules:\n    - {name: e, kind: errors}\n"),
              HasSubstr(std::string(kRuleKindExpected)));
  EXPECT_THAT(ConfigErrorOf("alerting:\n  rules:\n    - {name: a, kind: failover}\n    - {name: a, "
                            "kind: failover}\n"),
              HasSubstr("duplicate rule name"));
  EXPECT_THAT(
      ConfigErrorOf("alerting:\n  rules:\n    - {name: a, kind: failover, cooldown: soon}\n"),
      HasSubstr("duration"));
}

TEST(Config, BadLogFormatSaysWhichVariablesAreMissing) {
  std::string error = ConfigErrorOf("log:\n  format: '$remote_addr [$time_local] $status'\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:2"));
  EXPECT_THAT(error, HasSubstr("$upstream_addr"));
}

TEST(Config, SyntaxErrorNamesTheLine) {
  EXPECT_THAT(ConfigErrorOf("log:\n  path: [unclosed\n"), HasSubstr("poolwatch.yml:"));
}

TEST(Config, BadEnvironmentValueNamesTheVariable) {
  std::string error = ConfigErrorOf("", {{"ERROR_RATE_THRESHOLD", "two"}});
  EXPECT_THAT(error, HasSubstr("ERROR_RATE_THRESHOLD"));
  EXPECT_THAT(ConfigErrorOf("", {{"MAINTENANCE_MODE", "maybe"}}), HasSubstr("MAINTENANCE_MODE"));
}

TEST(Config, ParsesDurations) {
  EXPECT_EQ(ParseDuration("300"), std::chrono::seconds(300));
  EXPECT_EQ(ParseDuration("1h30m"), std::chrono::minutes(90));
  EXPECT_EQ(ParseDuration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(ParseDuration("5x"), std::nullopt);
  EXPECT_EQ(ParseDuration("-1s"), std::nullopt);
  // Found by config_fuzzer: a huge number overflowed the cast to an integer (UB).
  EXPECT_EQ(ParseDuration("1e300s"), std::nullopt);
  EXPECT_EQ(ParseDuration("1e300"), std::nullopt);
  EXPECT_EQ(ParseDuration("infs"), std::nullopt);
  EXPECT_EQ(ParseDuration("nan"), std::nullopt);
  EXPECT_EQ(ParseDuration("36500d1s"), std::nullopt);
  EXPECT_EQ(ParseDuration("36500d"), std::chrono::hours(24 * 36500));
}

TEST(Config, ReadsAlertmanagerUrlsResendIntervalAndGeneratorUrl) {
  Config config = LoadConfigFromString(R"(
notify:
  alertmanager_urls: [http://am-1:9093, "https://am-2.example/prefix/"]
  alertmanager_resend_interval: 30s
  generator_url: http://node-a:10090/
)",
                                       "poolwatch.yml", {});
  EXPECT_EQ(config.notify.alertmanager_urls,
            (std::vector<std::string>{"http://am-1:9093", "https://am-2.example/prefix/"}));
  EXPECT_EQ(config.notify.alertmanager_resend_interval, std::chrono::seconds(30));
  EXPECT_EQ(config.notify.generator_url, "http://node-a:10090/");
  EXPECT_TRUE(LoadConfig("", {}).notify.alertmanager_urls.empty());
  EXPECT_EQ(LoadConfig("", {}).notify.alertmanager_resend_interval, std::chrono::minutes(1));
}

TEST(Config, AlertmanagerUrlsFromTheEnvironmentAreCommaSeparatedAndWinOverTheFile) {
  Config config = LoadConfigFromString(
      "notify:\n  alertmanager_urls: [http://from-file:9093]\n", "poolwatch.yml",
      {{"POOLWATCH_ALERTMANAGER_URLS", " http://am-1:9093 ,http://am-2:9093,, "}});
  EXPECT_EQ(config.notify.alertmanager_urls,
            (std::vector<std::string>{"http://am-1:9093", "http://am-2:9093"}));
}

TEST(Config, BadAlertmanagerSettingsNameFileLineAndKeyWithoutEchoingTheUrl) {
  std::string error =
      ConfigErrorOf("notify:\n  alertmanager_urls:\n    - http://ok:9093\n    - am:9093\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:4"));
  EXPECT_THAT(error, HasSubstr("notify.alertmanager_urls[1]"));
  EXPECT_THAT(error, HasSubstr("http:// or https://"));
  EXPECT_THAT(ConfigErrorOf("notify:\n  alertmanager_urls: http://am:9093\n"),
              HasSubstr("expected a list"));
  EXPECT_THAT(ConfigErrorOf("notify:\n  alertmanager_resend_interval: 100ms\n"),
              HasSubstr("between 1s and 1h"));
  std::string env_error =
      ConfigErrorOf("", {{"POOLWATCH_ALERTMANAGER_URLS", "user:secret@am:9093"}});
  EXPECT_THAT(env_error, HasSubstr("POOLWATCH_ALERTMANAGER_URLS"));
  EXPECT_THAT(env_error, ::testing::Not(HasSubstr("secret")));
}

TEST(Config, StatePathAndIntervalFromTheFileTheEnvironmentWins) {
  Config config = LoadConfigFromString(
      "state:\n  path: /var/lib/poolwatch/state.json\n  checkpoint_interval: 2s\n", "poolwatch.yml",
      {});
  EXPECT_EQ(config.state_path, "/var/lib/poolwatch/state.json");
  EXPECT_EQ(config.state_interval, std::chrono::seconds(2));
  EXPECT_TRUE(LoadConfig("", {}).state_path.empty());
  EXPECT_EQ(LoadConfig("", {}).state_interval, std::chrono::seconds(1));
  Config from_env = LoadConfigFromString("state:\n  path: /from/file\n", "poolwatch.yml",
                                         {{"POOLWATCH_STATE_PATH", "/from/env"}});
  EXPECT_EQ(from_env.state_path, "/from/env");
}

TEST(Config, BadStateSettingsNameFileLineAndKey) {
  std::string error =
      ConfigErrorOf("log:\n  path: /x\nstate:\n  path: /s\n  checkpoint_interval: 10s\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:5"));
  EXPECT_THAT(error, HasSubstr("state.checkpoint_interval"));
  EXPECT_THAT(error, HasSubstr("between 100ms and 5s"));
  EXPECT_THAT(ConfigErrorOf("state:\n  file: /s\n"), HasSubstr("state.file: unknown key"));
  EXPECT_THAT(ConfigErrorOf("state:\n  path: [a, b]\n"),
              HasSubstr("state.path: expected a string"));
}

TEST(Config, WebhookUrlsMustBeHttpAndAreNeverEchoed) {
  auto validate_error = [](const Config& config) -> std::string {
    try {
      ValidateConfig(config);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  Config slack =
      LoadConfig("", {{"SLACK_WEBHOOK_URL", "hooks.slack.com/services/T0/B0/xoxb-secret"}});
  std::string error = validate_error(slack);
  EXPECT_THAT(error, HasSubstr("SLACK_WEBHOOK_URL"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("xoxb-secret")));
  Config webhook = LoadConfigFromString("notify:\n  webhook_url: ftp://user:pw-secret@host/x\n",
                                        "poolwatch.yml", {});
  error = validate_error(webhook);
  EXPECT_THAT(error, HasSubstr("notify.webhook_url"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("pw-secret")));
  EXPECT_EQ(validate_error(
                LoadConfig("", {{"SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T/B/x"}})),
            "");
}

// Slack app mode (issue 16): the token from the file, the environment or a file, never echoed.
TEST(Config, SlackAppTokenChannelAndApiUrlComeFromYamlEnvironmentOrFile) {
  Config yaml = LoadConfigFromString(
      "notify:\n  slack_bot_token: xoxb-yaml-secret\n  slack_channel: \"#ops\"\n"
      "  slack_api_url: http://127.0.0.1:9/api\n",
      "poolwatch.yml", {});
  EXPECT_EQ(yaml.notify.slack_bot_token, "xoxb-yaml-secret");
  EXPECT_EQ(yaml.notify.slack_channel, "#ops");
  EXPECT_EQ(yaml.notify.slack_api_url, "http://127.0.0.1:9/api");
  EXPECT_EQ(ConfigErrorOf("notify:\n  slack_bot_token: xoxb-yaml-secret\n  slack_channel: C01\n"),
            "");

  Config env = LoadConfig("", {{"SLACK_BOT_TOKEN", "xoxb-env-secret"}, {"SLACK_CHANNEL", "C0123"}});
  EXPECT_EQ(env.notify.slack_bot_token, "xoxb-env-secret");
  EXPECT_EQ(env.notify.slack_channel, "C0123");
  EXPECT_EQ(env.notify.slack_api_url, "https://slack.com/api");

  ::poolwatch::testing::TempDir dir;
  ::poolwatch::testing::WriteFile(dir / "token", "xoxb-file-secret\n");
  Config file = LoadConfigFromString(
      "notify:\n  slack_bot_token_file: " + (dir / "token").string() + "\n  slack_channel: C01\n",
      "poolwatch.yml", {});
  EXPECT_EQ(file.notify.slack_bot_token, "xoxb-file-secret");
}

TEST(Config, SlackAppMistakesAreClearAndNeverEchoTheToken) {
  const std::string token = "  slack_bot_token: xoxb-never-shown\n";
  std::string error = ConfigErrorOf("notify:\n" + token);
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:2: notify.slack_channel"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("xoxb-never-shown")));
  error = ConfigErrorOf("notify:\n" + token +
                        "  slack_channel: C01\n"
                        "  slack_webhook_url: https://hooks.slack.com/services/T/B/x\n");
  EXPECT_THAT(error, HasSubstr("choose one Slack notifier"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("xoxb-never-shown")));
  error = ConfigErrorOf("notify:\n  slack_channel: C01\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:2: notify.slack_channel"));
  EXPECT_THAT(error, HasSubstr("without notify.slack_bot_token"));
  error = ConfigErrorOf("", {{"SLACK_BOT_TOKEN", "xoxb-never-shown"}});
  EXPECT_THAT(error, ::testing::StartsWith("environment variable SLACK_BOT_TOKEN: "
                                           "notify.slack_channel (or SLACK_CHANNEL)"));
  error = ConfigErrorOf("notify:\n  slack_bot_token: \"xoxb-never shown\"\n  slack_channel: C01\n");
  EXPECT_THAT(error, HasSubstr("without spaces or line breaks"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("never shown")));
  error = ConfigErrorOf("notify:\n  slack_api_url: slack.com/api\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:2"));
  EXPECT_THAT(error, HasSubstr("notify.slack_api_url"));
  error = ConfigErrorOf("notify:\n  slack_bot_token_file: /nonexistent/token\n");
  EXPECT_THAT(error, HasSubstr("notify.slack_bot_token_file"));
}

}  // namespace
}  // namespace poolwatch
