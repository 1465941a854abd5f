// Slack app mode through the real stack: nginx + blue + green + poolwatch talking to the Slack
// stand-in's Web API (chat.postMessage, chat.update). Checked on what "Slack" holds at the end:
// one top-level message per incident, updated in place, and its thread.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
constexpr auto kDeadline = std::chrono::seconds(30);

StackOptions AppOptions() {
  StackOptions options;
  options.slack_app = true;
  return options;
}

void Send(Stack& stack, int n) {
  for (int i = 0; i < n; ++i) EXPECT_GT(stack.Get("/version").status, 0);
}

// Chaos on blue and traffic through nginx, which fails over to green.
void FailOver(Stack& stack) {
  stack.StartChaos("blue", "error");
  Send(stack, 20);
}

// Blue healthy again and nginx back on it, with the stack's one second of clear traffic.
void Recover(Stack& stack) {
  stack.StopChaos("blue");
  // nginx retries blue once its fail_timeout has passed; poll with traffic until it does.
  ASSERT_TRUE(WaitUntil([&] { return stack.Get("/version").headers["x-app-pool"] == "blue"; },
                        kDeadline, std::chrono::milliseconds(200)));
  Send(stack, 10);
}

bool Resolved(const json& message) {
  return message["body"].dump().find("RESOLVED") != std::string::npos;
}

std::vector<std::string> ReplyTexts(const json& message) {
  std::vector<std::string> out;
  for (const json& reply : message["replies"]) out.push_back(reply.value("text", ""));
  return out;
}

// The top-level messages once the first is resolved with at least `replies` replies.
std::vector<json> WaitForResolvedThread(Stack& stack, size_t replies) {
  std::vector<json> messages;
  EXPECT_TRUE(WaitUntil(
      [&] {
        messages = stack.SlackAppMessages();
        return !messages.empty() && Resolved(messages.back()) &&
               messages.back()["replies"].size() >= replies;
      },
      kDeadline))
      << stack.poolwatch()->Output() << json(stack.SlackAppMessages()).dump(1);
  return messages;
}

TEST(SlackApp, AFailoverAndItsRecoveryAreOneTopMessageUpdatedToResolvedWithItsThread) {
  Stack stack(AppOptions());
  Send(stack, 20);
  FailOver(stack);
  ASSERT_TRUE(WaitUntil([&] { return stack.SlackAppMessages().size() == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  json top = stack.SlackAppMessages().front();
  EXPECT_EQ(top["channel"], "C0STANDIN");
  EXPECT_THAT(top["body"].dump(), HasSubstr("FAILOVER"));
  EXPECT_EQ(top["body"]["attachments"][0]["color"], "#d00000");

  Recover(stack);
  std::vector<json> messages = WaitForResolvedThread(stack, 1);
  ASSERT_EQ(messages.size(), 1u) << "exactly one top-level message for the incident";
  top = messages.front();
  EXPECT_EQ(top["updates"], 1);
  EXPECT_EQ(top["body"]["ts"], top["ts"]);
  EXPECT_EQ(top["body"]["attachments"][0]["color"], "#2eb886");
  EXPECT_THAT(top["body"].dump(), HasSubstr("Resolved after"));
  const std::vector<std::string> replies = ReplyTexts(top);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_THAT(replies[0], ::testing::StartsWith("✅ Resolved after"));

  for (const json& call : stack.SlackAppCalls()) {
    EXPECT_TRUE(call["authorized"].get<bool>()) << call.dump();
    EXPECT_EQ(call["content_type"], "application/json; charset=utf-8");
  }
  // The token is sent only as the bearer: nowhere in what poolwatch shows.
  EXPECT_THAT(stack.poolwatch()->Output(), Not(HasSubstr(kSlackStandinToken)));
  EXPECT_THAT(stack.Metrics(), Not(HasSubstr(kSlackStandinToken)));
  const std::string status = HttpGet(stack.PoolwatchUrl("/api/v1/status")).body;
  EXPECT_THAT(status, HasSubstr("slack app #ops via http://127.0.0.1:"));
  EXPECT_THAT(status, Not(HasSubstr(kSlackStandinToken)));
}

// Within the cooldown (300 s by default) the second failover is held back from the channel;
// the app puts it, and its end, into the thread of the first instead of a new message.
TEST(SlackApp, AFlapWithinTheCooldownAddsThreadRepliesNotTopLevelMessages) {
  Stack stack(AppOptions());
  Send(stack, 20);
  FailOver(stack);
  Recover(stack);
  ASSERT_EQ(WaitForResolvedThread(stack, 1).size(), 1u);

  FailOver(stack);
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto messages = stack.SlackAppMessages();
        return messages.size() == 1 && messages[0]["replies"].size() >= 2;
      },
      kDeadline))
      << stack.poolwatch()->Output() << json(stack.SlackAppMessages()).dump(1);
  EXPECT_THAT(stack.SlackAppMessages()[0]["body"].dump(), HasSubstr("Flapping: firing again"));
  Recover(stack);
  std::vector<json> messages = WaitForResolvedThread(stack, 3);
  ASSERT_EQ(messages.size(), 1u) << json(messages).dump(1);
  EXPECT_THAT(ReplyTexts(messages[0]),
              ::testing::ElementsAre(::testing::StartsWith("✅ Resolved after"),
                                     ::testing::StartsWith("⚡ Firing again within the cooldown"),
                                     ::testing::StartsWith("〰️ Cleared again")));
  EXPECT_EQ(messages[0]["updates"], 3);
}

