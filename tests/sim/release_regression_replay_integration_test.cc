// `poolwatch replay` with a release_regression rule, on a log of the simulator: a canary
// v1.1.0 on blue that fails at 3 % while v1.0.0 fails at 0.1 %, then is rolled back; and the
// JSON lines replay prints for it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/sim/replay_harness.h"
#include "tests/sim/scenarios.h"
#include "tests/support/test_support.h"

namespace poolwatch::sim {
namespace {

using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const char* const kConfig =
    "alerting:\n"
    "  rules:\n"
    "    - name: bad_release\n"
    "      kind: release_regression\n"
    "      window: 2m\n";

TEST(ReleaseRegressionReplay, ABadCanaryPagesWithBothRatesAndResolvesWhenRolledBack) {
  Scenario s;
  s.phases = {
      WithCanary(Traffic(Minutes(5), 20, 0.001), "v1.1.0", 0.5, 0.001),
      AsIncident(WithCanary(Traffic(Minutes(5), 20, 0.001), "v1.1.0", 0.5, 0.03)),
      Traffic(Minutes(5), 20, 0.001),  // rolled back: v1.0.0 alone
  };
  TempDir dir;
  WriteFile(dir / "poolwatch.yml", kConfig);
  const WrittenLog log = WriteScenarioLog(s, 21, (dir / "access.log").string());
  std::vector<std::string> args = {"--config", (dir / "poolwatch.yml").string()};
  args.insert(args.end(), log.paths.begin(), log.paths.end());
  const poolwatch::testing::ReplayRun run = poolwatch::testing::Replay(args);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(run.notifications.size(), 2u) << run.output;

  const nlohmann::json& firing = run.notifications[0];
  EXPECT_EQ(firing["rule"], "bad_release");
  EXPECT_EQ(firing["status"], "firing");
  EXPECT_EQ(firing["labels"], nlohmann::json({{"pool", "blue"}, {"release", "v1.1.0"}}));
  // Bad from 07:05:00; the 2-minute window holds enough of it within the incident.
  EXPECT_GT(firing["at"].get<std::string>(), "2026-11-26T07:05:00Z");
  EXPECT_LT(firing["at"].get<std::string>(), "2026-11-26T07:10:00Z");
  const std::string message = firing["message"];
  // "v1.1.0: 3.1 % of 1,512 requests vs v1.0.0: 0.1 % of 1,498", thousands separated.
  EXPECT_THAT(
      message,
      MatchesRegex("(.|\n)*BAD_RELEASE\nv1\\.1\\.0: [0-9]+\\.[0-9]+ % of [0-9,]+ requests vs "
                   "v1\\.0\\.0: [0-9.]+ % of [0-9,]+\n(.|\n)*"));
  EXPECT_THAT(message, HasSubstr("• Pool: blue\n"));
  EXPECT_THAT(message, HasSubstr("• Release: v1.1.0\n"));
  EXPECT_THAT(message, HasSubstr("• Window: 2m\n"));
  EXPECT_THAT(message, HasSubstr("roll back to v1.0.0"));

  const nlohmann::json& resolved = run.notifications[1];
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["labels"], firing["labels"]);
  // Rolled back at 07:10:00: no v1.1.0 request in the window from about 07:12:00 (to one
  // bucket of the window: 2 s for 2 minutes).
  EXPECT_GE(resolved["at"].get<std::string>(), "2026-11-26T07:11:56Z");
  EXPECT_LE(resolved["at"].get<std::string>(), "2026-11-26T07:12:02Z");
  EXPECT_THAT(resolved["message"].get<std::string>(),
              HasSubstr("v1.1.0 stopped serving on pool blue (no request in 2m)"));
  // The figures it was last judged on, not an empty window's.
  EXPECT_THAT(
      resolved["message"].get<std::string>(),
      MatchesRegex("(.|\n)*• 5xx: v1\\.1\\.0: [0-9.]+ % of [1-9][0-9,]* requests vs(.|\n)*"));
  EXPECT_THAT(message,
              HasSubstr("• Bound: above 1.0 % (baseline + 1 point, at least 2× baseline)"));
}

TEST(ReleaseRegressionReplay, EqualReleasesPrintNothing) {
  Scenario s;
  s.phases = {WithCanary(Traffic(Minutes(30), 20, 0.01), "v1.1.0", 0.3, 0.01)};
  TempDir dir;
  WriteFile(dir / "poolwatch.yml", kConfig);
  const WrittenLog log = WriteScenarioLog(s, 22, (dir / "access.log").string());
  std::vector<std::string> args = {"--config", (dir / "poolwatch.yml").string()};
  args.insert(args.end(), log.paths.begin(), log.paths.end());
  const poolwatch::testing::ReplayRun run = poolwatch::testing::Replay(args);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(run.notifications.empty()) << run.output;
}

}  // namespace
}  // namespace poolwatch::sim
