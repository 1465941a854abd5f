// `poolwatch replay` on checked-in logs (tests/testdata/make_logs.py): the notifications it
// prints are exactly what the daemon would have sent, with the clock taken from the log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using ::poolwatch::testing::DefaultFormatLine;
using ::testing::HasSubstr;

std::string Log(const std::string& name) {
  return std::string(POOLWATCH_SOURCE_DIR) + "/tests/testdata/replay/" + name;
}

std::vector<std::string> Sequence(const ReplayRun& run) {
  std::vector<std::string> out;
  for (const auto& n : run.notifications) {
    out.push_back(n["rule"].get<std::string>() + ":" + n["status"].get<std::string>());
  }
  return out;
}

TEST(Replay, SteadyTrafficOnThePrimarySendsNothing) {
  ReplayRun run = Replay({Log("steady.log")});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(run.notifications.empty()) << run.output;
  EXPECT_THAT(run.output, HasSubstr("600 parsed"));
}

TEST(Replay, OneFailoverGivesOneAlertAndItsRecovery) {
  // Blue is back for the last 20 s of the log: resolved after 10 s of it (and 10 requests).
  ReplayRun run = Replay({Log("failover.log")}, {{"POOLWATCH_RESOLVE_FOR_SEC", "10"}});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(Sequence(run), ::testing::ElementsAre("failover:firing", "failover:resolved"));
  const auto& firing = run.notifications[0];
  EXPECT_EQ(firing["at"], "2026-11-26T07:00:10Z");  // the 101st line, 100 ms apart
  EXPECT_EQ(firing["labels"]["pool"], "blue");
  EXPECT_THAT(firing["message"].get<std::string>(), HasSubstr("Previous: blue"));
  EXPECT_THAT(firing["message"].get<std::string>(), HasSubstr("Current: green"));
  EXPECT_THAT(firing["message"].get<std::string>(), HasSubstr("Check health of blue pool"));
  EXPECT_EQ(run.notifications[1]["at"], "2026-11-26T07:00:30Z");
  EXPECT_THAT(run.notifications[1]["message"].get<std::string>(),
              HasSubstr("Back for: 10s, 100 requests"));
}

