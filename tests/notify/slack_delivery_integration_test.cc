// Real libcurl, SlackNotifier and Dispatcher against tests/support/slack_standin.py on
// 127.0.0.1, which answers 200, 429 with Retry-After, 500, 400 with a body, and hangs.

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alerting/notify/dispatcher.h"
#include "alerting/notify/http_poster.h"
#include "alerting/notify/slack_app_notifier.h"
#include "alerting/notify/slack_notifier.h"
#include "tests/notify/notify_fakes.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::LogCapture;
using testing::MakeNotification;
using testing::MetricValue;
using testing::Scrape;

class SlackStandin {
 public:
  explicit SlackStandin(const testing::TempDir& dir)
      : process_(
            {"python3", std::string(POOLWATCH_SOURCE_DIR) + "/tests/support/slack_standin.py", "0"},
            dir / "slack_standin.log") {
    testing::WaitUntil(
        [&] {
          std::string out = process_.Output();
          size_t pos = out.find("PORT ");
          if (pos == std::string::npos || out.find('\n', pos) == std::string::npos) return false;
          port_ = std::atoi(out.c_str() + pos + 5);
          return true;
        },
        10s);
  }

  int port() const { return port_; }
  std::string Base() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void SetMode(const json& mode) {
    auto response = testing::HttpPost(Base() + "/_mode", mode.dump());
    ASSERT_EQ(response.status, 200) << response.body << response.error;
  }

  json Messages() {
    auto response = testing::HttpGet(Base() + "/_messages");
    if (response.status != 200) return json::array();
    return json::parse(response.body);
  }

  json Received() {
    auto response = testing::HttpGet(Base() + "/_received");
    if (response.status != 200) return json::array();
    return json::parse(response.body);
  }

 private:
  testing::Process process_;
  int port_ = 0;
};

// The header text of a Slack payload the stand-in recorded: "🚨 M1" → "M1".
std::string TitleOf(const json& delivery) {
  const json& payload = delivery.at("json");
  std::string header = payload.at("attachments").at(0).at("blocks").at(0).at("text").at("text");
  return header.substr(header.find(' ') + 1);
}

std::vector<std::string> TitlesWithStatus(const json& received, int status) {
  std::vector<std::string> out;
  for (const auto& delivery : received) {
    if (delivery.at("status") == status) out.push_back(TitleOf(delivery));
  }
  return out;
}

std::vector<json> AttemptsFor(const json& received, const std::string& title) {
  std::vector<json> out;
  for (const auto& delivery : received) {
    if (TitleOf(delivery) == title) out.push_back(delivery);
  }
  return out;
}

