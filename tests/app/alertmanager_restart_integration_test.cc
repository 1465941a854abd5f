// A failover still firing when poolwatch is killed must keep firing in Alertmanager: each post
// says endsAt = now + 4 re-post intervals, so an alert nobody re-posts expires there and
// Alertmanager sends a false "resolved" while the incident goes on. With a state file the
// restarted poolwatch re-posts it at once, as the same alert (labels, startsAt), without a new
// firing message to Slack, and still resolves it when the failover ends.
//
// The Slack stand-in plays Alertmanager too: it records every POST with its path, and
// poolwatch posts alerts to <url>/api/v2/alerts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/log_record.h"
#include "exporter/log_format.h"
#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;
constexpr auto kDeadline = seconds(15);
constexpr char kAlertsPath[] = "/am/api/v2/alerts";

// The failover alerts of every post to the Alertmanager path, in arrival order.
std::vector<json> FailoverPosts(const Stack& stack) {
  std::vector<json> out;
  json all = json::parse(
      HttpGet("http://127.0.0.1:" + std::to_string(stack.slack_port()) + "/_received").body,
      nullptr, false);
  if (!all.is_array()) return out;
  for (const json& post : all) {
    if (post.value("path", "") != kAlertsPath || !post["json"].is_array()) continue;
    for (const json& alert : post["json"]) {
      if (alert["labels"].value("alertname", "") == "failover") out.push_back(alert);
    }
  }
  return out;
}

json ReadState(const fs::path& path) { return json::parse(ReadFile(path), nullptr, false); }

// "2025-10-31T14:23:45.123Z" to the second.
TimePoint Seconds(const json& rfc3339) {
  const std::string text = rfc3339.get<std::string>();
  return ParseTimeIso8601(text.substr(0, 19) + "Z").value_or(TimePoint{});
}

TEST(AlertmanagerRestart,
     AStillFiringAlertIsRepostedAfterAKillAsTheSameAlertWithoutANewSlackMessage) {
  TempDir state_dir;
  const fs::path state = state_dir / "state.json";
  StackOptions options;
  options.poolwatch = false;  // the stand-in's port goes into its environment first
  options.poolwatch_args = {"--state.path", state.string(), "--instance", "edge-1"};
  // A minute between re-posts: a post within this test's deadlines after the restart is the
  // adopted alert's prompt re-post, never the periodic one.
  options.poolwatch_config_yaml = "notify:\n  alertmanager_resend_interval: 1m\n";
  Stack stack(options);
  stack.SetPoolwatchEnv("POOLWATCH_ALERTMANAGER_URLS",
                        "http://127.0.0.1:" + std::to_string(stack.slack_port()) + "/am");
  stack.StartPoolwatch();

  stack.StartChaos("blue", "error");
  for (int i = 0; i < 10; ++i) stack.Get();
  ASSERT_TRUE(
      WaitUntil([&] { return FailoverPosts(stack).size() == 1 && stack.SlackTexts().size() == 1; },
                kDeadline))
      << stack.poolwatch()->Output();
  const json fired = FailoverPosts(stack)[0];
  EXPECT_EQ(fired["labels"]["instance"], "edge-1");
  EXPECT_GT(Seconds(fired["endsAt"]), Seconds(fired["startsAt"]));
  // Checkpointed (within state.checkpoint_interval) with every notification finished, so the
  // kill cannot fall between Slack accepting the message and the save.
  ASSERT_TRUE(WaitUntil(
      [&] {
        json s = ReadState(state);
        return !s.is_discarded() && s["outbox"].empty() && s["alertmanager_firing"].size() == 1;
      },
      kDeadline))
      << ReadFile(state);

  stack.poolwatch()->Kill9();
  const TimePoint restarted = Clock::now();
  stack.StartPoolwatch();
  ASSERT_TRUE(WaitUntil([&] { return FailoverPosts(stack).size() >= 2; }, kDeadline))
      << "no re-post after the restart\n"
      << stack.poolwatch()->Output();
  const json reposted = FailoverPosts(stack)[1];
  EXPECT_EQ(reposted["labels"], fired["labels"]) << "the same alert";
  EXPECT_EQ(reposted["startsAt"], fired["startsAt"]) << "the same episode";
  // now + 4 × 1 min; a second of slack for the clock's truncation.
  EXPECT_GE(Seconds(reposted["endsAt"]), restarted + std::chrono::minutes(4) - seconds(1));

  // Still failing over after the restart: the restored engine does not announce it again.
  // Once the state shows those lines consumed and the outbox empty, any notification they
  // caused would already have been delivered.
  for (int i = 0; i < 5; ++i) stack.Get();
  const size_t written = stack.AccessLogLines();
  ASSERT_TRUE(WaitUntil(
      [&] {
        json s = ReadState(state);
        return !s.is_discarded() && s["log"]["lines"].get<size_t>() >= written &&
               s["outbox"].empty();
      },
      kDeadline))
      << ReadFile(state);
  EXPECT_EQ(stack.SlackTexts().size(), 1u) << ::testing::PrintToString(stack.SlackTexts());
  EXPECT_EQ(FailoverPosts(stack).size(), 2u) << "no new firing post";

  // The failover ends: the adopted alert is resolved in Alertmanager like any other.
  stack.StopChaos("blue");
  ASSERT_TRUE(WaitUntil(
      [&] {
        stack.Get();
        const std::vector<json> posts = FailoverPosts(stack);
        return posts.size() >= 3 && Seconds(posts.back()["endsAt"]) <= Clock::now();
      },
      kDeadline))
      << stack.poolwatch()->Output();
  const json resolved = FailoverPosts(stack).back();
  EXPECT_EQ(resolved["labels"], fired["labels"]);
  EXPECT_EQ(resolved["startsAt"], fired["startsAt"]);
  ASSERT_TRUE(WaitUntil(
      [&] {
        json s = ReadState(state);
        return !s.is_discarded() && s["alertmanager_firing"].empty();
      },
      kDeadline))
      << "the resolved alert is still saved for re-posting\n"
      << ReadFile(state);
  const std::vector<std::string> slack = stack.SlackTexts();
  ASSERT_EQ(slack.size(), 2u) << ::testing::PrintToString(slack);
  EXPECT_THAT(slack[1], ::testing::HasSubstr("RESOLVED"));
}

}  // namespace
}  // namespace poolwatch::testing
