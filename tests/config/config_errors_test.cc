// Configuration mistakes: each names file, line and key (or the environment variable), and the
// log format as users paste it from nginx.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "config/config.h"
#include "config/listen_address.h"
#include "tests/config/config_error_of.h"
#include "tests/support/test_support.h"
#include "web/http_server.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::ReadFile;
using ::testing::HasSubstr;

using ::poolwatch::testing::ConfigErrorOf;

// Every line indented for a YAML block scalar.
std::string Indented(const std::string& text) {
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) out += "    " + line + "\n";
  return out;
}

// The ```nginx block of the README: what users are told to paste.
std::string ReadmeDirective() {
  const std::string readme = ReadFile(std::filesystem::path(POOLWATCH_SOURCE_DIR) / "README.md");
  const size_t start = readme.find("```nginx\n");
  if (start == std::string::npos) return "";
  const size_t body = start + 9;
  return readme.substr(body, readme.find("```", body) - body);
}

TEST(ConfigLogFormat, TheReadmesDirectivePastedAsABlockIsTheDefaultFormat) {
  const std::string directive = ReadmeDirective();
  ASSERT_THAT(directive, HasSubstr("log_format poolwatch '"));
  Config config = LoadConfigFromString("log:\n  format: |\n" + Indented(directive), "p.yml", {});
  EXPECT_EQ(config.log_format, kDefaultLogFormat);
  EXPECT_EQ(config.format_options.escape, LogEscape::kDefault);
  EXPECT_NO_THROW(ValidateConfig(config));
}

TEST(ConfigLogFormat, ABareFormatKeepsWorking) {
  Config config = LoadConfigFromString(
      "log:\n  format: '" + std::string(kDefaultLogFormat) + "'\n  escape: none\n", "p.yml", {});
  EXPECT_EQ(config.log_format, kDefaultLogFormat);
  EXPECT_EQ(config.format_options.escape, LogEscape::kNone);
}

TEST(ConfigLogFormat, TheDirectivesEscapeIsUsedAndMustAgreeWithLogEscape) {
  const std::string json =
      "log_format j escape=json '{\"t\":\"$time_local\",\"s\":\"$status\",'\n"
      "  "
      "'\"p\":\"$upstream_http_x_app_pool\",\"a\":\"$upstream_addr\",\"u\":\"$upstream_status\"}';";
  Config config = LoadConfigFromString("log:\n  format: |\n" + Indented(json), "p.yml", {});
  EXPECT_EQ(config.format_options.escape, LogEscape::kJson);
  EXPECT_EQ(config.log_format.front(), '{');

  std::string error = ConfigErrorOf("log:\n  escape: default\n  format: |\n" + Indented(json));
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:2"));
  EXPECT_THAT(error, HasSubstr("log.escape"));
  EXPECT_THAT(error, HasSubstr("contradicts"));
}

TEST(ConfigLogFormat, UnbalancedQuotesNameFileLineAndKey) {
  std::string error = ConfigErrorOf(
      "log:\n  path: /x\n  format: |\n    log_format p '$remote_addr [$time_local] $status'\n"
      "      'pool=$upstream_http_x_app_pool upstream_addr=$upstream_addr;\n");
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:3"));
  EXPECT_THAT(error, HasSubstr("log.format"));
  EXPECT_THAT(error, HasSubstr("never closed"));
}

// file:line: key: problem, for one value in context.
void ExpectErrorAt(const std::string& yaml, const std::string& where, const std::string& key,
                   const std::string& problem) {
  std::string error = ConfigErrorOf(yaml);
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:" + where + ": " + key + ": ")) << yaml;
  EXPECT_THAT(error, HasSubstr(problem)) << yaml;
}

TEST(ConfigErrors, BadLogLevelNamesFileLineAndKey) {
  ExpectErrorAt("instance: a\nlog_level: verbose\n", "2", "log_level", "'verbose'");
  EXPECT_EQ(LoadConfigFromString("log_level: debug\n", "p.yml", {}).log_level, "debug");
}

