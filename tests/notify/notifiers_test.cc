#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "alerting/notify/console_notifier.h"
#include "alerting/notify/redact.h"
#include "alerting/notify/slack_notifier.h"
#include "alerting/notify/webhook_notifier.h"
#include "tests/notify/notify_fakes.h"

namespace poolwatch {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakePoster;
using testing::MakeNotification;

constexpr const char* kWebhook =
    "https://hooks.slack.com/services/T0000SECRET/B0000SECRET/QQQQQQQQQQQQQQQQSECRET";

TEST(RedactUrl, keeps_scheme_and_host_and_hides_path_query_and_user_info) {
  EXPECT_EQ(RedactUrl(kWebhook), "https://hooks.slack.com/<redacted>");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:8080/hook?token=abc"), "http://127.0.0.1:8080/<redacted>");
  EXPECT_EQ(RedactUrl("https://user:pass@example.com/x"), "https://example.com/<redacted>");
  EXPECT_EQ(RedactUrl("https://example.com"), "https://example.com");
  EXPECT_EQ(RedactUrl("https://example.com/"), "https://example.com");
  EXPECT_EQ(RedactUrl("https://example.com?k=v"), "https://example.com/<redacted>");
  EXPECT_EQ(RedactUrl("not a url /services/T/B/X"), "<redacted>");
  EXPECT_EQ(RedactUrl(""), "<redacted>");
}

TEST(ScrubSecret, removes_the_url_and_its_secret_parts_wherever_they_appear) {
  std::string text = std::string("POST ") + kWebhook + " failed; path /services/T0000SECRET/" +
                     "B0000SECRET/QQQQQQQQQQQQQQQQSECRET again";
  std::string scrubbed = ScrubSecret(text, kWebhook);
  EXPECT_EQ(scrubbed.find("SECRET"), std::string::npos) << scrubbed;
  EXPECT_NE(scrubbed.find("https://hooks.slack.com/<redacted>"), std::string::npos) << scrubbed;
  EXPECT_EQ(ScrubSecret("login as user:pass failed", "https://user:pass@h/x"),
            "login as <redacted> failed");
  EXPECT_EQ(ScrubSecret("nothing to hide", kWebhook), "nothing to hide");
  EXPECT_EQ(ScrubSecret("token QQQQQQQQQQQQQQQQSECRET expired", kWebhook),
            "token <redacted> expired");
  EXPECT_EQ(ScrubSecret("no services today", kWebhook), "no services today");
}

TEST(ConsoleNotifier, writes_one_readable_block_per_alert_with_a_separator) {
  std::ostringstream out;
  ConsoleNotifier console(out);
  Notification n = MakeNotification("FAILOVER");
  DeliveryResult result = console.Send(n, 1s);
  EXPECT_EQ(result.outcome, DeliveryResult::kDelivered);
  console.Send(MakeNotification("FAILOVER RESOLVED", AlertStatus::kResolved), 1s);
  // One marker before the plain title, the same as Slack's header.
  EXPECT_EQ(out.str(), "----- FIRING failover{pool=blue} -----\n🚨 " + n.Text() +
                           "----- RESOLVED failover{pool=blue} -----\n✅ " +
                           MakeNotification("FAILOVER RESOLVED", AlertStatus::kResolved).Text());
  EXPECT_EQ(out.str().rfind("🚨 FAILOVER\nPool failover detected!\n", std::string::npos),
            std::string("----- FIRING failover{pool=blue} -----\n").size());
  EXPECT_EQ(console.MinInterval(), 0ms);
}

TEST(ConsoleNotifier, reports_a_broken_stream_as_a_permanent_failure) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  ConsoleNotifier console(out);
  DeliveryResult result = console.Send(MakeNotification("X"), 1s);
  EXPECT_EQ(result.outcome, DeliveryResult::kPermanent);
  EXPECT_EQ(result.error, "console write failed");
}

TEST(BuildWebhookPayload, carries_every_notification_field_in_a_stable_shape) {
  Notification n = MakeNotification("FAILOVER");
  n.suppressed = 2;
  json payload = BuildWebhookPayload(n);
  EXPECT_EQ(payload["rule"], "failover");
  EXPECT_EQ(payload["status"], "firing");
  EXPECT_EQ(payload["labels"], (json{{"pool", "blue"}}));
  EXPECT_EQ(payload["severity"], "critical");
  EXPECT_EQ(payload["title"], "FAILOVER");
  EXPECT_EQ(payload["summary"], "Pool failover detected!");
  EXPECT_EQ(payload["fields"], json::parse(R"([{"name":"Previous","value":"blue"},
      {"name":"Current","value":"green"},{"name":"Release","value":"v1.0.0"}])"));
  EXPECT_EQ(payload["action"], "Check health of blue pool");
  EXPECT_EQ(payload["at"], "2025-10-31T14:23:45Z");
  EXPECT_EQ(payload["suppressed"], 2);
  EXPECT_EQ(payload["text"], n.Text());
  EXPECT_EQ(payload["instance"], "");
  EXPECT_EQ(BuildWebhookPayload(MakeNotification("R", AlertStatus::kResolved))["status"],
            "resolved");
}

