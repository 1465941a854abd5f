// Real nginx (rendered from nginx/nginx.conf.template) in front of two demo apps, one made to
// fail, and poolwatch following nginx's log: every counter equals what was actually sent.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

constexpr auto kDeadline = std::chrono::seconds(15);

std::string Between(const std::string& line, const std::string& start, const std::string& end) {
  size_t from = line.find(start);
  if (from == std::string::npos) return "";
  from += start.size();
  return line.substr(from, line.find(end, from) - from);
}

std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> items;
  size_t start = 0;
  while (true) {
    size_t comma = value.find(", ", start);
    items.push_back(value.substr(start, comma - start));
    if (comma == std::string::npos) return items;
    start = comma + 2;
  }
}

TEST(NginxMetrics, CountersEqualWhatNginxServedAttemptsIncluded) {
  StackOptions options;
  options.slack = false;
  Stack stack(options);

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

  ASSERT_TRUE(WaitUntil([&] { return stack.Metric("poolwatch_log_lines_total", {{"result", "parsed"}}) == sent; },
                        kDeadline))
      << stack.Metrics();
  std::string metrics = stack.Metrics();
  EXPECT_EQ(MetricValue(metrics, "poolwatch_log_lines_total", {{"result", "malformed"}}), 0);
  EXPECT_EQ(MetricValue(metrics, "poolwatch_http_requests_total"), sent);
  for (const auto& [pool, count] : served_by) {
    EXPECT_EQ(MetricValue(metrics, "poolwatch_http_requests_total", {{"pool", pool}}), count)
        << "pool " << pool;
  }
  EXPECT_GT(served_by["green"], 0) << "chaos on blue must move traffic to green";
  EXPECT_EQ(MetricValue(metrics, "poolwatch_http_requests_total", {{"status", "200"}}), statuses[200]);

  // Attempts, worked out independently from nginx's own log: each item of the lists.
  std::map<std::pair<std::string, std::string>, int> attempts;  // (address, status)
  std::istringstream log(ReadFile(stack.access_log()));
  std::string line;
  int lines = 0;
  while (std::getline(log, line)) {
    ++lines;
    auto addresses = SplitList(Between(line, "upstream_addr=", " request_time="));
    auto codes = SplitList(Between(line, "upstream_status=", " upstream_addr="));
    ASSERT_EQ(addresses.size(), codes.size()) << line;
    for (size_t i = 0; i < addresses.size(); ++i) ++attempts[{addresses[i], codes[i]}];
  }
  EXPECT_EQ(lines, sent);
  const std::string blue = "127.0.0.1:" + std::to_string(stack.pool_port("blue"));
  const std::string green = "127.0.0.1:" + std::to_string(stack.pool_port("green"));
  EXPECT_GT((attempts[{blue, "500"}]), 0) << "the failed first tries on blue must be in the log";
  for (const auto& [key, count] : attempts) {
    const auto& [address, status] = key;
    std::string pool = address == blue ? "blue" : address == green ? "green" : "?";
    EXPECT_EQ(MetricValue(metrics, "poolwatch_upstream_attempts_total",
                          {{"upstream", address}, {"status", status}, {"pool", pool}}),
              count)
        << address << " " << status;
  }
  int blue_attempts = attempts[{blue, "200"}] + attempts[{blue, "500"}];
  EXPECT_EQ(MetricValue(metrics, "poolwatch_upstream_response_duration_seconds_count",
                        {{"pool", "blue"}}),
            blue_attempts);
}

TEST(NginxMetrics, PromtoolAcceptsTheExposition) {
  std::string promtool = FindProgram("promtool");
  if (promtool.empty()) GTEST_SKIP() << "promtool (Debian package prometheus) is not installed";
  StackOptions options;
  options.slack = false;
  Stack stack(options);
  for (int i = 0; i < 5; ++i) stack.Get("/version");
  ASSERT_TRUE(WaitUntil([&] { return stack.Metric("poolwatch_http_requests_total") == 5; }, kDeadline));
  WriteFile(stack.dir() / "metrics.prom", stack.Metrics());
  std::string output;
  int rc = RunCommand({"sh", "-c", promtool + " check metrics < " + (stack.dir() / "metrics.prom").string()},
                      &output);
  EXPECT_EQ(rc, 0) << output;
}

}  // namespace
}  // namespace poolwatch::testing