TEST(ConfigErrors, BadTelemetryPathNamesFileLineAndKey) {
  ExpectErrorAt("web:\n  telemetry_path: metrics\n", "2", "web.telemetry_path", "start with /");
  ExpectErrorAt("web:\n  telemetry_path: \"/me trics\"\n", "2", "web.telemetry_path", "plain path");
  ExpectErrorAt("web:\n  telemetry_path: \"/m?x=1\"\n", "2", "web.telemetry_path", "plain path");
}

TEST(ConfigErrors, EmptyActivePoolNamesFileLineAndKey) {
  ExpectErrorAt("alerting:\n  maintenance: false\n  active_pool: \"\"\n", "3",
                "alerting.active_pool", "must name");
}

TEST(ConfigErrors, ListenAddressMustBeHostAndPort) {
  ExpectErrorAt("web:\n  listen_address: nonsense\n", "2", "web.listen_address", "host:port");
  ExpectErrorAt("web:\n  listen_address: \":http\"\n", "2", "web.listen_address", "port");
  ExpectErrorAt("web:\n  listen_address: \"1.2.3.4:70000\"\n", "2", "web.listen_address", "65535");
  ExpectErrorAt("web:\n  listen_address: \"::1:80\"\n", "2", "web.listen_address", "brackets");
  for (const char* good : {":10090", "127.0.0.1:0", "localhost:9000"}) {
    EXPECT_EQ(
        LoadConfigFromString(std::string("web:\n  listen_address: \"") + good + "\"\n", "p.yml", {})
            .listen_addresses,
        std::vector<std::string>{good});
  }
  EXPECT_THAT(ConfigErrorOf("", {{"POOLWATCH_LISTEN_ADDRESS", "nonsense"}}),
              HasSubstr("POOLWATCH_LISTEN_ADDRESS"));
  // A flag is checked once everything is merged.
  Config config = LoadConfigFromString("", "p.yml", {});
  config.listen_addresses = {"nonsense"};
  EXPECT_THROW(ValidateConfig(config), ConfigError);
  config.listen_addresses = {};
  EXPECT_THROW(ValidateConfig(config), ConfigError);
}

TEST(ConfigErrors, ListenAddressTakesAListInYamlAndCommasInTheEnvironment) {
  EXPECT_EQ(LoadConfigFromString("web:\n  listen_address: [\"127.0.0.1:1\", \":2\"]\n", "p.yml", {})
                .listen_addresses,
            (std::vector<std::string>{"127.0.0.1:1", ":2"}));
  EXPECT_EQ(LoadConfigFromString("", "p.yml",
                                 {{"POOLWATCH_LISTEN_ADDRESS", " 127.0.0.1:1, 10.0.0.1:2 ,"}})
                .listen_addresses,
            (std::vector<std::string>{"127.0.0.1:1", "10.0.0.1:2"}));
  EXPECT_EQ(LoadConfigFromString("", "p.yml", {}).listen_addresses,
            std::vector<std::string>{":10090"});
  // Each item is checked with its own line and index.
  ExpectErrorAt("web:\n  listen_address:\n    - \":1\"\n    - nonsense\n", "4",
                "web.listen_address[1]", "host:port");
  ExpectErrorAt("web:\n  listen_address:\n    - \":1\"\n    - \"0.0.0.0:1\"\n", "4",
                "web.listen_address[1]", "given twice");
  ExpectErrorAt("web:\n  listen_address: []\n", "2", "web.listen_address", "at least one");
  ExpectErrorAt("web:\n  listen_address: \"127.0.0.1:1,127.0.0.1:2\"\n", "2", "web.listen_address",
                "one address each");
  EXPECT_THAT(ConfigErrorOf("", {{"POOLWATCH_LISTEN_ADDRESS", "127.0.0.1:1, localhost:1"}}),
              HasSubstr("POOLWATCH_LISTEN_ADDRESS: 'localhost:1' is given twice"));
  EXPECT_THAT(ConfigErrorOf("", {{"POOLWATCH_LISTEN_ADDRESS", " , "}}),
              HasSubstr("POOLWATCH_LISTEN_ADDRESS: expected at least one address"));
  // Two listeners that each pick a free port do not collide.
  EXPECT_EQ(ConfigErrorOf("web:\n  listen_address: [\"127.0.0.1:0\", \"127.0.0.1:0\"]\n"), "");
}

