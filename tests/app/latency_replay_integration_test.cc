// `poolwatch replay` with a latency rule in its configuration: a log whose primary gets slow for
// two minutes, and the JSON lines replay prints for it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A default-format line at 07:00:00 plus `seconds`, answered by blue's `address` in `took`
// seconds (request and upstream time alike), as it sits in a log file.
std::string TimedLine(int seconds, double took, const std::string& address = "127.0.0.1:8081") {
  std::string line = DefaultFormatLine(seconds, 200, "blue");
  const std::string fixed = "upstream_addr=127.0.0.1:8081 request_time=0.012";
  char times[96];
  std::snprintf(times, sizeof(times), "request_time=%.3f upstream_response_time=%.3f", took, took);
  line.replace(line.find(fixed), std::string::npos, "upstream_addr=" + address + " " + times);
  return line.append("\n");
}

const char* const kConfig =
    "alerting:\n"
    "  rules:\n"
    "    - name: slow_primary\n"
    "      kind: latency\n"
    "      quantile: 0.99\n"
    "      threshold: 500ms\n"
    "      cooldown: 60s\n";

// 10 requests a second on blue: a minute fast with two 5 s outliers (not a p99), two minutes
// with every fifth request at 900 ms (one at 1.2 s from another server), three minutes fast.
std::string SlowPrimaryLog() {
  std::string log;
  for (int i = 0; i < 600; ++i) log += TimedLine(i / 10, i == 200 || i == 400 ? 5.0 : 0.012);
  for (int i = 600; i < 1800; ++i) {
    if (i == 1000) {
      log += TimedLine(i / 10, 1.2, "10.0.0.9:8081");
    } else {
      log += TimedLine(i / 10, i % 5 == 0 ? 0.9 : 0.012);
    }
  }
  for (int i = 1800; i < 3600; ++i) log += TimedLine(i / 10, 0.012);
  return log;
}

TEST(LatencyReplay, ASlowPrimaryPagesOnceAndResolvesOnceItHasStayedFast) {
  TempDir dir;
  WriteFile(dir / "poolwatch.yml", kConfig);
  WriteFile(dir / "access.log", SlowPrimaryLog());
  const ReplayRun run =
      Replay({"--config", (dir / "poolwatch.yml").string(), (dir / "access.log").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(run.notifications.size(), 2u) << run.output;

  const nlohmann::json& firing = run.notifications[0];
  EXPECT_EQ(firing["rule"], "slow_primary");
  EXPECT_EQ(firing["status"], "firing");
  EXPECT_EQ(firing["labels"], nlohmann::json({{"pool", "blue"}}));
  // Slow from 07:01:00, every fifth request: the third slow one is the 11th request, at 07:01:01;
  // replay judges at each log second.
  EXPECT_GE(firing["at"].get<std::string>(), "2026-11-26T07:01:01Z");
  EXPECT_LE(firing["at"].get<std::string>(), "2026-11-26T07:01:03Z");
  const std::string message = firing["message"];
  EXPECT_THAT(message, HasSubstr("SLOW_PRIMARY\np99 latency above 500ms on pool blue\n"));
  EXPECT_THAT(message, HasSubstr("• p99: 900ms (threshold: 500ms)\n"));
  EXPECT_THAT(message, HasSubstr("• Window: 200 requests, "));
  EXPECT_THAT(message, HasSubstr("• Current Pool: blue\n"));
  EXPECT_THAT(message, HasSubstr("consider switching pools"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("5s from"))) << "the outliers left the window";

  const nlohmann::json& resolved = run.notifications[1];
  EXPECT_EQ(resolved["rule"], "slow_primary");
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["labels"], nlohmann::json({{"pool", "blue"}}));
  // Fast from 07:03:00; the window holds at most 2 slow requests (p99 <= 450 ms) from about
  // 07:03:19, then 60 s and 400 requests: about 07:04:19.
  EXPECT_GE(resolved["at"].get<std::string>(), "2026-11-26T07:04:15Z");
  EXPECT_LE(resolved["at"].get<std::string>(), "2026-11-26T07:04:25Z");
  EXPECT_THAT(resolved["message"].get<std::string>(),
              HasSubstr("SLOW_PRIMARY RESOLVED\np99 latency is back to normal on pool blue\n"));
  EXPECT_THAT(resolved["message"].get<std::string>(), HasSubstr("at or below 450ms"));
}

TEST(LatencyReplay, TheSlowestUpstreamAddressIsInTheMessage) {
  TempDir dir;
  // Slow from the start: the first judgement (a thin window) pages, with the 1.2 s request in it.
  std::string log;
  for (int i = 0; i < 60; ++i) {
    log +=
        i == 3 ? TimedLine(0, 1.2, "10.0.0.9:8081") : TimedLine(i / 10, i % 5 == 0 ? 0.9 : 0.012);
  }
  WriteFile(dir / "poolwatch.yml", kConfig);
  WriteFile(dir / "access.log", log);
  const ReplayRun run =
      Replay({"--config", (dir / "poolwatch.yml").string(), (dir / "access.log").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_GE(run.notifications.size(), 1u) << run.output;
  EXPECT_THAT(run.notifications[0]["message"].get<std::string>(),
              HasSubstr("• Slowest: 1.2s from 10.0.0.9:8081\n"));
  EXPECT_THAT(run.output, HasSubstr("still firing at the end of the log: slow_primary{pool=blue}"));
}

TEST(LatencyReplay, ALatencyRuleWithoutThresholdNamesFileLineAndKey) {
  TempDir dir;
  WriteFile(dir / "bad.yml", "alerting:\n  rules:\n    - name: slow\n      kind: latency\n");
  WriteFile(dir / "access.log", TimedLine(0, 0.012));
  const ReplayRun run =
      Replay({"--config", (dir / "bad.yml").string(), (dir / "access.log").string()});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("bad.yml:3: alerting.rules[0].threshold: a latency rule "
                                    "needs a threshold"));
}

}  // namespace
}  // namespace poolwatch::testing
