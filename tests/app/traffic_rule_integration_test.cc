// A traffic rule in poolwatch's YAML file, on logs written here. `poolwatch replay`: silence in
// the middle of a log pages when it reaches the window and resolves once requests have come back
// for a minute, printed in the JSON-lines schema; the end of a log is not silence. The daemon:
// with no line arriving, its ticks on the wall clock find the silence too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Two requests a second on `pool` for the seconds [from, to) after 07:00:00.
std::string Requests(int from, int to, const std::string& pool = "blue") {
  std::string out;
  for (int s = from; s < to; ++s) {
    for (int i = 0; i < 2; ++i) out += DefaultFormatLine(s, 200, pool) + "\n";
  }
  return out;
}

TEST(TrafficReplay, TenMinutesWithoutRequestsPageOnceAndResolveOnce) {
  TempDir dir;
  WriteFile(dir / "poolwatch.yml",
            "alerting:\n  rules:\n    - name: no_traffic\n      kind: traffic\n"
            "      window: 5m\n");
  // 07:00:00 to 07:29:59, nothing until 07:40:00, then half an hour more.
  WriteFile(dir / "access.log", Requests(0, 1800) + Requests(2400, 4200));
  ReplayRun run =
      Replay({"--config", (dir / "poolwatch.yml").string(), (dir / "access.log").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(run.notifications.size(), 2u) << run.output;

  const nlohmann::json& firing = run.notifications[0];
  EXPECT_EQ(firing["rule"], "no_traffic");
  EXPECT_EQ(firing["status"], "firing");
  EXPECT_EQ(firing["labels"], nlohmann::json::object());
  // The first whole second whose 5-minute window holds no request: 07:29:59 + 5m + 1s.
  EXPECT_EQ(firing["at"], "2026-11-26T07:35:00Z");
  EXPECT_EQ(firing["message"],
            "NO_TRAFFIC\nNo traffic for 5m\n• Window: 5m\n• Requests: 0 (minimum 1)\n"
            "• Last request: 2026-11-26T07:29:59Z (5m 1s ago)\n• Time: 2026-11-26T07:35:00Z\n"
            "• Action: Check that nginx is up and writing this log, then DNS and the load "
            "balancer in front of it\n");

  const nlohmann::json& resolved = run.notifications[1];
  EXPECT_EQ(resolved["rule"], "no_traffic");
  EXPECT_EQ(resolved["status"], "resolved");
  // Back at 07:40:00, seen by the evaluation at 07:40:01, then resolve_for (60 s) with 2 × 2
  // requests long since there.
  EXPECT_EQ(resolved["at"], "2026-11-26T07:41:01Z");
  const std::string message = resolved["message"];
  EXPECT_THAT(message, HasSubstr("NO_TRAFFIC RESOLVED\nTraffic is back\n"));
  EXPECT_THAT(message, HasSubstr("• Missing for: 10m 1s\n"));
  EXPECT_THAT(message, HasSubstr("• Back for: 1m 0s, 122 requests\n"));
  EXPECT_THAT(run.output, ::testing::Not(HasSubstr("still firing")));
}

TEST(TrafficReplay, APoolRuleLabelsItsAlertAndTheEndOfTheLogIsNotSilence) {
  TempDir dir;
  WriteFile(dir / "poolwatch.yml",
            "alerting:\n  rules:\n    - {name: primary_traffic, kind: traffic, pool: blue}\n"
            "    - {name: no_traffic, kind: traffic}\n");
  // Blue serves for 10 minutes, green for 20; then the log ends.
  WriteFile(dir / "access.log", Requests(0, 600, "blue") + Requests(600, 1800, "green"));
  ReplayRun run =
      Replay({"--config", (dir / "poolwatch.yml").string(), (dir / "access.log").string()});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(run.notifications.size(), 1u) << run.output;
  EXPECT_EQ(run.notifications[0]["rule"], "primary_traffic");
  EXPECT_EQ(run.notifications[0]["labels"], (nlohmann::json{{"pool", "blue"}}));
  EXPECT_EQ(run.notifications[0]["at"], "2026-11-26T07:15:00Z");
  EXPECT_THAT(run.notifications[0]["message"].get<std::string>(),
              HasSubstr("No traffic to pool blue for 5m\n• Pool: blue\n"));
  EXPECT_THAT(run.output, HasSubstr("still firing at the end of the log: "
                                    "primary_traffic{pool=blue}"));
}

// A line stamped now, as nginx writes $time_local.
std::string LineNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S +0000", &utc);
  return std::string("127.0.0.1 - - [") + stamp +
         "] \"GET /version HTTP/1.1\" 200 51 \"-\" \"curl/7.88.1\" pool=blue release=v1.0.0 "
         "upstream_status=200 upstream_addr=127.0.0.1:8081 request_time=0.012 "
         "upstream_response_time=0.010\n";
}

TEST(TrafficDaemon, TicksFindTheSilenceAndTheReturnWithNoLineToTriggerOn) {
  TempDir dir;
  WriteFile(dir / "poolwatch.yml",
            "alerting:\n  rules:\n"
            "    - {name: no_traffic, kind: traffic, window: 3s, resolve_for: 1s}\n");
  WriteFile(dir / "access.log", "");
  Process poolwatch(
      {POOLWATCH_BINARY, "--config.file", (dir / "poolwatch.yml").string(), "--log.path",
       (dir / "access.log").string(), "--web.listen-address", "127.0.0.1:0"},
      dir / "poolwatch.out");
  ASSERT_NE(WaitForListeningPort(poolwatch), 0) << poolwatch.Output();

  // Requests every half second for longer than the window: no page. (Pacing the traffic, not
  // waiting for a condition.)
  for (int i = 0; i < 10; ++i) {
    AppendFile(dir / "access.log", LineNow());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_THAT(poolwatch.Output(), ::testing::Not(HasSubstr("FIRING")));

  // Then nothing: the page comes from the ticks alone, once the window has no request.
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(
      WaitUntil([&] { return poolwatch.Output().find("FIRING no_traffic{}") != std::string::npos; },
                std::chrono::seconds(30)))
      << poolwatch.Output();
  EXPECT_GE(std::chrono::steady_clock::now() - stopped, std::chrono::seconds(2))
      << "a 3-second window, counted in whole seconds";
  EXPECT_THAT(poolwatch.Output(), HasSubstr("No traffic for 3s"));

  // Two requests: after resolve_for (1 s) it is over, again without a line after them.
  AppendFile(dir / "access.log", LineNow() + LineNow());
  ASSERT_TRUE(WaitUntil(
      [&] { return poolwatch.Output().find("RESOLVED no_traffic{}") != std::string::npos; },
      std::chrono::seconds(30)))
      << poolwatch.Output();
  EXPECT_THAT(poolwatch.Output(), HasSubstr("Traffic is back"));
}

}  // namespace
}  // namespace poolwatch::testing