TEST(SlackDeliveryIntegration, delivers_in_order_through_429_500_400_and_a_hang_without_blocking) {
  // Loopback must not go through a proxy the environment may name.
  setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  setenv("no_proxy", "127.0.0.1,localhost", 1);
  const auto test_start = std::chrono::steady_clock::now();

  testing::TempDir dir;
  SlackStandin standin(dir);
  ASSERT_GT(standin.port(), 0) << "stand-in did not start";
  const std::string secret = "T0INTEG/B0INTEG/INTEGRATIONSECRET";
  const std::string webhook = standin.Base() + "/services/" + secret;

  CurlHttpPoster poster;
  SlackOptions slack_options;
  slack_options.min_interval = 20ms;  // Slack's 1 s would make 100 messages take 100 s here
  std::vector<std::unique_ptr<Notifier>> notifiers;
  notifiers.push_back(std::make_unique<SlackNotifier>(webhook, poster, slack_options));

  LogCapture log;
  prometheus::Registry registry;
  DispatcherOptions options;
  options.registry = &registry;
  options.log = log.Sink();
  options.attempt_timeout = 1000ms;
  options.backoff_base = 200ms;
  options.backoff_cap = 1000ms;
  Dispatcher dispatcher(std::move(notifiers), options);

  // One alert per message: a later message for the same alert would supersede one that failed.
  auto alert = [](const std::string& title) {
    Notification n = MakeNotification(title);
    n.labels = {{"message", title}};
    return n;
  };

  auto delivered = [&](const std::string& title) {
    return [&standin, title] {
      auto ok = TitlesWithStatus(standin.Received(), 200);
      return std::find(ok.begin(), ok.end(), title) != ok.end();
    };
  };

  // 200 ok.
  dispatcher.Enqueue(alert("M1"));
  ASSERT_TRUE(testing::WaitUntil(delivered("M1"), 5s));

  // 429 with Retry-After: 1, then ok.
  standin.SetMode({{"mode", "429"}, {"retry_after", 1}, {"count", 1}});
  dispatcher.Enqueue(alert("M2"));
  ASSERT_TRUE(testing::WaitUntil(delivered("M2"), 5s));

  // 500 twice, then ok.
  standin.SetMode({{"mode", "500"}, {"count", 2}});
  dispatcher.Enqueue(alert("M3"));
  ASSERT_TRUE(testing::WaitUntil(delivered("M3"), 5s));

  // 400 invalid_payload: given up at once, and the next message still goes out.
  standin.SetMode({{"mode", "400"}, {"body", "invalid_payload"}, {"count", 1}});
  dispatcher.Enqueue(alert("M4"));
  dispatcher.Enqueue(alert("M5"));
  ASSERT_TRUE(testing::WaitUntil(delivered("M5"), 5s));

  // A hang longer than the 1 s client timeout. While the worker is stuck in it, the caller
  // enqueues 100 more and must not wait.
  standin.SetMode({{"mode", "hang"}, {"count", 1}, {"hang_seconds", 5}});
  dispatcher.Enqueue(alert("M6"));
  ASSERT_TRUE(testing::WaitUntil(
      [&] {
        json received = standin.Received();
        return !received.empty() && received.back().at("mode") == "hang";
      },
      5s));
  const auto enqueue_start = std::chrono::steady_clock::now();
  // Appended rather than "M" + …, which GCC 12 flags falsely (-Wrestrict).
  for (int i = 7; i <= 106; ++i) {
    dispatcher.Enqueue(alert(std::string("M").append(std::to_string(i))));
  }
  const auto enqueue_took = std::chrono::steady_clock::now() - enqueue_start;
  EXPECT_LT(enqueue_took, 100ms) << "Enqueue() waited for Slack";
  ASSERT_TRUE(testing::WaitUntil(delivered("M106"), 10s));
  EXPECT_EQ(dispatcher.Shutdown(2s), 0u);

  const json received = standin.Received();
  std::vector<std::string> expected = {"M1", "M2", "M3", "M5"};
  for (int i = 6; i <= 106; ++i) expected.push_back("M" + std::to_string(i));
  EXPECT_EQ(TitlesWithStatus(received, 200), expected) << "in order, each exactly once";

  // Every attempt was a proper Slack payload.
  for (const auto& delivery : received) {
    EXPECT_EQ(delivery.at("content_type"), "application/json");
    EXPECT_TRUE(delivery.at("json").contains("text"));
    EXPECT_EQ(delivery.at("path"), "/services/" + secret);
  }

  auto m2 = AttemptsFor(received, "M2");
  ASSERT_EQ(m2.size(), 2u);
  EXPECT_EQ(m2[0].at("status"), 429);
  EXPECT_GE(m2[1].at("time").get<double>() - m2[0].at("time").get<double>(), 0.99)
      << "Retry-After: 1 was honoured";
  auto m3 = AttemptsFor(received, "M3");
  ASSERT_EQ(m3.size(), 3u);
  EXPECT_EQ(m3[0].at("status"), 500);
  EXPECT_EQ(m3[1].at("status"), 500);
  auto m4 = AttemptsFor(received, "M4");
  ASSERT_EQ(m4.size(), 1u) << "a 400 is not retried";
  EXPECT_EQ(m4[0].at("status"), 400);
  auto m6 = AttemptsFor(received, "M6");
  ASSERT_EQ(m6.size(), 2u);
  EXPECT_EQ(m6[0].at("mode"), "hang");
  EXPECT_GE(m6[1].at("time").get<double>() - m6[0].at("time").get<double>(), 0.99)
      << "the hang ended by the client's 1 s timeout";

  // The 100 queued behind the hang went out no faster than the rate limit allows.
  auto m7 = AttemptsFor(received, "M7");
  auto m106 = AttemptsFor(received, "M106");
  ASSERT_EQ(m7.size(), 1u);
  ASSERT_EQ(m106.size(), 1u);
  EXPECT_GE(m106[0].at("time").get<double>() - m7[0].at("time").get<double>(), 99 * 0.019);

  const std::string logs = log.All();
  EXPECT_NE(logs.find("rejected, not retrying: HTTP 400: invalid_payload"), std::string::npos)
      << logs;
  EXPECT_NE(logs.find("HTTP 429"), std::string::npos) << logs;
  EXPECT_NE(logs.find("network error"), std::string::npos) << logs;
  const std::string metrics = Scrape(registry);
  for (const std::string& output : {logs, metrics}) {
    EXPECT_EQ(output.find("INTEGRATIONSECRET"), std::string::npos) << output;
    EXPECT_EQ(output.find("T0INTEG"), std::string::npos) << output;
  }
  for (const auto& record : dispatcher.RecentDeliveries()) {
    EXPECT_EQ(record.error.find("INTEGRATIONSECRET"), std::string::npos) << record.error;
  }

  auto total = [&](const std::string& result) {
    return MetricValue(metrics, "poolwatch_notifications_total",
                       {{"notifier", "slack"}, {"result", result}});
  };
  EXPECT_EQ(total("delivered"), 105);
  EXPECT_EQ(total("failed"), 1);
  EXPECT_EQ(total("retried"), 4);  // one 429, two 500s, one timeout
  EXPECT_EQ(total("dropped"), 0);
  EXPECT_EQ(MetricValue(metrics, "poolwatch_notification_retries_total", {{"notifier", "slack"}}),
            4);
  EXPECT_EQ(MetricValue(metrics, "poolwatch_notification_delivery_seconds_count",
                        {{"notifier", "slack"}}),
            105);
  EXPECT_LT(std::chrono::steady_clock::now() - test_start, 20s);
}

