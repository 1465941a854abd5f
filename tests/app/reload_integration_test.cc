// A reload (SIGHUP) of a configuration that changes what only a restart can apply (the followed
// logs, their label and format, the syslog sockets, the metrics' caps, the state file, remote
// write) next to what a reload applies (the alerting section, the admin API flag, the log
// level): each of the former is named once in a warning, never with its value, and the latter
// take effect all the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/test_support.h"

namespace poolwatch::testing {
namespace {

using ::testing::HasSubstr;
constexpr auto kDeadline = std::chrono::seconds(20);

size_t Occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

TEST(Reload, NamesEachSettingThatNeedsARestartAndAppliesTheRest) {
  TempDir dir;
  WriteFile(dir / "access.log", "");
  const std::string log = (dir / "access.log").string();
  WriteFile(dir / "poolwatch.yml",
            "log:\n"
            "  path: " +
                log +
                "\n"
                "  path_label: {name: site, regex: '.*/(\\w+)\\.log'}\n"
                "web:\n"
                "  listen_address: 127.0.0.1:10090\n"
                "alerting:\n"
                "  active_pool: blue\n");
  Process poolwatch({POOLWATCH_BINARY, "--config.file", (dir / "poolwatch.yml").string(),
                     "--web.listen-address", "127.0.0.1:0"},
                    dir / "poolwatch.out");
  const int port = WaitForListeningPort(poolwatch);
  ASSERT_NE(port, 0) << poolwatch.Output();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto status = [&] { return nlohmann::json::parse(HttpGet(base + "/api/v1/status").body); };
  ASSERT_TRUE(WaitUntil([&] { return HttpGet(base + "/-/ready").status == 200; }, kDeadline));
  ASSERT_EQ(status()["pools"]["active"], "blue");
  ASSERT_EQ(status()["admin_api"], false);

  // The remote-write URL carries a password: the warning names the key only.
  WriteFile(dir / "poolwatch.yml",
            "log:\n"
            "  path: [" +
                log + ", " + (dir / "*.extra.log").string() +
                "]\n"
                "  path_label: {name: vhost, regex: '.*/(\\w+)\\.log'}\n"
                "  escape: json\n"
                "  syslog:\n"
                "    listen: udp://127.0.0.1:5514\n"
                "web:\n"
                "  listen_address: 127.0.0.1:10091\n"  // the flag still wins: no change
                "  enable_admin_api: true\n"
                "metrics:\n"
                "  max_pools: 5\n"
                "state:\n"
                "  path: " +
                (dir / "state.json").string() +
                "\n"
                "remote_write:\n"
                "  - url: http://pusher:s3cr3tPassw0rd@127.0.0.1:9/api/v1/write\n"
                "alerting:\n"
                "  active_pool: green\n"
                "log_level: debug\n");
  ASSERT_EQ(kill(poolwatch.pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitUntil(
      [&] { return poolwatch.Output().find("configuration reloaded") != std::string::npos; },
      kDeadline))
      << poolwatch.Output();

  const std::string output = poolwatch.Output();
  for (const char* key : {"log.path", "log.path_label", "log.escape", "log.syslog.listen",
                          "metrics.max_pools", "state.path", "remote_write"}) {
    EXPECT_EQ(Occurrences(output, std::string("level=warn msg=\"") + key +
                                      " changed: takes effect after a restart\""),
              1u)
        << key << "\n"
        << output;
  }
  EXPECT_EQ(output.find("web.listen_address changed"), std::string::npos) << output;
  EXPECT_EQ(output.find("s3cr3tPassw0rd"), std::string::npos) << output;
  EXPECT_EQ(output.find("listening for syslog"), std::string::npos) << "no socket was opened";

  // The rest is applied: the primary pool, the admin API, the log level.
  const nlohmann::json reloaded = status();
  EXPECT_EQ(reloaded["pools"]["active"], "green");
  EXPECT_EQ(reloaded["admin_api"], true);
  AppendFile(dir / "access.log", kBlueLogLine);  // blue serves while green is the primary
  ASSERT_TRUE(WaitUntil(
      [&] {
        return MetricValue(HttpGet(base + "/metrics").body, "poolwatch_alert_firing",
                           {{"rule", "failover"}}) == 1;
      },
      kDeadline))
      << poolwatch.Output();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return poolwatch.Output().find("level=debug msg=\"rule decision\" rule=failover") !=
               std::string::npos;
      },
      kDeadline))
      << poolwatch.Output();
  // Still the file and the label of the start: the old label name on the request metrics.
  EXPECT_EQ(MetricValue(HttpGet(base + "/metrics").body, "poolwatch_http_requests_total",
                        {{"site", "access"}}),
            1);
  ASSERT_EQ(poolwatch.Stop(), 0);

  // check-config reads the same file and names the inputs it configures.
  std::string checked;
  ASSERT_EQ(
      RunCommand({POOLWATCH_BINARY, "check-config", (dir / "poolwatch.yml").string()}, &checked), 0)
      << checked;
  EXPECT_THAT(checked, HasSubstr(": OK (2 rules, primary pool green, 2 log paths, syslog on 1 "
                                 "listener, remote write to 1 receiver)"))
      << checked;
}

}  // namespace
}  // namespace poolwatch::testing
