// The daemon reading a backlog (a slow start, a restart with a state file): lines read in one
// large batch are evaluated with the log's time, as replay does, so both send the same alerts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

// 1,000 requests in one log second ten minutes ago (older than max_age), with a 30-error burst
// in the middle: a 200-request window takes it in and pushes it out within one read.
std::string BacklogWithABurst() {
  const std::time_t when = std::time(nullptr) - 600;
  std::tm tm{};
  gmtime_r(&when, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "%d/%b/%Y:%H:%M:%S +0000", &tm);
  std::string log;
  for (int i = 0; i < 1500; ++i) {
    const std::string status = i >= 500 && i < 530 ? "500" : "200";
    log.append("127.0.0.1 - - [")
        .append(stamp)
        .append("] \"GET /version HTTP/1.1\" ")
        .append(status)
        .append(" 51 \"-\" \"curl/7.88.1\" pool=blue release=v1.0.0 upstream_status=")
        .append(status)
        .append(" upstream_addr=127.0.0.1:8081 request_time=0.012 upstream_response_time=0.010\n");
  }
  return log;
}

// The whole log is one second: resolution needs the requests of a clear stretch (400 after the
// burst has left the window), not its time.
const std::map<std::string, std::string> kResolveInTheSameSecond = {
    {"SLACK_WEBHOOK_URL", ""}, {"POOLWATCH_RESOLVE_FOR_SEC", "0"}};

TEST(Backlog, ABurstInsideOneReadIsAlertedAsReplayWouldHave) {
  TempDir dir;
  WriteFile(dir / "access.log", BacklogWithABurst());
  Process poolwatch({POOLWATCH_BINARY, "--log.path", (dir / "access.log").string(),
                     "--log.start-at", "beginning", "--web.listen-address", "127.0.0.1:0"},
                    dir / "poolwatch.out", kResolveInTheSameSecond);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return poolwatch.Output().find("status=resolved key=error_rate{}") != std::string::npos;
      },
      seconds(20)))
      << poolwatch.Output();
  EXPECT_THAT(poolwatch.Output(), HasSubstr("status=firing key=error_rate{}"));

  std::string replayed;
  ASSERT_EQ(RunCommand({POOLWATCH_BINARY, "replay", (dir / "access.log").string()}, &replayed,
                       kResolveInTheSameSecond),
            0)
      << replayed;
  const std::string rule = "\"rule\":\"error_rate\",\"severity\":\"critical\",";
  EXPECT_THAT(replayed, HasSubstr(rule + "\"status\":\"firing\""));
  EXPECT_THAT(replayed, HasSubstr(rule + "\"status\":\"resolved\""));
  EXPECT_THAT(replayed, HasSubstr("2 notification(s)"));
}

}  // namespace
}  // namespace poolwatch::testing