TEST(ConfigErrors, Ipv6ListenAddressIsRefusedWhenThisCivetwebHasNoIpv6) {
  // The parser's verdict follows what civetweb says it can do, not a fixed rule.
  EXPECT_EQ(ListenAddressProblem("[::1]:10090", /*ipv6_available=*/true), "");
  EXPECT_THAT(ListenAddressProblem("[::1]:10090", /*ipv6_available=*/false),
              HasSubstr("IPv6 is not available in this build"));
  EXPECT_THAT(ListenAddressProblem("[::]:10090", false), HasSubstr("compiled without IPv6"));
  EXPECT_EQ(ListenAddressProblem("127.0.0.1:10090", false), "");
  if (CivetwebSupportsIpv6()) GTEST_SKIP() << "this civetweb listens on IPv6";
  ExpectErrorAt("web:\n  listen_address: \"[::1]:10090\"\n", "2", "web.listen_address",
                "IPv6 is not available in this build");
  ExpectErrorAt("web:\n  listen_address: [\":1\", \"[::]:2\"]\n", "2", "web.listen_address[1]",
                "Debian 12's");
  EXPECT_THAT(ConfigErrorOf("", {{"POOLWATCH_LISTEN_ADDRESS", "127.0.0.1:1,[::1]:2"}}),
              HasSubstr("POOLWATCH_LISTEN_ADDRESS: IPv6 is not available in this build"));
  Config config = LoadConfigFromString("", "p.yml", {});
  config.listen_addresses = {"[::1]:10090"};
  try {
    ValidateConfig(config);
    ADD_FAILURE() << "an IPv6 flag was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("--web.listen-address): IPv6 is not available"));
  }
}

TEST(ConfigErrors, DuplicateKeysNameFileLineAndKey) {
  ExpectErrorAt("log:\n  path: /a\n  path: /b\n", "3", "log.path", "twice");
  ExpectErrorAt("web:\n  listen_address: \":1\"\nlog:\n  path: /a\nweb:\n  telemetry_path: /m\n",
                "5", "web", "twice");
  ExpectErrorAt("log:\n  pools:\n    \"10.0.0.1:80\": blue\n    \"10.0.0.1:80\": green\n", "4",
                "log.pools.10.0.0.1:80", "twice");
  ExpectErrorAt("alerting:\n  rules:\n    - name: a\n      kind: failover\n      name: b\n", "5",
                "alerting.rules[0].name", "twice");
}

TEST(ConfigErrors, CountsAreWholeNumbersInTheFileAndTheEnvironment) {
  ExpectErrorAt("metrics:\n  max_pools: 1e2\n", "2", "metrics.max_pools", "whole number");
  ExpectErrorAt("metrics:\n  max_pools: 20.0\n", "2", "metrics.max_pools", "whole number");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: e, kind: error_rate, window_size: 200.9}\n", "3",
                "alerting.rules[0].window_size", "whole number");
  ExpectErrorAt("metrics:\n  max_pools: 0\n", "2", "metrics.max_pools", "between 1 and 10000");
  EXPECT_EQ(LoadConfigFromString("metrics:\n  max_pools: 7\n", "p.yml", {}).metrics.max_pools, 7u);

  EXPECT_THAT(ConfigErrorOf("", {{"WINDOW_SIZE", "200.9"}}),
              HasSubstr("environment variable WINDOW_SIZE: expected a whole number"));
  EXPECT_THAT(ConfigErrorOf("", {{"ALERT_COOLDOWN_SEC", "1e2"}}),
              HasSubstr("environment variable ALERT_COOLDOWN_SEC: expected a whole number"));
  EXPECT_THAT(ConfigErrorOf("", {{"WINDOW_SIZE", "-5"}}), HasSubstr("WINDOW_SIZE"));
  Config config = LoadConfig("", {{"WINDOW_SIZE", "300"}, {"ALERT_COOLDOWN_SEC", "60"}});
  EXPECT_EQ(config.alerting.rules[1].window_size, 300u);
  EXPECT_EQ(config.alerting.rules[0].cooldown, std::chrono::seconds(60));
}