TEST(Replay, AFailoverResolvesOnlyOnceThePrimaryHasStayedLongEnough) {
  // The default resolve_for is 30 s; blue has been back for only 20 s when the log ends.
  ReplayRun run = Replay({Log("failover.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(Sequence(run), ::testing::ElementsAre("failover:firing"));
  EXPECT_THAT(run.output, HasSubstr("still firing at the end of the log: failover{pool=blue}"));
}

TEST(Replay, BothPoolsFailingFiresTheErrorRateAndResolvesIt) {
  ReplayRun run = Replay({Log("both_failing.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto seq = Sequence(run);
  EXPECT_EQ(std::count(seq.begin(), seq.end(), "error_rate:firing"), 1);
  EXPECT_EQ(std::count(seq.begin(), seq.end(), "error_rate:resolved"), 1);
  for (const auto& n : run.notifications) {
    if (n["rule"] == "error_rate" && n["status"] == "firing") {
      std::string message = n["message"];
      EXPECT_THAT(message, HasSubstr("threshold: 2%"));
      EXPECT_THAT(message, HasSubstr("5xx Errors: "));
      EXPECT_THAT(message, HasSubstr("Current Pool: green"));
    }
  }
}

TEST(Replay, FlappingIsOneIncidentWithOneMessage) {
  // 150 failovers in 10 minutes of log: blue never stays back for resolve_for (30 s), so it is
  // one incident, paged once, and still going on when the log ends.
  ReplayRun run = Replay({Log("flapping.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(Sequence(run), ::testing::ElementsAre("failover:firing")) << run.output;
  EXPECT_EQ(run.notifications[0]["suppressed"], 0);
  EXPECT_THAT(run.output, HasSubstr("still firing at the end of the log: failover{pool=blue}"));
}

TEST(Replay, FlappingResolvingAtOnceIsBoundedByTheCooldown) {
  // The seed's behaviour (POOLWATCH_RESOLVE_FOR_SEC=0: back on the primary resolves at once):
  // the 300 s cooldown allows one firing per window and counts what it swallowed.
  ReplayRun run = Replay({Log("flapping.log")}, {{"POOLWATCH_RESOLVE_FOR_SEC", "0"}});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto seq = Sequence(run);
  EXPECT_LE(seq.size(), 6u) << run.output;
  EXPECT_GE(std::count(seq.begin(), seq.end(), "failover:firing"), 1);
  int suppressed = 0;
  for (const auto& n : run.notifications) suppressed += n["suppressed"].get<int>();
  EXPECT_GT(suppressed, 0) << "the next message must say how many were swallowed";
}

TEST(Replay, MaintenanceMutesFailoverButNotTheErrorRate) {
  ReplayRun run = Replay({Log("both_failing.log")}, {{"MAINTENANCE_MODE", "true"}});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(Sequence(run), ::testing::ElementsAre("error_rate:firing", "error_rate:resolved"));
}

TEST(Replay, SeedVariablesTuneSensitivity) {
  // A 60-request burst in a 200-request window is 30%: a 50% threshold never fires.
  ReplayRun run = Replay({Log("both_failing.log")}, {{"ERROR_RATE_THRESHOLD", "50"}});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const auto& n : run.notifications) EXPECT_NE(n["rule"], "error_rate");
}

TEST(Replay, WritesTheFinalExpositionWhenAsked) {
  TempDir dir;
  ReplayRun run = Replay({"--metrics-out", (dir / "out.prom").string(), Log("failover.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::string exposition = ReadFile(dir / "out.prom");
  EXPECT_EQ(MetricValue(exposition, "poolwatch_http_requests_total"), 400);
  EXPECT_EQ(MetricValue(exposition, "poolwatch_http_requests_total", {{"pool", "green"}}), 100);
  EXPECT_EQ(MetricValue(exposition, "poolwatch_upstream_attempts_total",
                        {{"pool", "blue"}, {"status", "500"}}),
            1);
}

// The two stories, in logs the traffic simulator wrote (tests/testdata/replay/
// sim_logs.txt says how; the incident times below are its truth). The seed's alerting told
// both wrongly, four messages each; each log holds one real incident.
TEST(Replay, OneErrorAmongTheFirstRequestsIsNoEvidenceOnlyTheRealIncidentPages) {
  // One 5xx among the first 21 requests; the real incident is 07:06:04-07:08:04.
  ReplayRun run = Replay({Log("thin_evidence.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_THAT(Sequence(run), ::testing::ElementsAre("error_rate:firing", "error_rate:resolved"))
      << run.output;
  EXPECT_GE(run.notifications[0]["at"], "2026-11-26T07:06:04Z");
  EXPECT_LE(run.notifications[0]["at"], "2026-11-26T07:08:04Z");
  EXPECT_GE(run.notifications[1]["at"], "2026-11-26T07:08:04Z");
}

TEST(Replay, AWindowDippingByChanceInTheMiddleOfAnIncidentIsNoAllClear) {
  // 5 % of the POSTs (half the requests) fail from 07:02:00 to 07:07:00.
  ReplayRun run = Replay({Log("false_all_clear.log")});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_THAT(Sequence(run), ::testing::ElementsAre("error_rate:firing", "error_rate:resolved"))
      << run.output;
  EXPECT_GE(run.notifications[0]["at"], "2026-11-26T07:02:00Z");
  EXPECT_LE(run.notifications[0]["at"], "2026-11-26T07:07:00Z");
  EXPECT_GE(run.notifications[1]["at"], "2026-11-26T07:07:00Z");
}

// A default-format line at 07:00:00 plus `seconds`, as it sits in a log file.
std::string LogLine(int seconds, int status, const std::string& pool = "blue") {
  return DefaultFormatLine(seconds, status, pool).append("\n");
}

TEST(Replay, ABurstAgingOutDuringAGapResolvesWhenTheDaemonWouldHave) {
  TempDir dir;
  std::string log;
  for (int i = 0; i < 100; ++i) log += LogLine(i / 10, i % 3 == 0 ? 500 : 200);
  log += LogLine(3 * 3600, 200);  // the next line comes three hours later
  WriteFile(dir / "gap.log", log);
  ReplayRun run = Replay({(dir / "gap.log").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_THAT(Sequence(run), ::testing::ElementsAre("error_rate:firing", "error_rate:resolved"));
  // max_age is 300 s: the burst has left the window a little after 07:05:00. No traffic brings
  // the 400 clear requests resolution wants, so it waits two max_ages more: about 07:15:00,
  // not at 10:00.
  const std::string resolved_at = run.notifications[1]["at"];
  EXPECT_GE(resolved_at, "2026-11-26T07:15:00Z");
  EXPECT_LE(resolved_at, "2026-11-26T07:15:10Z");
  EXPECT_THAT(run.output, ::testing::Not(HasSubstr("still firing")));
}

TEST(Replay, AlertsStillFiringAtTheEndAreListedNotResolved) {
  TempDir dir;
  std::string log;
  for (int i = 0; i < 5; ++i) log += LogLine(i, 200, "blue");
  for (int i = 5; i < 10; ++i) log += LogLine(i, 200, "green");
  WriteFile(dir / "out.log", log);
  ReplayRun run = Replay({(dir / "out.log").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(Sequence(run), ::testing::ElementsAre("failover:firing"));
  EXPECT_THAT(run.output, HasSubstr("still firing at the end of the log: failover{pool=blue} "
                                    "since 2026-11-26T07:00:05Z"));
}

TEST(Replay, LogsInAnotherFormatFailWithAClearMessage) {
  TempDir dir;
  WriteFile(dir / "json.log",
            "{\"time\": \"2026-11-26T07:00:00Z\", \"status\": 200}\n"
            "{\"time\": \"2026-11-26T07:00:01Z\", \"status\": 200}\n");
  ReplayRun run = Replay({(dir / "json.log").string()});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("no line could be parsed"));
  EXPECT_THAT(run.output, HasSubstr("log.format"));
}

TEST(Replay, UnreadableInputFailsWithAClearMessage) {
  ReplayRun run = Replay({"/nonexistent/access.log"});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("cannot read /nonexistent/access.log"));
}

TEST(Replay, BadConfigNamesFileLineAndKey) {
  TempDir dir;
  WriteFile(dir / "bad.yml", "alerting:\n  active_pool: blue\n  colour: red\n");
  ReplayRun run = Replay({"--config", (dir / "bad.yml").string(), Log("steady.log")});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.output, HasSubstr("bad.yml:3"));
  EXPECT_THAT(run.output, HasSubstr("alerting.colour"));
}

}  // namespace
}  // namespace poolwatch::testing
