// The webhook URLs are secrets (Slack's token is the URL's path; a generic webhook may carry
// credentials and a token in its query). With a Slack that fails before it accepts and a
// webhook nobody listens on, no part of them may show up in poolwatch's logs, its metrics,
// its status pages, replay's output or its configuration errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

using std::chrono::seconds;
constexpr auto kDeadline = seconds(30);

// Every piece of the two URLs that would give them away.
const std::vector<std::string> kSecrets = {"T0SECRET42", "B0SECRET42",     "xoxb-very-secret-token",
                                           "hook-user",  "pw-secret-4711", "qs-secret-4711"};

std::string SlackUrl(int port) {
  return "http://127.0.0.1:" + std::to_string(port) +
         "/services/T0SECRET42/B0SECRET42/xoxb-very-secret-token";
}
std::string WebhookUrl(int port) {
  return "http://hook-user:pw-secret-4711@127.0.0.1:" + std::to_string(port) +
         "/hook?token=qs-secret-4711";
}

void ExpectNoSecret(const std::string& where, const std::string& text) {
  for (const std::string& secret : kSecrets) {
    EXPECT_EQ(text.find(secret), std::string::npos) << where << " shows '" << secret << "':\n"
                                                    << text;
  }
}

TEST(Secrets, WebhookUrlsNeverAppearInLogsMetricsPagesReplayOrErrors) {
  StackOptions options;
  options.poolwatch = false;
  options.poolwatch_config_yaml = "notify:\n  timeout: 1s\n  max_attempts: 3\n";
  Stack stack(options);
  const int closed_port = FreePort();
  stack.SetPoolwatchEnv("SLACK_WEBHOOK_URL", SlackUrl(stack.slack_port()));
  stack.SetPoolwatchEnv("POOLWATCH_WEBHOOK_URL", WebhookUrl(closed_port));
  stack.SetSlackMode({{"mode", "500"}, {"count", 1}});
  stack.StartPoolwatch();

  stack.StartChaos("blue", "error");
  for (int i = 0; i < 10; ++i) stack.Get();
  ASSERT_TRUE(WaitUntil([&] { return stack.SlackMessages().size() == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return stack.Metric("poolwatch_notifications_total",
                            {{"notifier", "webhook"}, {"result", "retried"}}) >= 3;
      },
      kDeadline))
      << stack.poolwatch()->Output();
  // The stand-in did receive it at the secret path: the URL was really used.
  EXPECT_GE(
      stack.Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "retried"}}),
      1);

  for (const char* path :
       {"/metrics", "/", "/api/v1/status", "/api/v1/alerts", "/api/v1/maintenance"}) {
    HttpResponse r = HttpGet(stack.PoolwatchUrl(path));
    ExpectNoSecret(std::string("GET ") + path, r.body);
  }
  const std::string log = stack.poolwatch()->Output();
  EXPECT_THAT(log, ::testing::HasSubstr("retrying in"));  // the failures were logged…
  EXPECT_THAT(log, ::testing::HasSubstr("<redacted>"));   // …with the URLs redacted
  stack.StopPoolwatch();
  ExpectNoSecret("poolwatch's log", stack.poolwatch()->Output());

  // Replay with the same receivers in its configuration.
  const std::string config = (stack.dir() / "replay.yml").string();
  WriteFile(config, "notify:\n  slack_webhook_url: " + SlackUrl(stack.slack_port()) +
                        "\n  webhook_url: " + WebhookUrl(closed_port) + "\n");
  std::string output;
  ASSERT_EQ(RunCommand({POOLWATCH_BINARY, "replay", "--config", config, "--metrics-out",
                        (stack.dir() / "replay.prom").string(), stack.access_log().string()},
                       &output),
            0)
      << output;
  ASSERT_THAT(output, ::testing::HasSubstr("failover"));
  ExpectNoSecret("replay's output", output);
  ExpectNoSecret("replay's exposition", ReadFile(stack.dir() / "replay.prom"));

  // Configuration errors that involve the URLs.
  WriteFile(config,
            "notify:\n  slack_webhook_url: hooks.example/services/T0SECRET42/B0SECRET42/"
            "xoxb-very-secret-token\n");
  EXPECT_NE(RunCommand({POOLWATCH_BINARY, "check-config", config}, &output), 0);
  EXPECT_THAT(output, ::testing::HasSubstr("notify.slack_webhook_url"));
  ExpectNoSecret("check-config", output);
  WriteFile(config, "notify:\n  slack_webhook_url: [" + SlackUrl(1) + "]\n");
  EXPECT_NE(RunCommand({POOLWATCH_BINARY, "check-config", config}, &output), 0);
  ExpectNoSecret("check-config", output);
  EXPECT_NE(RunCommand({POOLWATCH_BINARY, "--log.path", stack.access_log().string()}, &output,
                       {{"POOLWATCH_WEBHOOK_URL",
                         "hook-user:pw-secret-4711@host/hook?token=qs-secret-4711"}}),
            0);
  EXPECT_THAT(output, ::testing::HasSubstr("POOLWATCH_WEBHOOK_URL"));
  ExpectNoSecret("start-up error", output);
}

}  // namespace
}  // namespace poolwatch::testing