TEST(ConfigErrors, EvidenceAndResolutionKeysNameFileLineAndKey) {
  ExpectErrorAt("alerting:\n  rules:\n    - {name: e, kind: error_rate, confidence: 100}\n", "3",
                "alerting.rules[0].confidence", "between");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: e, kind: error_rate, min_errors: 0}\n", "3",
                "alerting.rules[0].min_errors", "between");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: f, kind: failover, resolve_for: soon}\n", "3",
                "alerting.rules[0].resolve_for", "duration");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: e, kind: error_rate, resolve_requests: -1}\n",
                "3", "alerting.rules[0].resolve_requests", "whole number");
  EXPECT_THAT(ConfigErrorOf("", {{"POOLWATCH_RESOLVE_FOR_SEC", "1m"}}),
              HasSubstr("environment variable POOLWATCH_RESOLVE_FOR_SEC: expected a whole number"));
}

TEST(ConfigErrors, ResolutionDefaultsDependOnTheKindAndTheWindow) {
  const Config config = LoadConfigFromString(
      "alerting:\n  rules:\n    - {name: f, kind: failover}\n"
      "    - {name: e, kind: error_rate, window_size: 50}\n"
      "    - {name: g, kind: error_rate, resolve_for: 5s, resolve_requests: 0}\n",
      "p.yml", {});
  const std::vector<RuleConfig>& rules = config.alerting.rules;
  EXPECT_EQ(rules[0].ResolveFor(), std::chrono::seconds(30));
  EXPECT_EQ(rules[0].ResolveRequests(), 10u);
  EXPECT_EQ(rules[1].ResolveFor(), std::chrono::seconds(60));
  EXPECT_EQ(rules[1].ResolveRequests(), 100u);
  EXPECT_EQ(rules[2].ResolveFor(), std::chrono::seconds(5));
  EXPECT_EQ(rules[2].ResolveRequests(), 0u);
  const Config env = LoadConfigFromString("", "p.yml", {{"POOLWATCH_RESOLVE_FOR_SEC", "0"}});
  for (const RuleConfig& rule : env.alerting.rules) EXPECT_EQ(rule.ResolveFor().count(), 0);
}

TEST(ConfigTrafficRule, ReadsWindowPoolAndItsOwnDefaults) {
  const Config config = LoadConfigFromString(
      "alerting:\n  rules:\n    - {name: no_traffic, kind: traffic}\n"
      "    - {name: primary, kind: traffic, window: 10m, min_requests: 500, pool: blue}\n"
      "    - {name: every_pool, kind: traffic, pool: ''}\n",
      "p.yml", {});
  const std::vector<RuleConfig>& rules = config.alerting.rules;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].kind, RuleKind::kTraffic);
  EXPECT_EQ(rules[0].window, std::chrono::minutes(5));
  EXPECT_EQ(rules[0].min_requests, 1u) << "not error_rate's 5";
  EXPECT_EQ(rules[0].pool, "");
  EXPECT_EQ(rules[0].ResolveFor(), std::chrono::seconds(60));
  EXPECT_EQ(rules[0].ResolveRequests(), 2u);
  EXPECT_TRUE(rules[0].MutedInMaintenance());
  EXPECT_EQ(rules[1].window, std::chrono::minutes(10));
  EXPECT_EQ(rules[1].min_requests, 500u) << "more than window_size is fine for this kind";
  EXPECT_EQ(rules[1].pool, "blue");
  EXPECT_EQ(rules[1].ResolveRequests(), 1000u);
  EXPECT_EQ(rules[2].pool, "") << "the README's default: every request";
  EXPECT_NO_THROW(ValidateConfig(config));
}