// Ten nodes posting to one channel or receiver must be told apart.
TEST(Notifiers, say_which_instance_sent_the_message) {
  const Notification n = MakeNotification("FAILOVER");

  FakePoster poster;
  WebhookNotifier webhook("http://receiver.example/hook", poster, "webhook", "lb-7:9113");
  ASSERT_EQ(webhook.Send(n, 1s).outcome, DeliveryResult::kDelivered);
  EXPECT_EQ(json::parse(poster.calls.at(0).body)["instance"], "lb-7:9113");

  SlackOptions options;
  options.instance = "lb-7:9113";
  SlackNotifier slack(kWebhook, poster, options);
  ASSERT_EQ(slack.Send(n, 1s).outcome, DeliveryResult::kDelivered);
  const json fields = json::parse(poster.calls.at(1).body)["attachments"][0]["blocks"][1]["fields"];
  ASSERT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields[3]["text"], "*Instance*\nlb-7:9113") << "after the alert's own fields";
  EXPECT_EQ(BuildSlackPayload(n, {}).dump().find("Instance"), std::string::npos);

  std::ostringstream out;
  ConsoleNotifier console(out, "lb-7:9113");
  ASSERT_EQ(console.Send(n, 1s).outcome, DeliveryResult::kDelivered);
  EXPECT_NE(out.str().find("• Release: v1.0.0\n• Instance: lb-7:9113\n• Time: "), std::string::npos)
      << out.str();
  EXPECT_EQ(FormatConsoleBlock(n).find("Instance"), std::string::npos);
}

TEST(WebhookNotifier, posts_json_and_classifies_the_answer) {
  FakePoster poster;
  poster.script = {FakePoster::Status(202, ""), FakePoster::Status(503, "busy", "7")};
  WebhookNotifier webhook("http://receiver.example/hook?key=abc", poster);
  EXPECT_EQ(webhook.Name(), "webhook");
  EXPECT_EQ(webhook.Destination(), "webhook http://receiver.example/<redacted>");
  EXPECT_EQ(webhook.Send(MakeNotification("A"), 3s).outcome, DeliveryResult::kDelivered);
  DeliveryResult second = webhook.Send(MakeNotification("B"), 3s);
  EXPECT_EQ(second.outcome, DeliveryResult::kRetryable);
  EXPECT_EQ(second.retry_after, 7s);
  ASSERT_EQ(poster.calls.size(), 2u);
  EXPECT_EQ(poster.calls[0].content_type, "application/json");
  EXPECT_EQ(poster.calls[0].timeout, 3s);
  EXPECT_EQ(json::parse(poster.calls[1].body)["title"], "B");
}

TEST(SlackNotifier, posts_the_slack_payload_to_the_webhook_with_the_given_timeout) {
  FakePoster poster;
  SlackOptions options;
  options.runbook_url = "https://runbook.example/#{rule}";
  SlackNotifier slack(kWebhook, poster, options);
  Notification n = MakeNotification("FAILOVER");
  DeliveryResult result = slack.Send(n, 2500ms);
  EXPECT_EQ(result.outcome, DeliveryResult::kDelivered);
  EXPECT_EQ(result.http_status, 200);
  ASSERT_EQ(poster.calls.size(), 1u);
  EXPECT_EQ(poster.calls[0].url, kWebhook);
  EXPECT_EQ(poster.calls[0].content_type, "application/json");
  EXPECT_EQ(poster.calls[0].timeout, 2500ms);
  EXPECT_EQ(json::parse(poster.calls[0].body), BuildSlackPayload(n, options));
  EXPECT_EQ(slack.MinInterval(), 1000ms) << "Slack's documented one message per second";
  EXPECT_EQ(slack.Name(), "slack");
  EXPECT_EQ(slack.Destination(), "slack https://hooks.slack.com/<redacted>");
}

TEST(SlackNotifier, reports_slacks_error_body_and_never_the_webhook_url) {
  FakePoster poster;
  const std::string path = "/services/T0000SECRET/B0000SECRET/QQQQQQQQQQQQQQQQSECRET";
  poster.script = {
      FakePoster::NetworkError(std::string("Failed to connect to ") + kWebhook + ": refused"),
      FakePoster::Status(400, "invalid_payload"),
      FakePoster::Status(404, std::string("channel_not_found for ") + kWebhook),
      FakePoster::Status(500, "upstream " + path + " broke"),
  };
  SlackNotifier slack(kWebhook, poster);
  std::vector<DeliveryResult> results;
  for (int i = 0; i < 4; ++i) results.push_back(slack.Send(MakeNotification("X"), 1s));
  EXPECT_EQ(results[0].outcome, DeliveryResult::kRetryable);
  EXPECT_EQ(results[1].outcome, DeliveryResult::kPermanent);
  EXPECT_EQ(results[1].error, "HTTP 400: invalid_payload");
  EXPECT_NE(results[2].error.find("channel_not_found"), std::string::npos);
  EXPECT_EQ(results[3].outcome, DeliveryResult::kRetryable);
  for (const auto& r : results) {
    EXPECT_EQ(r.error.find("SECRET"), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find("/services/"), std::string::npos) << r.error;
  }
  EXPECT_NE(results[0].error.find("https://hooks.slack.com/<redacted>"), std::string::npos)
      << results[0].error;
}

}  // namespace
}  // namespace poolwatch
