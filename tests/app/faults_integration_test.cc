// Faults injected into a running poolwatch: the state file's directory missing or replaced by
// a file, the log deleted, a SIGHUP with a broken configuration, a Slack that hangs, fails and
// rate-limits, receivers that refuse connections or speak no TLS. Each must be counted and
// logged once, and parsing and /metrics must stay live throughout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
constexpr auto kDeadline = seconds(30);

size_t Occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

// poolwatch on a log file the test writes itself: no nginx needed for file faults.
struct Standalone {
  TempDir dir;
  int port = 0;
  std::unique_ptr<Process> process;

  void Start(const fs::path& state) {
    WriteFile(dir / "access.log", "");
    process = std::make_unique<Process>(
        std::vector<std::string>{POOLWATCH_BINARY, "--log.path", (dir / "access.log").string(),
                                 "--state.path", state.string(), "--web.listen-address",
                                 "127.0.0.1:0"},
        dir / "poolwatch.log");
    port = WaitForListeningPort(*process);
    ASSERT_NE(port, 0) << process->Output();
    ASSERT_TRUE(WaitUntil([&] { return HttpGet(Url("/-/ready"), milliseconds(500)).status == 200; },
                          kDeadline))
        << process->Output();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
  double Metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return MetricValue(HttpGet(Url("/metrics")).body, name, labels);
  }
  // Appends a line and waits until poolwatch counted it: parsing is live.
  void LineIsCounted() {
    const double before = std::max(0.0, Metric("poolwatch_log_lines_total"));
    AppendFile(dir / "access.log", kBlueLogLine);
    ASSERT_TRUE(
        WaitUntil([&] { return Metric("poolwatch_log_lines_total") >= before + 1; }, kDeadline))
        << process->Output();
  }
};

TEST(Faults, StateFileWriteFailuresAreCountedLoggedOncePerConditionAndRecovered) {
  Standalone pw;
  const fs::path dir = pw.dir / "state";
  pw.Start(dir / "state.json");  // the directory does not exist

  // Condition 1: directory missing. Every changed checkpoint fails; logged once.
  for (int i = 0; i < 3; ++i) {
    const double errors = std::max(0.0, pw.Metric("poolwatch_state_write_errors_total"));
    pw.LineIsCounted();
    ASSERT_TRUE(WaitUntil([&] { return pw.Metric("poolwatch_state_write_errors_total") > errors; },
                          kDeadline));
  }
  EXPECT_EQ(pw.Metric("poolwatch_state_last_write_successful"), 0);
  EXPECT_EQ(Occurrences(pw.process->Output(), "cannot save the state"), 1u) << pw.process->Output();
  EXPECT_THAT(pw.process->Output(), HasSubstr("No such file or directory"));

  // Recovery: the directory appears.
  fs::create_directories(dir);
  pw.LineIsCounted();
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(dir / "state.json"); }, kDeadline));
  ASSERT_TRUE(WaitUntil([&] { return pw.Metric("poolwatch_state_last_write_successful") == 1; },
                        kDeadline));
  EXPECT_THAT(pw.process->Output(), HasSubstr("written again"));

  // Condition 2: a regular file where the directory was. Logged once more, then recovered.
  fs::remove_all(dir);
  WriteFile(dir, "not a directory");
  for (int i = 0; i < 2; ++i) {
    const double errors = pw.Metric("poolwatch_state_write_errors_total");
    pw.LineIsCounted();
    ASSERT_TRUE(WaitUntil([&] { return pw.Metric("poolwatch_state_write_errors_total") > errors; },
                          kDeadline));
  }
  EXPECT_EQ(Occurrences(pw.process->Output(), "cannot save the state"), 2u) << pw.process->Output();
  EXPECT_THAT(pw.process->Output(), HasSubstr("Not a directory"));
  fs::remove(dir);
  fs::create_directories(dir);
  pw.LineIsCounted();
  ASSERT_TRUE(WaitUntil([&] { return pw.Metric("poolwatch_state_last_write_successful") == 1; },
                        kDeadline));

  // The log deleted and recreated: waited for, then read from its start; no crash.
  fs::remove(pw.dir / "access.log");
  EXPECT_EQ(HttpGet(pw.Url("/metrics")).status, 200);
  const double before = pw.Metric("poolwatch_log_lines_total");
  WriteFile(pw.dir / "access.log", kBlueLogLine + kBlueLogLine);
  ASSERT_TRUE(
      WaitUntil([&] { return pw.Metric("poolwatch_log_lines_total") == before + 2; }, kDeadline))
      << pw.process->Output();
  EXPECT_TRUE(pw.process->Running());
  EXPECT_GE(pw.Metric("poolwatch_state_write_errors_total"), 5);
  RecordProperty("faults", 3);
}