TEST(ConfigTrafficRule, BadValuesNameFileLineAndKey) {
  ExpectErrorAt("alerting:\n  rules:\n    - {name: t, kind: traffic, window: soon}\n", "3",
                "alerting.rules[0].window", "duration");
  ExpectErrorAt("alerting:\n  rules:\n    - name: t\n      kind: traffic\n      window: 500ms\n",
                "5", "alerting.rules[0].window", "from 1s to 24h");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: t, kind: traffic, window: 2d}\n", "3",
                "alerting.rules[0].window", "from 1s to 24h");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: t, kind: traffic, min_requests: 0}\n", "3",
                "alerting.rules[0].min_requests", "between");
  ExpectErrorAt("alerting:\n  rules:\n    - name: e\n      kind: error_rate\n      pool: blue\n",
                "5", "alerting.rules[0].pool", "only rules of kind traffic");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: t, kind: trafic}\n", "3",
                "alerting.rules[0].kind",
                "failover, error_rate, traffic, latency, release_regression or slo");
}

TEST(ConfigErrors, LatencyRulesNeedAThresholdAndNameFileLineAndKey) {
  ExpectErrorAt("alerting:\n  rules:\n    - name: slow\n      kind: latency\n", "3",
                "alerting.rules[0].threshold", "a latency rule needs a threshold, a duration");
  ExpectErrorAt(
      "alerting:\n  rules:\n    - name: slow\n      kind: latency\n      threshold: fast\n", "5",
      "alerting.rules[0].threshold", "expected a duration like 30s, 5m or 250ms");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: l, kind: latency, threshold: 0ms}\n", "3",
                "alerting.rules[0].threshold", "must be above 0");
  ExpectErrorAt(
      "alerting:\n  rules:\n    - {name: l, kind: latency, threshold: 1s, quantile: 99}\n", "3",
      "alerting.rules[0].quantile", "between 0 and 1");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: l, kind: latency, threshold: 1s, quantile: 1}\n",
                "3", "alerting.rules[0].quantile", "a quantile between 0 and 1, like 0.99");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: l, kind: latency, threshold: 1s, min_slow: 0}\n",
                "3", "alerting.rules[0].min_slow", "between 1 and");
  ExpectErrorAt(
      "alerting:\n  rules:\n    - name: l\n      kind: latency\n      threshold: 500ms\n"
      "      resolve_threshold: 600ms\n",
      "6", "alerting.rules[0].resolve_threshold", "must not exceed threshold");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: e, kind: error_rate, threshold: 5}\n", "3",
                "alerting.rules[0].threshold",
                "only latency and slo rules take threshold (error_rate rules take "
                "threshold_percent)");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: f, kind: failover, quantile: 0.9}\n", "3",
                "alerting.rules[0].quantile", "only latency rules take quantile");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: l, kind: latncy}\n", "3",
                "alerting.rules[0].kind",
                "expected failover, error_rate, traffic, latency, release_regression or slo, "
                "got 'latncy'");
}

