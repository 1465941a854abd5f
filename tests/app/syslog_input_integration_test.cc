// Real nginx sending its access log over syslog (access_log syslog:server=…) to poolwatch
// listening with log.syslog.listen, over UDP and over a unix datagram socket, with no log file
// followed: every request is counted and a failover pages as it does from the file; with
// log.syslog.labels, each sender's requests under its tag and host.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

using ::testing::HasSubstr;
constexpr auto kDeadline = std::chrono::seconds(20);

double Received(Stack& stack) {
  return stack.Metric("poolwatch_syslog_datagrams_total", {{"result", "received"}});
}

// nginx sent to poolwatch before it listened (its start-up probe): those datagrams are lost,
// and a UDP sender learns of it on its next send. Requests until poolwatch counts them.
double WarmUp(Stack& stack) {
  EXPECT_TRUE(WaitUntil(
      [&] {
        stack.Get("/version");
        return stack.Metric("poolwatch_http_requests_total") >= 3;
      },
      kDeadline, std::chrono::milliseconds(100)))
      << stack.poolwatch()->Output();
  double counted = -1;
  // Settled: no request in flight.
  EXPECT_TRUE(WaitUntil(
      [&] {
        const double now = stack.Metric("poolwatch_http_requests_total");
        const bool same = now == counted;
        counted = now;
        return same;
      },
      kDeadline, std::chrono::milliseconds(300)));
  return counted;
}

void ExpectEveryRequestCounted(Stack& stack, int requests) {
  const double before = WarmUp(stack);
  const double received_before = Received(stack);
  for (int i = 0; i < requests; ++i) ASSERT_GT(stack.Get("/version").status, 0);
  ASSERT_TRUE(
      WaitUntil([&] { return stack.Metric("poolwatch_http_requests_total") == before + requests; },
                kDeadline))
      << stack.Metric("poolwatch_http_requests_total") << " counted, expected " << before + requests
      << "\n"
      << stack.poolwatch()->Output()
      << "\nnginx: " << ReadFile(stack.dir() / "nginx/logs/error.log");
  const std::string metrics = stack.Metrics();
  EXPECT_EQ(Received(stack) - received_before, requests);
  EXPECT_EQ(MetricValue(metrics, "poolwatch_syslog_datagrams_total", {{"result", "malformed"}}), 0);
  EXPECT_EQ(MetricValue(metrics, "poolwatch_syslog_datagrams_total", {{"result", "dropped"}}), 0);
  EXPECT_EQ(MetricValue(metrics, "poolwatch_log_lines_total", {{"result", "malformed"}}), 0);
  EXPECT_EQ(MetricValue(metrics, "poolwatch_http_requests_total", {{"pool", "blue"}}),
            before + requests);
  // The file is still written by nginx, and poolwatch did not read it.
  EXPECT_EQ(MetricValue(metrics, "poolwatch_log_rotations_total"), 0);
}

// nginx's hostname as it sends it: gethostname(), lowercased.
std::string NginxHostName() {
  char name[256] = {};
  EXPECT_EQ(::gethostname(name, sizeof(name) - 1), 0);
  std::string host = name;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return host;
}

// The failover rule groups by the sending node (group_by: [host]): the page names it.
TEST(SyslogInput, NginxOverUdpWithItsHostNameEveryRequestCountedAndAFailoverPaged) {
  const int port = FreeUdpPort();
  StackOptions options;
  options.extra_access_logs = {"syslog:server=127.0.0.1:" + std::to_string(port) + ",tag=shop"};
  options.poolwatch_follows_file = false;
  options.poolwatch_config_yaml =
      "log:\n  syslog:\n    listen: udp://127.0.0.1:" + std::to_string(port) +
      "\n    labels: [host]\n"
      "alerting:\n  rules:\n"
      "    - {name: failover, kind: failover, group_by: [host]}\n";
  Stack stack(options);
  EXPECT_THAT(stack.poolwatch()->Output(),
              HasSubstr("address=udp://127.0.0.1:" + std::to_string(port)));
  ExpectEveryRequestCounted(stack, 100);

  stack.StartChaos("blue", "error");
  for (int i = 0; i < 20; ++i) ASSERT_GT(stack.Get("/version").status, 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const std::string& text : stack.SlackTexts()) {
          if (text.find("FAILOVER") != std::string::npos &&
              text.find("RESOLVED") == std::string::npos &&
              text.find("[host " + NginxHostName() + "]") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      kDeadline))
      << stack.poolwatch()->Output();
  EXPECT_EQ(stack.Metric("poolwatch_alert_firing", {{"rule", "failover"}}), 1);
  EXPECT_EQ(stack.Metric("poolwatch_http_requests_total", {{"host", NginxHostName()}}),
            stack.Metric("poolwatch_http_requests_total"));
}