TEST(Faults, AnUnreadableLogShowsOnMetricsUntilItIsReadable) {
  Standalone pw;
  pw.Start(pw.dir / "state.json");
  pw.LineIsCounted();
  EXPECT_EQ(pw.Metric("poolwatch_log_readable"), 1);

  // Something that is not a log file where the log was: poolwatch is blind and says so.
  fs::remove(pw.dir / "access.log");
  fs::create_directory(pw.dir / "access.log");
  ASSERT_TRUE(WaitUntil([&] { return pw.Metric("poolwatch_log_readable") == 0; }, kDeadline))
      << pw.process->Output();
  EXPECT_EQ(HttpGet(pw.Url("/metrics")).status, 200);

  fs::remove(pw.dir / "access.log");
  const double before = pw.Metric("poolwatch_log_lines_total");
  WriteFile(pw.dir / "access.log", kBlueLogLine);
  ASSERT_TRUE(
      WaitUntil([&] { return pw.Metric("poolwatch_log_lines_total") == before + 1; }, kDeadline))
      << pw.process->Output();
  EXPECT_TRUE(WaitUntil([&] { return pw.Metric("poolwatch_log_readable") == 1; }, kDeadline));
}

TEST(Faults, StartsFreshFromACorruptStateFileAndKeepsItAside) {
  Standalone pw;
  WriteFile(pw.dir / "state.json", "{\"version\": 1, \"log\": {\"path\": ");
  pw.Start(pw.dir / "state.json");
  EXPECT_THAT(pw.process->Output(), HasSubstr("is unusable"));
  EXPECT_TRUE(fs::exists(pw.dir / "state.json.corrupt"));
  pw.LineIsCounted();
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(pw.dir / "state.json"); }, kDeadline));
  EXPECT_TRUE(pw.process->Running());
}

std::string ConfigYaml(double threshold) {
  return "alerting:\n"
         "  rules:\n"
         "    - name: failover\n"
         "      kind: failover\n"
         "    - name: error_rate\n"
         "      kind: error_rate\n"
         "      window_size: 200\n"
         "      min_requests: 10\n"
         "      threshold_percent: " +
         std::to_string(threshold) + "\n";
}

nlohmann::json ErrorRateRule(Stack& stack) {
  auto status =
      nlohmann::json::parse(HttpGet(stack.PoolwatchUrl("/api/v1/status")).body, nullptr, false);
  if (status.is_discarded()) return {};
  for (const auto& r : status["rules"]) {
    if (r["name"] == "error_rate") return r;
  }
  return {};
}

void SendAndWaitCounted(Stack& stack, int n, int* sent) {
  for (int i = 0; i < n; ++i) {
    ASSERT_GT(stack.Get().status, 0);
    ++*sent;
  }
  ASSERT_TRUE(
      WaitUntil([&] { return stack.Metric("poolwatch_http_requests_total") == *sent; }, kDeadline))
      << "counted " << stack.Metric("poolwatch_http_requests_total") << " of " << *sent << "\n"
      << stack.poolwatch()->Output();
}