TEST(ConfigErrors, ALatencyRuleReadsItsKeysAndTheSharedResolutionDefaults) {
  const Config config = LoadConfigFromString(
      "alerting:\n  rules:\n"
      "    - {name: p99, kind: latency, threshold: 500ms}\n"
      "    - name: upstream_p999\n      kind: latency\n      scope: upstream\n"
      "      quantile: 0.999\n      threshold: 1.5s\n      resolve_threshold: 1s\n"
      "      window_size: 1000\n      max_age: 10m\n      min_requests: 50\n"
      "      min_slow: 5\n      confidence: 99\n      for: 30s\n",
      "p.yml", {});
  const std::vector<RuleConfig>& rules = config.alerting.rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].kind, RuleKind::kLatency);
  EXPECT_EQ(rules[0].scope, ErrorScope::kClient);
  EXPECT_DOUBLE_EQ(rules[0].quantile, 0.99);
  EXPECT_EQ(rules[0].latency_threshold, std::chrono::milliseconds(500));
  EXPECT_FALSE(rules[0].latency_resolve_threshold.has_value());
  EXPECT_EQ(rules[0].window_size, 200u);
  EXPECT_EQ(rules[0].max_age, std::chrono::seconds(300));
  EXPECT_EQ(rules[0].min_slow, 3u);
  EXPECT_EQ(rules[0].ResolveFor(), std::chrono::seconds(60));
  EXPECT_EQ(rules[0].ResolveRequests(), 400u);
  EXPECT_FALSE(rules[0].MutedInMaintenance());
  EXPECT_EQ(rules[1].scope, ErrorScope::kUpstream);
  EXPECT_DOUBLE_EQ(rules[1].quantile, 0.999);
  EXPECT_EQ(rules[1].latency_threshold, std::chrono::milliseconds(1500));
  EXPECT_EQ(rules[1].latency_resolve_threshold, std::chrono::milliseconds(1000));
  EXPECT_EQ(rules[1].window_size, 1000u);
  EXPECT_EQ(rules[1].max_age, std::chrono::seconds(600));
  EXPECT_EQ(rules[1].min_requests, 50u);
  EXPECT_EQ(rules[1].min_slow, 5u);
  EXPECT_DOUBLE_EQ(rules[1].confidence_percent, 99);
  EXPECT_EQ(rules[1].for_duration, std::chrono::seconds(30));
  EXPECT_EQ(rules[1].ResolveRequests(), 2000u);
}

// ---- slo ----

TEST(ConfigErrors, SloRulesNameFileLineAndKey) {
  const std::string head = "alerting:\n  rules:\n";
  ExpectErrorAt(head + "    - {name: s, kind: slo}\n", "3", "alerting.rules[0].objective",
                "a slo rule needs an objective, a percentage like 99.9");
  ExpectErrorAt(head + "    - {name: s, kind: slo, objective: 100}\n", "3",
                "alerting.rules[0].objective", "100 leaves no error budget");
  ExpectErrorAt(head + "    - {name: s, kind: slo, objective: high}\n", "3",
                "alerting.rules[0].objective", "expected a number");
  ExpectErrorAt(head + "    - {name: s, kind: slo, objective: 99.9, sli: uptime}\n", "3",
                "alerting.rules[0].sli", "expected availability or latency, got 'uptime'");
  ExpectErrorAt(head + "    - name: s\n      kind: slo\n      objective: 99\n      sli: latency\n",
                "6", "alerting.rules[0].threshold", "a latency slo needs a threshold");
  ExpectErrorAt(head +
                    "    - name: s\n      kind: slo\n      objective: 99\n"
                    "      sli: availability\n      threshold: 300ms\n",
                "7", "alerting.rules[0].threshold", "an availability slo (5xx) takes no threshold");
  ExpectErrorAt(head + "    - {name: s, kind: slo, objective: 99.9, window_size: 100}\n", "3",
                "alerting.rules[0].window_size", "slo rules do not take window_size");
  ExpectErrorAt(head + "    - {name: s, kind: slo, objective: 99.9, min_requests: 0}\n", "3",
                "alerting.rules[0].min_requests", "between");
  ExpectErrorAt(head + "    - {name: e, kind: error_rate, objective: 99.9}\n", "3",
                "alerting.rules[0].objective", "only slo rules take objective");
  ExpectErrorAt(head + "    - {name: s, kind: slo, objective: 99.9, burn_rates: 14.4}\n", "3",
                "alerting.rules[0].burn_rates", "expected a list of 1 to 4 entries");
  ExpectErrorAt(head +
                    "    - name: s\n      kind: slo\n      objective: 99.9\n      burn_rates:\n"
                    "        - {long: 1h, short: 5m, burn_rate: 14.4}\n"
                    "        - {long: 5m, short: 1h, burn_rate: 6}\n",
                "8", "alerting.rules[0].burn_rates[1].short", "must be shorter than long");
  ExpectErrorAt(head +
                    "    - name: s\n      kind: slo\n      objective: 99.9\n      burn_rates:\n"
                    "        - {long: 1h, short: 5m, burn_rate: 14.4, urgency: sms}\n",
                "7", "alerting.rules[0].burn_rates[0].urgency",
                "expected page or ticket, got 'sms'");
  ExpectErrorAt(head +
                    "    - name: s\n      kind: slo\n      objective: 99.9\n      burn_rates:\n"
                    "        - {long: 1h, burn_rate: 14.4}\n",
                "7", "alerting.rules[0].burn_rates[0].short", "every burn_rates entry needs short");
  ExpectErrorAt(head +
                    "    - name: s\n      kind: slo\n      objective: 99\n      burn_rates:\n"
                    "        - {long: 1h, short: 5m, burn_rate: 100}\n",
                "7", "alerting.rules[0].burn_rates[0].burn_rate", "can never fire");
  ExpectErrorAt(head +
                    "    - name: s\n      kind: slo\n      objective: 99\n      burn_rates:\n"
                    "        - {long: 40d, short: 5m, burn_rate: 2}\n",
                "7", "alerting.rules[0].burn_rates[0].long", "from 1m to 35d");
  ExpectErrorAt(head + "    - {name: s, kind: slo, objective: 99.9, period: 1d}\n", "3",
                "alerting.rules[0].period", "at least the longest long window");
}

