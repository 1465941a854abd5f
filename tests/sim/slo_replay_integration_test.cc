// `poolwatch replay` with an slo rule, on a log the traffic simulator wrote: seven hours of
// clean traffic, ten minutes of total failure, an hour and a half of recovery. Replay prints the
// page, its all-clear and the ticket that follows it in the JSON-lines schema.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/sim/replay_harness.h"
#include "tests/sim/scenarios.h"
#include "tests/support/test_support.h"

namespace poolwatch::sim {
namespace {

using ::poolwatch::testing::Replay;
using ::poolwatch::testing::TempDir;
using ::poolwatch::testing::WriteFile;
using ::testing::HasSubstr;
using Hours = std::chrono::hours;

TEST(SloReplay, AnOutagePagesOnceResolvesAfterTheShortWindowsAndLeavesATicket) {
  Scenario s;
  s.phases = {Traffic(Hours(7), 2, 0), AsIncident(Traffic(Minutes(10), 2, 1)),
              Traffic(Minutes(90), 2, 0)};
  TempDir dir;
  const WrittenLog log = WriteScenarioLog(s, 21, (dir / "access.log").string());
  WriteFile(dir / "poolwatch.yml",
            "alerting:\n  rules:\n    - name: checkout_slo\n      kind: slo\n"
            "      objective: 99.9\n      ticket_severity: warning\n");
  std::vector<std::string> args = {"--config", (dir / "poolwatch.yml").string()};
  args.insert(args.end(), log.paths.begin(), log.paths.end());
  const poolwatch::testing::ReplayRun run = Replay(args);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(run.notifications.size(), 3u) << run.output;

  // 07:00 + 7 h: the outage starts at 14:00:00; 14.4x over the hour after 51.8 s of it.
  const nlohmann::json& page = run.notifications[0];
  EXPECT_EQ(page["rule"], "checkout_slo");
  EXPECT_EQ(page["status"], "firing");
  EXPECT_EQ(page["labels"], (nlohmann::json{{"urgency", "page"}}));
  EXPECT_GE(page["at"].get<std::string>(), "2026-11-26T14:00:45Z");
  EXPECT_LE(page["at"].get<std::string>(), "2026-11-26T14:01:00Z");
  const std::string message = page["message"];
  EXPECT_THAT(message, HasSubstr("CHECKOUT_SLO\nError budget burning fast (page): 99.9% "
                                 "availability (no 5xx), budget over 3d\n"));
  EXPECT_THAT(message, HasSubstr("• Burn rate: 1h 1"));
  EXPECT_THAT(message, HasSubstr("(above 14.4x)"));
  EXPECT_THAT(message, HasSubstr("• Error budget left: "));
  EXPECT_THAT(message, HasSubstr("• Exhausted in: "));
  EXPECT_THAT(message, HasSubstr("• Requests: "));

  // Over at 14:10:00: the 6h/30m entry burns above 6x until the outage leaves the 30 minutes
  // (about 14:39:50), then 5 minutes clear.
  const nlohmann::json& resolved = run.notifications[1];
  EXPECT_EQ(resolved["status"], "resolved");
  EXPECT_EQ(resolved["labels"], (nlohmann::json{{"urgency", "page"}}));
  EXPECT_GE(resolved["at"].get<std::string>(), "2026-11-26T14:44:30Z");
  EXPECT_LE(resolved["at"].get<std::string>(), "2026-11-26T14:45:10Z");
  EXPECT_THAT(resolved["message"].get<std::string>(),
              HasSubstr("CHECKOUT_SLO RESOLVED\nError budget burn back below the page rates"));

  // 1,200 bad requests against an allowance of 0.1 % of some 52,000: the ticket, held while
  // the page was on, follows it and is still open when the log ends.
  const nlohmann::json& ticket = run.notifications[2];
  EXPECT_EQ(ticket["status"], "firing");
  EXPECT_EQ(ticket["labels"], (nlohmann::json{{"urgency", "ticket"}}));
  EXPECT_EQ(ticket["at"], resolved["at"]);
  EXPECT_THAT(ticket["message"].get<std::string>(), HasSubstr("Error budget burning (ticket): "));
  EXPECT_THAT(ticket["message"].get<std::string>(), HasSubstr("• Exhausted in: already exhausted"));
  EXPECT_THAT(run.output,
              HasSubstr("still firing at the end of the log: checkout_slo{urgency=ticket}"));
}

}  // namespace
}  // namespace poolwatch::sim