// The stand-in's Web API (chat.postMessage, chat.update) through real libcurl and the Slack app
// notifier: the bearer token is checked, ts and thread_ts are recorded, and its ratelimited,
// 429, message_not_found, invalid_auth and hang answers come out as the notifier expects.
TEST(SlackAppDeliveryIntegration, the_stand_ins_web_api_answers_as_slack_does) {
  setenv("NO_PROXY", "127.0.0.1,localhost", 1);
  setenv("no_proxy", "127.0.0.1,localhost", 1);
  testing::TempDir dir;
  SlackStandin standin(dir);
  ASSERT_GT(standin.port(), 0) << "stand-in did not start";
  CurlHttpPoster poster;
  SlackAppOptions options;
  options.api_url = standin.Base() + "/api";
  options.channel = "#ops";
  SlackAppNotifier app("xoxb-standin-token", poster, options);
  const TimePoint start = Clock::from_time_t(1761920625);
  Notification firing = MakeNotification("FAILOVER");
  firing.at = start;
  Notification resolved = MakeNotification("FAILOVER RESOLVED", AlertStatus::kResolved);
  resolved.at = start + 4min;

  ASSERT_EQ(app.Send(firing, 2s).outcome, DeliveryResult::kDelivered);
  json messages = standin.Messages();
  ASSERT_EQ(messages.size(), 1u);
  const std::string ts = messages[0]["ts"];
  EXPECT_EQ(messages[0]["channel"], "C0STANDIN");

  // ok:false ratelimited with Retry-After, then HTTP 429 with Retry-After.
  standin.SetMode({{"mode", "ratelimited"}, {"retry_after", 3}, {"count", 1}});
  DeliveryResult limited = app.Send(resolved, 2s);
  EXPECT_EQ(limited.outcome, DeliveryResult::kRetryable);
  EXPECT_EQ(limited.retry_after, 3000ms);
  standin.SetMode({{"mode", "429"}, {"retry_after", 2}, {"count", 1}});
  limited = app.Send(resolved, 2s);
  EXPECT_EQ(limited.outcome, DeliveryResult::kRetryable);
  EXPECT_EQ(limited.http_status, 429);
  EXPECT_EQ(limited.retry_after, 2000ms);
  // A hang: the attempt times out and may be retried.
  standin.SetMode({{"mode", "hang"}, {"hang_seconds", 3}, {"count", 1}});
  EXPECT_EQ(app.Send(resolved, 300ms).outcome, DeliveryResult::kRetryable);

  ASSERT_EQ(app.Send(resolved, 2s).outcome, DeliveryResult::kDelivered);
  messages = standin.Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0]["ts"], ts);
  EXPECT_GE(messages[0]["updates"], 1);
  EXPECT_EQ(messages[0]["body"]["attachments"][0]["color"], kSlackColorResolved);
  ASSERT_EQ(messages[0]["replies"].size(), 1u) << "the reply once, whatever the retries";
  EXPECT_EQ(messages[0]["replies"][0]["thread_ts"], ts);

  // message_not_found on the update: a new top message, the reply under it.
  Notification again = MakeNotification("FAILOVER");
  again.at = start + 2h;
  ASSERT_EQ(app.Send(again, 2s).outcome, DeliveryResult::kDelivered);
  standin.SetMode({{"mode", "message_not_found"}, {"count", 1}, {"methods", {"chat.update"}}});
  Notification repeat = again;
  repeat.at = start + 2h + 5min;
  ASSERT_EQ(app.Send(repeat, 2s).outcome, DeliveryResult::kDelivered);
  messages = standin.Messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[2]["replies"].size(), 1u);
  EXPECT_EQ(messages[1]["replies"].size(), 0u);

  // A wrong token: invalid_auth, permanent; every call so far carried the right one.
  for (const json& call : standin.Received()) EXPECT_TRUE(call["authorized"].get<bool>());
  SlackAppNotifier wrong("xoxb-wrong-token", poster, options);
  DeliveryResult refused = wrong.Send(firing, 2s);
  EXPECT_EQ(refused.outcome, DeliveryResult::kPermanent);
  EXPECT_EQ(refused.error, "chat.postMessage: invalid_auth");
  EXPECT_FALSE(standin.Received().back()["authorized"].get<bool>());
}

}  // namespace
}  // namespace poolwatch
