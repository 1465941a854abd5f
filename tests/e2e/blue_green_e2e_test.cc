// The seed README's scenarios on the real stack: nginx + blue + green + poolwatch, with the
// Slack stand-in receiving what poolwatch sends. Assertions are on what "Slack" received.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/stack.h"

namespace poolwatch::testing {
namespace {

using ::testing::HasSubstr;
constexpr auto kDeadline = std::chrono::seconds(20);

// "failover:firing", "failover:resolved", "error_rate:firing", … from the Slack headline.
std::vector<std::string> Received(Stack& stack) {
  std::vector<std::string> out;
  for (const std::string& text : stack.SlackTexts()) {
    std::string rule = text.find("ERROR_RATE") != std::string::npos ? "error_rate"
                       : text.find("FAILOVER") != std::string::npos ? "failover"
                                                                    : "other";
    out.push_back(rule + (text.find("RESOLVED") != std::string::npos ? ":resolved" : ":firing"));
  }
  return out;
}

// The text of every Slack field in a message ("*Previous*\nblue"), wherever the blocks are.
void CollectFields(const nlohmann::json& node, std::vector<std::string>* out) {
  if (node.is_object()) {
    if (auto it = node.find("fields"); it != node.end() && it->is_array()) {
      for (const auto& f : *it) {
        if (f.is_object() && f.contains("text") && f["text"].is_string()) out->push_back(f["text"]);
      }
    }
    for (const auto& [key, value] : node.items()) CollectFields(value, out);
  } else if (node.is_array()) {
    for (const auto& value : node) CollectFields(value, out);
  }
}

std::vector<std::string> Fields(const nlohmann::json& message) {
  std::vector<std::string> out;
  CollectFields(message, &out);
  return out;
}

int Count(const std::vector<std::string>& v, const std::string& what) {
  return static_cast<int>(std::count(v.begin(), v.end(), what));
}

// Sends n requests through nginx; returns how many each pool answered.
std::map<std::string, int> Send(Stack& stack, int n, int* sent) {
  std::map<std::string, int> by_pool;
  for (int i = 0; i < n; ++i) {
    HttpResponse r = stack.Get("/version");
    EXPECT_GT(r.status, 0) << r.error;
    ++by_pool[r.headers["x-app-pool"]];
    ++*sent;
  }
  return by_pool;
}

void WaitUntilCounted(Stack& stack, int sent) {
  ASSERT_TRUE(
      WaitUntil([&] { return stack.Metric("poolwatch_http_requests_total") == sent; }, kDeadline))
      << "poolwatch counted " << stack.Metric("poolwatch_http_requests_total") << " of " << sent
      << "\n"
      << stack.poolwatch()->Output();
}

TEST(BlueGreen, NormalTrafficGivesNoAlert) {
  Stack stack;
  int sent = 0;
  auto served = Send(stack, 50, &sent);
  EXPECT_EQ(served["blue"], 50);
  WaitUntilCounted(stack, sent);
  EXPECT_EQ(stack.Metric("poolwatch_alert_firing", {{"rule", "failover"}}), 0);
  EXPECT_TRUE(stack.SlackMessages().empty()) << stack.poolwatch()->Output();
}

TEST(BlueGreen, ChaosOnBlueFailsOverToGreenAndRecovers) {
  Stack stack;
  int sent = 0;
  Send(stack, 20, &sent);
  stack.StartChaos("blue", "error");
  auto during = Send(stack, 20, &sent);
  EXPECT_EQ(during["green"], 20) << "nginx must answer every request from green within one try";

  ASSERT_TRUE(WaitUntil([&] { return Count(Received(stack), "failover:firing") == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  const nlohmann::json firing = stack.SlackMessages().front();
  // The direction, not just the names: from blue (the primary) to green.
  EXPECT_THAT(Fields(firing), ::testing::IsSupersetOf({"*Previous*\nblue", "*Current*\ngreen"}))
      << firing.dump(2);
  EXPECT_THAT(firing.dump(), HasSubstr("Check health of blue pool"));
  EXPECT_EQ(stack.Metric("poolwatch_serving_pool", {{"pool", "green"}}), 1);

  stack.StopChaos("blue");
  // nginx retries blue once its fail_timeout has passed; poll with traffic until it does.
  ASSERT_TRUE(WaitUntil([&] { return Send(stack, 1, &sent)["blue"] == 1; }, kDeadline,
                        std::chrono::milliseconds(200)));
  // Resolution wants blue to stay: 10 requests, and a second (the stack's resolve_for).
  EXPECT_EQ(Send(stack, 10, &sent)["blue"], 10);
  ASSERT_TRUE(
      WaitUntil([&] { return Count(Received(stack), "failover:resolved") == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  auto received = Received(stack);
  EXPECT_THAT(received, ::testing::ElementsAre("failover:firing", "failover:resolved"));
  // Back the other way: from green to blue.
  const nlohmann::json resolved = stack.SlackMessages().back();
  EXPECT_THAT(Fields(resolved), ::testing::IsSupersetOf({"*Previous*\ngreen", "*Current*\nblue"}))
      << resolved.dump(2);
  EXPECT_EQ(stack.Metric("poolwatch_serving_pool", {{"pool", "blue"}}), 1);
  WaitUntilCounted(stack, sent);
}

TEST(BlueGreen, ChaosOnBothPoolsGivesOneErrorRateAlertAndItsResolution) {
  StackOptions options;
  // A smaller window than the seed's 200 so the resolution needs fewer healthy requests.
  options.poolwatch_env = {{"WINDOW_SIZE", "50"}};
  Stack stack(options);
  int sent = 0;
  Send(stack, 30, &sent);
  stack.StartChaos("blue", "error");
  stack.StartChaos("green", "error");
  Send(stack, 20, &sent);
  ASSERT_TRUE(
      WaitUntil([&] { return Count(Received(stack), "error_rate:firing") == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  std::string alert;
  for (const auto& m : stack.SlackMessages()) {
    if (m.value("text", "").find("ERROR_RATE") != std::string::npos) alert = m.dump();
  }
  EXPECT_THAT(alert, HasSubstr("threshold: 2%"));
  EXPECT_THAT(alert, HasSubstr("5xx Errors"));

  stack.StopChaos("blue");
  stack.StopChaos("green");
  ASSERT_TRUE(WaitUntil([&] { return Send(stack, 1, &sent)["blue"] == 1; }, kDeadline,
                        std::chrono::milliseconds(200)));
  // The window's 50 requests turn over, then two windows of clear requests (resolve_requests).
  Send(stack, 160, &sent);
  ASSERT_TRUE(
      WaitUntil([&] { return Count(Received(stack), "error_rate:resolved") == 1; }, kDeadline))
      << stack.poolwatch()->Output();
  auto received = Received(stack);
  EXPECT_EQ(Count(received, "error_rate:firing"), 1);
  EXPECT_EQ(Count(received, "error_rate:resolved"), 1);
  WaitUntilCounted(stack, sent);
}

TEST(BlueGreen, MaintenanceModeAndAnActivePoolSwitchGiveNoFailoverAlert) {
  StackOptions options;
  options.poolwatch_env = {{"MAINTENANCE_MODE", "true"}};
  Stack stack(options);
  int sent = 0;
  Send(stack, 10, &sent);
  // The seed's planned switch: ACTIVE_POOL=green and nginx re-rendered, during maintenance.
  sent += stack.SwitchActivePool("green");
  auto served = Send(stack, 30, &sent);
  EXPECT_EQ(served["green"], 30);
  WaitUntilCounted(stack, sent);
  EXPECT_EQ(stack.Metric("poolwatch_maintenance_mode"), 1);

  // Maintenance ends with the watcher restarted on the new primary, as in the seed README.
  stack.StopPoolwatch();
  stack.SetPoolwatchEnv("MAINTENANCE_MODE", "false");
  stack.StartPoolwatch();
  int after = 0;
  Send(stack, 30, &after);
  WaitUntilCounted(stack, after);
  EXPECT_EQ(stack.Metric("poolwatch_active_pool", {{"pool", "green"}}), 1);
  EXPECT_EQ(Count(Received(stack), "failover:firing"), 0) << stack.poolwatch()->Output();
  EXPECT_TRUE(stack.SlackMessages().empty());
}

TEST(BlueGreen, MaintenanceThroughTheAdminApiMutesAndThenAnnouncesAStillFiringFailover) {
  StackOptions options;
  options.poolwatch_args = {"--web.enable-admin-api"};
  Stack stack(options);
  auto on = HttpPost(stack.PoolwatchUrl("/api/v1/maintenance"), R"({"enabled":true})");
  ASSERT_EQ(on.status, 200) << on.body;
  int sent = 0;
  stack.StartChaos("blue", "error");
  Send(stack, 10, &sent);
  WaitUntilCounted(stack, sent);
  EXPECT_TRUE(stack.SlackMessages().empty()) << "failover is muted during maintenance";

  auto off = HttpPost(stack.PoolwatchUrl("/api/v1/maintenance"), R"({"enabled":false})");
  ASSERT_EQ(off.status, 200) << off.body;
  Send(stack, 2, &sent);
  ASSERT_TRUE(WaitUntil([&] { return Count(Received(stack), "failover:firing") == 1; }, kDeadline))
      << "a failover still going on when maintenance ends is announced once\n"
      << stack.poolwatch()->Output();
}

TEST(BlueGreen, AdminApiIsOffUnlessEnabled) {
  StackOptions options;
  options.slack = false;
  Stack stack(options);
  auto r = HttpPost(stack.PoolwatchUrl("/api/v1/maintenance"), R"({"enabled":true})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HttpGet(stack.PoolwatchUrl("/api/v1/maintenance")).body, "{\"maintenance\":false}\n");
}

}  // namespace
}  // namespace poolwatch::testing
