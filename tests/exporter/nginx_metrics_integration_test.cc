// Real nginx (rendered from nginx/nginx.conf.template, two workers) in front of two demo apps,
// one made to fail, and poolwatch following nginx's log: every counter equals what was actually
// sent, and the attempts on each upstream equal what that upstream says it answered.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

constexpr auto kDeadline = std::chrono::seconds(15);

TEST(NginxMetrics, CountersEqualWhatNginxServedAttemptsIncluded) {
  StackOptions options;
  options.slack = false;
  options.nginx_workers = 2;
  Stack stack(options);
  // The apps have answered the stack's readiness probes already: count from here.
  const std::map<std::string, std::map<std::string, int>> before = {
      {"blue", stack.PoolResponses("blue")}, {"green", stack.PoolResponses("green")}};

  std::map<std::string, int> served_by;  // X-App-Pool the client saw
  std::map<int, int> statuses;
  auto send = [&](int n) {
    for (int i = 0; i < n; ++i) {
      HttpResponse r = stack.Get("/version");
      ASSERT_GT(r.status, 0) << r.error;
      ++served_by[r.headers["x-app-pool"]];
      ++statuses[static_cast<int>(r.status)];
    }
  };
  send(40);
  stack.StartChaos("blue", "error");
  send(30);
  stack.StopChaos("blue");
  send(20);
  int sent = 90;

  ASSERT_TRUE(WaitUntil(
      [&] {
        return stack.Metric("poolwatch_log_lines_total", {{"result", "parsed"}}) == sent;
      },
      kDeadline))
      << stack.Metrics();
  std::string metrics = stack.Metrics();
  EXPECT_EQ(MetricValue(metrics, "poolwatch_log_lines_total", {{"result", "malformed"}}), 0);
  EXPECT_EQ(stack.AccessLogLines(), static_cast<size_t>(sent));
  EXPECT_EQ(MetricValue(metrics, "poolwatch_http_requests_total"), sent);
  for (const auto& [pool, count] : served_by) {
    EXPECT_EQ(MetricValue(metrics, "poolwatch_http_requests_total", {{"pool", pool}}), count)
        << "pool " << pool;
  }
  EXPECT_GT(served_by["green"], 0) << "chaos on blue must move traffic to green";
  EXPECT_EQ(MetricValue(metrics, "poolwatch_http_requests_total", {{"status", "200"}}),
            statuses[200]);

  // Attempts, checked against the upstreams themselves: each demo app counts the responses it
  // sent, by status, failed first tries included.
  int total_attempts = 0;
  int blue_failures = 0;
  for (const std::string pool : {"blue", "green"}) {
    const std::string address = "127.0.0.1:" + std::to_string(stack.pool_port(pool));
    std::map<std::string, int> answered = stack.PoolResponses(pool);
    int pool_attempts = 0;
    for (const auto& [status, after] : answered) {
      auto it = before.at(pool).find(status);
      const int n = after - (it == before.at(pool).end() ? 0 : it->second);
      if (n == 0) continue;
      pool_attempts += n;
      if (pool == "blue" && status == "500") blue_failures = n;
      EXPECT_EQ(MetricValue(metrics, "poolwatch_upstream_attempts_total",
                            {{"upstream", address}, {"status", status}, {"pool", pool}}),
                n)
          << pool << " answered " << n << " times with " << status;
    }
    // Nothing poolwatch counted that the upstream did not answer (another status, say).
    EXPECT_EQ(std::max(0.0, MetricValue(metrics, "poolwatch_upstream_attempts_total",
                                        {{"upstream", address}})),
              pool_attempts)
        << pool << " answered " << ::testing::PrintToString(answered) << ", before the test "
        << ::testing::PrintToString(before.at(pool));
    EXPECT_EQ(
        std::max(0.0, MetricValue(metrics, "poolwatch_upstream_response_duration_seconds_count",
                                  {{"pool", pool}})),
        pool_attempts)
        << pool;
    total_attempts += pool_attempts;
  }
  EXPECT_GT(blue_failures, 0) << "the failed first tries on blue must have happened";
  EXPECT_GT(total_attempts, sent) << "the failed tries on blue come on top of one answer each";
  EXPECT_EQ(MetricValue(metrics, "poolwatch_upstream_attempts_total"), total_attempts);
}

TEST(NginxMetrics, PromtoolAcceptsTheExposition) {
  std::string promtool = FindProgram("promtool");
  if (promtool.empty()) GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
  StackOptions options;
  options.slack = false;
  Stack stack(options);
  for (int i = 0; i < 5; ++i) stack.Get("/version");
  ASSERT_TRUE(
      WaitUntil([&] { return stack.Metric("poolwatch_http_requests_total") == 5; }, kDeadline));
  const std::string metrics = stack.Metrics();
  // The exposition checked includes the standard process metrics, with values that fit (a
  // fresh poolwatch may not have used a clock tick of CPU yet: 0 is a value, -1 is missing).
  EXPECT_GE(MetricValue(metrics, "process_cpu_seconds_total"), 0) << "missing";
  for (const char* name : {"process_resident_memory_bytes", "process_virtual_memory_bytes",
                           "process_start_time_seconds", "process_open_fds", "process_max_fds"}) {
    EXPECT_GT(MetricValue(metrics, name), 0) << name << " missing or zero";
  }
  EXPECT_NE(metrics.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_LE(MetricValue(metrics, "process_open_fds"), MetricValue(metrics, "process_max_fds"));
  EXPECT_GE(MetricValue(metrics, "process_virtual_memory_bytes"),
            MetricValue(metrics, "process_resident_memory_bytes"));
  WriteFile(stack.dir() / "metrics.prom", metrics);
  std::string output;
  int rc = RunCommand(
      {"sh", "-c", promtool + " check metrics < " + (stack.dir() / "metrics.prom").string()},
      &output);
  EXPECT_EQ(rc, 0) << output;
}

}  // namespace
}  // namespace poolwatch::testing