TEST(Faults, ReloadWithABadFileKeepsTheRunningConfigAndAGoodOneKeepsTheWindows) {
  StackOptions options;
  options.slack = false;
  options.poolwatch_config_yaml = ConfigYaml(2);
  const auto seconds_now = [] {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const double before_start = seconds_now();
  Stack stack(options);
  // As for Prometheus, loading the configuration at start-up is a successful load.
  const double loaded_at = stack.Metric("poolwatch_config_last_reload_success_timestamp_seconds");
  EXPECT_GE(loaded_at, before_start);
  EXPECT_LE(loaded_at, seconds_now());
  int sent = 0;
  SendAndWaitCounted(stack, 30, &sent);
  ASSERT_EQ(ErrorRateRule(stack)["window_fill"], 30) << ErrorRateRule(stack).dump();

  WriteFile(stack.dir() / "poolwatch.yml", "alerting:\n  rules: [\n");  // broken YAML
  ASSERT_EQ(kill(stack.poolwatch()->pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitUntil(
      [&] { return stack.Metric("poolwatch_config_last_reload_successful") == 0; }, kDeadline))
      << stack.poolwatch()->Output();
  EXPECT_THAT(stack.poolwatch()->Output(),
              HasSubstr("reload failed, keeping the running configuration"));
  EXPECT_TRUE(stack.poolwatch()->Running());
  SendAndWaitCounted(stack, 10, &sent);  // still parsing, with the old rules
  EXPECT_EQ(ErrorRateRule(stack)["threshold"], 2);
  EXPECT_EQ(ErrorRateRule(stack)["window_fill"], 40);
  EXPECT_EQ(stack.Metric("poolwatch_config_last_reload_success_timestamp_seconds"), loaded_at)
      << "a failed reload leaves the time of the last good load";

  WriteFile(stack.dir() / "poolwatch.yml", ConfigYaml(7));
  ASSERT_EQ(kill(stack.poolwatch()->pid(), SIGHUP), 0);
  ASSERT_TRUE(WaitUntil(
      [&] { return stack.Metric("poolwatch_config_last_reload_successful") == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  EXPECT_EQ(ErrorRateRule(stack)["threshold"], 7);
  EXPECT_EQ(ErrorRateRule(stack)["window_fill"], 40) << "a reload must keep the windows";
  EXPECT_GT(stack.Metric("poolwatch_config_last_reload_success_timestamp_seconds"), loaded_at);
  SendAndWaitCounted(stack, 5, &sent);
  EXPECT_EQ(ErrorRateRule(stack)["window_fill"], 45);
}

// /metrics answers quickly and every request nginx logged is counted.
void ExpectLive(Stack& stack, int* sent, const std::string& when) {
  const auto start = std::chrono::steady_clock::now();
  HttpResponse r = HttpGet(stack.PoolwatchUrl("/metrics"), seconds(2));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200) << when;
  EXPECT_LT(took, milliseconds(1000)) << when << ": /metrics is slow";
  SendAndWaitCounted(stack, 5, sent);
}

std::vector<nlohmann::json> Attempts(Stack& stack) {
  auto all = nlohmann::json::parse(
      HttpGet("http://127.0.0.1:" + std::to_string(stack.slack_port()) + "/_received").body,
      nullptr, false);
  std::vector<nlohmann::json> out;
  if (all.is_array()) out.assign(all.begin(), all.end());
  return out;
}

TEST(Faults, HangingFailingAndRateLimitingSlackNeverStallsParsingOrScraping) {
  StackOptions options;
  options.poolwatch_config_yaml = "notify:\n  timeout: 1s\n";
  Stack stack(options);
  int sent = 0;
  SendAndWaitCounted(stack, 10, &sent);

  stack.SetSlackMode({{"mode", "hang"}, {"hang_seconds", 5}, {"count", 1}});
  stack.StartChaos("blue", "error");
  SendAndWaitCounted(stack, 10, &sent);
  ASSERT_TRUE(WaitUntil([&] { return Attempts(stack).size() >= 1; }, kDeadline))
      << stack.poolwatch()->Output();
  ExpectLive(stack, &sent, "while Slack hangs");
  stack.SetSlackMode({{"mode", "500"}, {"count", 1}});
  ASSERT_TRUE(WaitUntil([&] { return Attempts(stack).size() >= 2; }, kDeadline))
      << stack.poolwatch()->Output();
  ExpectLive(stack, &sent, "while Slack fails");
  stack.SetSlackMode({{"mode", "429"}, {"retry_after", 1}, {"count", 1}});
  ASSERT_TRUE(WaitUntil([&] { return Attempts(stack).size() >= 3; }, kDeadline))
      << stack.poolwatch()->Output();
  ExpectLive(stack, &sent, "while Slack rate-limits");

  // Recovered: the alert arrives, once.
  ASSERT_TRUE(WaitUntil([&] { return stack.SlackMessages().size() == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  EXPECT_THAT(stack.SlackTexts()[0], HasSubstr("FAILOVER"));
  ExpectLive(stack, &sent, "after recovery");
  EXPECT_EQ(stack.SlackMessages().size(), 1u);
  std::vector<std::string> modes;
  for (const auto& a : Attempts(stack)) modes.push_back(a["mode"]);
  // The hang and the 500 always hit the first two attempts; the 429 may have been set after the
  // third attempt already succeeded (full-jitter backoff can be near zero).
  ASSERT_GE(modes.size(), 3u);
  EXPECT_EQ(modes[0], "hang");
  EXPECT_EQ(modes[1], "500");
  EXPECT_GE(
      stack.Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "retried"}}),
      2);
  EXPECT_EQ(stack.Metric("poolwatch_notifications_total",
                         {{"notifier", "slack"}, {"result", "delivered"}}),
            1);
  EXPECT_THAT(stack.poolwatch()->Output(), HasSubstr("retrying in"));
  RecordProperty("slack_attempts", static_cast<int>(modes.size()));
}

TEST(Faults, RefusedConnectionsAndTlsErrorsAreRetriedUntilDeliveredAndLoggedSparingly) {
  StackOptions options;
  options.slack = false;
  options.poolwatch_config_yaml = "notify:\n  timeout: 1s\n  max_attempts: 2\n";
  Stack stack(options);
  // Nothing listens on a port that was just free: connection refused. The green app speaks
  // plain HTTP: an https:// URL to it is a TLS handshake failure.
  stack.StopPoolwatch();
  stack.SetPoolwatchEnv("SLACK_WEBHOOK_URL", "http://127.0.0.1:" + std::to_string(FreePort()) +
                                                 "/services/T1/B1/refused-token");
  stack.SetPoolwatchEnv(
      "POOLWATCH_WEBHOOK_URL",
      "https://127.0.0.1:" + std::to_string(stack.pool_port("green")) + "/hook?token=tls-token");
  stack.StartPoolwatch();
  int sent = 0;
  SendAndWaitCounted(stack, 5, &sent);
  stack.StartChaos("blue", "error");
  SendAndWaitCounted(stack, 10, &sent);
  // A receiver that cannot be reached is not a reason to drop the page: it is retried (with
  // backoff) for as long as it is down, and logged attempt by attempt only up to max_attempts.
  ASSERT_TRUE(WaitUntil(
      [&] {
        return stack.Metric("poolwatch_notifications_total",
                            {{"notifier", "slack"}, {"result", "retried"}}) >= 3 &&
               stack.Metric("poolwatch_notifications_total",
                            {{"notifier", "webhook"}, {"result", "retried"}}) >= 3;
      },
      kDeadline))
      << stack.Metrics() << stack.poolwatch()->Output();
  EXPECT_EQ(
      stack.Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "failed"}}),
      0);
  EXPECT_EQ(stack.Metric("poolwatch_notifications_total",
                         {{"notifier", "webhook"}, {"result", "failed"}}),
            0);
  const std::string log = stack.poolwatch()->Output();
  EXPECT_EQ(Occurrences(log, "notify: slack: attempt 3 "), 0u) << log;  // max_attempts: 2
  EXPECT_EQ(Occurrences(log, "notify: slack: attempt 2 "), 1u) << log;
  EXPECT_EQ(Occurrences(log, "notify: webhook: attempt 2 "), 1u) << log;
  EXPECT_EQ(Occurrences(log, "retried until delivered or superseded"), 2u) << log;
  EXPECT_THAT(log, ::testing::Not(HasSubstr("refused-token")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("tls-token")));
  ExpectLive(stack, &sent, "after the receivers failed");
  EXPECT_TRUE(stack.poolwatch()->Running());
}

}  // namespace
}  // namespace poolwatch::testing