TEST(ConfigErrors, AnSloRuleReadsItsKeysAndDefaults) {
  const Config config = LoadConfigFromString(
      "alerting:\n  rules:\n"
      "    - {name: availability, kind: slo, objective: 99.9}\n"
      "    - name: blue_latency\n      kind: slo\n      objective: 99\n      threshold: 300ms\n"
      "      scope: upstream\n      pool: blue\n      min_requests: 500\n"
      "      ticket_severity: info\n      period: 30d\n      burn_rates:\n"
      "        - {long: 2h, short: 10m, burn_rate: 10}\n"
      "        - {long: 1d, short: 2h, burn_rate: 2, urgency: ticket}\n",
      "p.yml", {});
  const std::vector<RuleConfig>& rules = config.alerting.rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].kind, RuleKind::kSlo);
  EXPECT_DOUBLE_EQ(rules[0].objective_percent, 99.9);
  EXPECT_EQ(rules[0].sli, SloIndicator::kAvailability);
  EXPECT_EQ(rules[0].scope, ErrorScope::kClient);
  EXPECT_EQ(rules[0].min_requests, 100u);
  EXPECT_TRUE(rules[0].burn_rates.empty());  // the workbook's
  EXPECT_EQ(rules[0].severity, "critical");
  EXPECT_EQ(rules[0].ticket_severity, "warning");
  EXPECT_FALSE(rules[0].slo_period.has_value());
  EXPECT_EQ(rules[0].ResolveRequests(), 100u);
  EXPECT_EQ(rules[1].sli, SloIndicator::kLatency);  // inferred from the threshold
  EXPECT_EQ(rules[1].latency_threshold, std::chrono::milliseconds(300));
  EXPECT_EQ(rules[1].scope, ErrorScope::kUpstream);
  EXPECT_EQ(rules[1].pool, "blue");
  EXPECT_EQ(rules[1].min_requests, 500u);
  EXPECT_EQ(rules[1].ticket_severity, "info");
  EXPECT_EQ(rules[1].slo_period, std::chrono::hours(30 * 24));
  ASSERT_EQ(rules[1].burn_rates.size(), 2u);
  EXPECT_EQ(rules[1].burn_rates[0],
            (BurnRateWindows{std::chrono::hours(2), std::chrono::minutes(10), 10, true}));
  EXPECT_EQ(rules[1].burn_rates[1],
            (BurnRateWindows{std::chrono::hours(24), std::chrono::hours(2), 2, false}));
}

}  // namespace
}  // namespace poolwatch