// kill -9 between the firing and the resolution: the restarted poolwatch finds the message's
// ts in the state file and the resolution updates that message.
TEST(SlackApp, AfterAKillBetweenFiringAndResolutionTheResolutionUpdatesTheSameMessage) {
  TempDir state_dir;
  const fs::path state = state_dir / "state.json";
  StackOptions options = AppOptions();
  options.poolwatch_args = {"--state.path", state.string()};
  Stack stack(options);
  Send(stack, 20);
  FailOver(stack);
  ASSERT_TRUE(WaitUntil([&] { return stack.SlackAppMessages().size() == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  const std::string ts = stack.SlackAppMessages()[0]["ts"];
  // Saved once the dispatcher has finished the firing: the outbox empty, the ts kept.
  ASSERT_TRUE(WaitUntil(
      [&] {
        json s = json::parse(ReadFile(state), nullptr, false);
        return !s.is_discarded() && s["outbox"].empty() && s["slack_threads"].size() == 1 &&
               s["slack_threads"][0]["ts"] == ts;
      },
      kDeadline))
      << ReadFile(state);
  EXPECT_THAT(ReadFile(state), Not(HasSubstr(kSlackStandinToken)));
  stack.poolwatch()->Kill9();

  stack.StartPoolwatch();
  Recover(stack);
  std::vector<json> messages = WaitForResolvedThread(stack, 1);
  ASSERT_EQ(messages.size(), 1u) << json(messages).dump(1);
  EXPECT_EQ(messages[0]["ts"], ts);
  EXPECT_EQ(messages[0]["updates"], 1);
  EXPECT_THAT(ReplyTexts(messages[0]), ::testing::ElementsAre(::testing::StartsWith("✅")));
}

// Slack says "ratelimited" to the thread reply twice: the reply waits for Retry-After and
// arrives once, after the update it belongs to.
TEST(SlackApp, ARateLimitAnswerDelaysButNeverLosesAReply) {
  Stack stack(AppOptions());
  Send(stack, 20);
  FailOver(stack);
  ASSERT_TRUE(WaitUntil([&] { return stack.SlackAppMessages().size() == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  stack.SetSlackMode({{"mode", "ratelimited"},
                      {"count", 2},
                      {"retry_after", 1},
                      {"methods", {"chat.postMessage"}}});
  Recover(stack);
  std::vector<json> messages = WaitForResolvedThread(stack, 1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(ReplyTexts(messages[0]).size(), 1u) << "delivered once";
  int limited = 0;
  double first_limited = 0, reply_at = 0;
  for (const json& call : stack.SlackAppCalls()) {
    if (call["mode"] == "ratelimited") {
      if (limited++ == 0) first_limited = call["time"];
    } else if (call["method"] == "chat.postMessage" && call["json"].contains("thread_ts")) {
      reply_at = call["time"];
    }
  }
  EXPECT_EQ(limited, 2);
  EXPECT_GE(reply_at - first_limited, 1.9) << "two Retry-After waits of a second";
  EXPECT_THAT(stack.poolwatch()->Output(), HasSubstr("as asked by Retry-After"));
}

// A token Slack does not accept: each alert is refused for good, counted, shown on the status
// page, logged once with Slack's error, and the token never shows anywhere.
TEST(SlackApp, ARefusedTokenIsLoggedOnceCountedShownAndNeverPrinted) {
  Stack stack(AppOptions());
  HttpPost("http://127.0.0.1:" + std::to_string(stack.slack_port()) + "/_token",
           json{{"token", "xoxb-the-right-one"}}.dump());
  Send(stack, 20);
  FailOver(stack);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return stack.Metric("poolwatch_slack_api_rejections_total",
                            {{"notifier", "slack"}, {"error", "invalid_auth"}}) >= 1;
      },
      kDeadline))
      << stack.poolwatch()->Output();
  Recover(stack);
  ASSERT_TRUE(WaitUntil(
      [&] {
        return stack.Metric("poolwatch_slack_api_rejections_total",
                            {{"notifier", "slack"}, {"error", "invalid_auth"}}) >= 2;
      },
      kDeadline))
      << stack.poolwatch()->Output();
  EXPECT_TRUE(stack.SlackAppMessages().empty());
  const std::string log = stack.poolwatch()->Output();
  size_t once = 0;
  for (size_t at = log.find("Slack refused the call"); at != std::string::npos;
       at = log.find("Slack refused the call", at + 1)) {
    ++once;
  }
  EXPECT_EQ(once, 1u) << log;
  EXPECT_THAT(log, HasSubstr("invalid_auth"));
  const std::string status = HttpGet(stack.PoolwatchUrl("/api/v1/status")).body;
  EXPECT_THAT(status, HasSubstr("chat.postMessage: invalid_auth"));
  for (const std::string& output : {log, status, stack.Metrics()}) {
    EXPECT_THAT(output, Not(HasSubstr(kSlackStandinToken)));
  }

  // Replay with the same environment prints what it would send, never the token.
  std::string replay;
  ASSERT_EQ(RunCommand({POOLWATCH_BINARY, "replay", stack.access_log().string()}, &replay,
                       {{"SLACK_BOT_TOKEN", kSlackStandinToken}, {"SLACK_CHANNEL", "#ops"}}),
            0)
      << replay;
  EXPECT_THAT(replay, HasSubstr("FAILOVER"));
  EXPECT_THAT(replay, Not(HasSubstr(kSlackStandinToken)));
  // A configuration error about the token does not print it either.
  std::string error;
  EXPECT_NE(RunCommand({POOLWATCH_BINARY, "--log.path", stack.access_log().string()}, &error,
                       {{"SLACK_BOT_TOKEN", std::string(kSlackStandinToken) + " x"},
                        {"SLACK_CHANNEL", "#ops"}}),
            0);
  EXPECT_THAT(error, HasSubstr("SLACK_BOT_TOKEN"));
  EXPECT_THAT(error, Not(HasSubstr(kSlackStandinToken)));
}

// Maintenance set through the admin API during an incident: its start and end are replies in
// the incident's thread, and the resolution held back by it comes after.
TEST(SlackApp, MaintenanceStartedAndEndedAreRepliesInTheThreadOfTheOpenIncident) {
  StackOptions options = AppOptions();
  options.poolwatch_args = {"--web.enable-admin-api"};
  Stack stack(options);
  Send(stack, 20);
  FailOver(stack);
  ASSERT_TRUE(WaitUntil([&] { return stack.SlackAppMessages().size() == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  ASSERT_EQ(HttpPost(stack.PoolwatchUrl("/api/v1/maintenance"), R"({"enabled":true})").status, 200);
  ASSERT_TRUE(
      WaitUntil([&] { return stack.SlackAppMessages().at(0)["replies"].size() == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  ASSERT_EQ(HttpPost(stack.PoolwatchUrl("/api/v1/maintenance"), R"({"enabled":false})").status,
            200);
  Recover(stack);
  std::vector<json> messages = WaitForResolvedThread(stack, 3);
  ASSERT_EQ(messages.size(), 1u) << json(messages).dump(1);
  EXPECT_THAT(ReplyTexts(messages[0]),
              ::testing::ElementsAre(::testing::StartsWith("🔧 Maintenance started"),
                                     ::testing::StartsWith("▶️ Maintenance ended"),
                                     ::testing::StartsWith("✅ Resolved after")));
}

}  // namespace
}  // namespace poolwatch::testing