TEST(SyslogInput, NginxOverAUnixDatagramSocketWithoutHostNameFromTwoWorkers) {
  // Not under the stack's directory: the path must be known before nginx is rendered. Mode
  // 755: nginx started as root writes from workers running as nobody.
  TempDir sockets;
  std::filesystem::permissions(
      sockets.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                          std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                          std::filesystem::perms::others_exec);
  const std::string path = (sockets / "syslog.sock").string();
  StackOptions options;
  options.slack = false;
  options.nginx_workers = 2;
  options.extra_access_logs = {"syslog:server=unix:" + path + ",tag=shop_blue,nohostname"};
  options.poolwatch_follows_file = false;
  options.poolwatch_config_yaml = "log:\n  syslog:\n    listen:\n      - unixgram://" + path + "\n";
  Stack stack(options);
  EXPECT_THAT(stack.poolwatch()->Output(), HasSubstr("address=unixgram://" + path));
  ExpectEveryRequestCounted(stack, 100);
  stack.StopPoolwatch();
  EXPECT_FALSE(std::filesystem::exists(path)) << "the socket file is removed at exit";
}

// The lines nginx wrote to its access log file: the requests it served.
double FileLines(Stack& stack) {
  std::ifstream in(stack.access_log());
  return static_cast<double>(
      std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
}

TEST(SyslogInput, TwoDirectivesToOnePoolwatchAreCountedUnderTheirTagAndHost) {
  const int port = FreeUdpPort();
  const std::string server = "syslog:server=127.0.0.1:" + std::to_string(port);
  StackOptions options;
  options.slack = false;
  // Every request is logged three times: to the file, and over syslog under each tag, once
  // with the hostname and once without.
  options.extra_access_logs = {server + ",tag=shop", server + ",tag=api,nohostname"};
  options.poolwatch_follows_file = false;
  options.poolwatch_config_yaml =
      "log:\n  syslog:\n    listen: udp://127.0.0.1:" + std::to_string(port) +
      "\n    labels: [syslog_tag, host]\n";
  Stack stack(options);
  const std::map<std::string, std::string> shop = {{"syslog_tag", "shop"},
                                                   {"host", NginxHostName()}};
  const std::map<std::string, std::string> api = {{"syslog_tag", "api"}, {"host", "none"}};
  auto counted = [&](const std::map<std::string, std::string>& sender) {
    return std::max(0.0, stack.Metric("poolwatch_http_requests_total", sender));
  };
  // nginx's first datagrams may go before poolwatch listens: until both senders are heard.
  ASSERT_TRUE(WaitUntil(
      [&] {
        stack.Get("/version");
        return counted(shop) >= 1 && counted(api) >= 1;
      },
      kDeadline, std::chrono::milliseconds(100)))
      << stack.poolwatch()->Output();
  // Settled: what nginx has written is what poolwatch has counted from each sender.
  double served = 0, shop_before = 0, api_before = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        const double file = FileLines(stack), s = counted(shop), a = counted(api);
        const bool same = file == served && s == shop_before && a == api_before;
        served = file;
        shop_before = s;
        api_before = a;
        return same;
      },
      kDeadline, std::chrono::milliseconds(300)));

  const int requests = 100;
  for (int i = 0; i < requests; ++i) ASSERT_GT(stack.Get("/version").status, 0);
  double served_now = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        served_now = FileLines(stack) - served;
        return served_now >= requests && counted(shop) - shop_before == served_now &&
               counted(api) - api_before == served_now;
      },
      kDeadline))
      << "nginx served " << served_now << ", shop counted " << counted(shop) - shop_before
      << ", api counted " << counted(api) - api_before << "\n"
      << stack.Metrics() << stack.poolwatch()->Output();
  const std::string metrics = stack.Metrics();
  EXPECT_EQ(MetricValue(metrics, "poolwatch_syslog_datagrams_total", {{"result", "malformed"}}), 0);
  EXPECT_EQ(MetricValue(metrics, "poolwatch_syslog_datagrams_total", {{"result", "dropped"}}), 0);
  // Every series has both labels; no datagram came without a tag or from another host.
  EXPECT_EQ(MetricValue(metrics, "poolwatch_http_requests_total"), counted(shop) + counted(api));
  EXPECT_THAT(metrics, HasSubstr("poolwatch_upstream_attempts_total{host=\"none\",pool=\"blue\","
                                 "status=\"200\",syslog_tag=\"api\","));
}

}  // namespace
}  // namespace poolwatch::testing
