// A rule's group_by (issue 17): it names source labels (log.path_label's today), and every
// mistake names file, line and key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/config.h"
#include "tests/config/config_error_of.h"

namespace poolwatch {
namespace {

using ::poolwatch::testing::ConfigErrorOf;
using ::testing::HasSubstr;

const std::string kWithSite =
    "log:\n"
    "  path: /var/log/nginx/*.access.log\n"
    "  path_label: {name: site, regex: '/var/log/nginx/(.+)\\.access\\.log'}\n";

void ExpectErrorAt(const std::string& yaml, const std::string& line, const std::string& problem) {
  const std::string error = ConfigErrorOf(yaml);
  EXPECT_THAT(error, HasSubstr("poolwatch.yml:" + line + ": alerting.rules[0].group_by: ")) << yaml;
  EXPECT_THAT(error, HasSubstr(problem)) << yaml;
}

TEST(ConfigGroupBy, ReadsTheNamesAndWhereTheirValuesAre) {
  const Config config = LoadConfigFromString(
      kWithSite +
          "alerting:\n  rules:\n    - {name: e, kind: error_rate, group_by: [site]}\n"
          "    - {name: f, kind: failover}\n",
      "poolwatch.yml", {});
  ASSERT_EQ(config.alerting.rules.size(), 2u);
  ASSERT_EQ(config.alerting.rules[0].group_by.size(), 1u);
  EXPECT_EQ(config.alerting.rules[0].group_by[0].name, "site");
  EXPECT_EQ(config.alerting.rules[0].group_by[0].value_index, 0u);
  EXPECT_TRUE(config.alerting.rules[1].group_by.empty());
  EXPECT_EQ(
      ConfigErrorOf(kWithSite +
                    "alerting:\n  rules:\n    - {name: e, kind: error_rate, group_by: [site]}\n"),
      "");
}

TEST(ConfigGroupBy, TheLogSectionMayComeAfterTheRules) {
  const Config config = LoadConfigFromString(
      "alerting:\n  rules:\n    - {name: s, kind: slo, objective: 99.9, group_by: [site]}\n" +
          kWithSite,
      "poolwatch.yml", {});
  ASSERT_EQ(config.alerting.rules[0].group_by.size(), 1u);
}

TEST(ConfigGroupBy, EveryKindTakesIt) {
  for (const char* rule : {"{name: r, kind: failover, group_by: [site]}",
                           "{name: r, kind: error_rate, group_by: [site]}",
                           "{name: r, kind: traffic, group_by: [site]}",
                           "{name: r, kind: latency, threshold: 1s, group_by: [site]}",
                           "{name: r, kind: release_regression, group_by: [site]}",
                           "{name: r, kind: slo, objective: 99.9, group_by: [site]}"}) {
    EXPECT_EQ(ConfigErrorOf(kWithSite + "alerting:\n  rules:\n    - " + rule + "\n"), "") << rule;
  }
}

TEST(ConfigGroupBy, MistakesNameFileLineAndKey) {
  const std::string rules = "alerting:\n  rules:\n    - name: e\n      kind: error_rate\n";
  // Without log.path_label there is nothing to group by: say what to set.
  ExpectErrorAt(rules + "      group_by: [site]\n", "5", "log.path_label");
  ExpectErrorAt(rules + "      group_by: [site]\n", "5", "'site' is not a source label");
  // A name that is not the label's: say which names exist.
  ExpectErrorAt(kWithSite + rules + "      group_by:\n        - host\n", "9",
                "'host' is not a source label (known: site)");
  ExpectErrorAt(kWithSite + rules + "      group_by: site\n", "8", "expected a list");
  ExpectErrorAt(kWithSite + rules + "      group_by: []\n", "8", "expected a list");
  ExpectErrorAt(kWithSite + rules + "      group_by: [site, site]\n", "8", "listed twice");
  ExpectErrorAt(kWithSite + rules + "      group_by: ['']\n", "8", "got ''");
}

}  // namespace
}  // namespace poolwatch