namespace poolwatch {
namespace {

TEST(ConfigReleaseRegressionRule, ReadsItsKeysAndItsOwnDefaults) {
  const Config config = LoadConfigFromString(
      "alerting:\n  rules:\n"
      "    - {name: release, kind: release_regression}\n"
      "    - name: canary\n      kind: release_regression\n      compare: pools\n"
      "      window: 10m\n      min_increase_points: 0.5\n      min_ratio: 1.5\n"
      "      min_requests: 500\n      confidence: 99\n",
      "p.yml", {});
  const std::vector<RuleConfig>& rules = config.alerting.rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].kind, RuleKind::kReleaseRegression);
  EXPECT_EQ(rules[0].compare, RegressionBaseline::kOtherReleases);
  EXPECT_EQ(rules[0].window, std::chrono::minutes(5));
  EXPECT_DOUBLE_EQ(rules[0].min_increase_points, 1);
  EXPECT_DOUBLE_EQ(rules[0].min_ratio, 2);
  EXPECT_EQ(rules[0].min_requests, 100u);
  EXPECT_DOUBLE_EQ(rules[0].confidence_percent, 99.9);
  EXPECT_EQ(rules[0].ResolveFor(), std::chrono::seconds(60));
  EXPECT_EQ(rules[0].ResolveRequests(), 200u);
  EXPECT_FALSE(rules[0].MutedInMaintenance());
  EXPECT_EQ(rules[1].compare, RegressionBaseline::kOtherPools);
  EXPECT_EQ(rules[1].window, std::chrono::minutes(10));
  EXPECT_DOUBLE_EQ(rules[1].min_increase_points, 0.5);
  EXPECT_DOUBLE_EQ(rules[1].min_ratio, 1.5);
  // min_requests is per side, not bounded by window_size (a count rule's key).
  EXPECT_EQ(rules[1].min_requests, 500u);
  EXPECT_EQ(rules[1].ResolveRequests(), 1000u);
}

TEST(ConfigReleaseRegressionRule, BadValuesNameFileLineAndKey) {
  ExpectErrorAt("alerting:\n  rules:\n    - {name: r, kind: release_regression, compare: hosts}\n",
                "3", "alerting.rules[0].compare", "expected releases or pools, got 'hosts'");
  ExpectErrorAt(
      "alerting:\n  rules:\n    - name: r\n      kind: release_regression\n      min_ratio: 0.5\n",
      "5", "alerting.rules[0].min_ratio", "between 1 and");
  ExpectErrorAt(
      "alerting:\n  rules:\n    - {name: r, kind: release_regression, min_increase_points: 101}\n",
      "3", "alerting.rules[0].min_increase_points", "between 0 and 100");
  ExpectErrorAt(
      "alerting:\n  rules:\n    - name: r\n      kind: release_regression\n"
      "      min_increase_points: 0\n      min_ratio: 1\n",
      "5", "alerting.rules[0].min_increase_points", "would call any difference a regression");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: e, kind: error_rate, min_ratio: 2}\n", "3",
                "alerting.rules[0].min_ratio", "only release_regression rules take min_ratio");
  ExpectErrorAt(
      "alerting:\n  rules:\n    - {name: l, kind: latency, threshold: 1s, compare: pools}\n", "3",
      "alerting.rules[0].compare", "only release_regression rules take compare");
  ExpectErrorAt("alerting:\n  rules:\n    - {name: r, kind: release_regression, window: 0s}\n", "3",
                "alerting.rules[0].window", "from 1s to 24h");
}

}  // namespace
}  // namespace poolwatch
