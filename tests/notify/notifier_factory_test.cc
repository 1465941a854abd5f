#include "alerting/notify/notifier_factory.h"

#include <gtest/gtest.h>

#include <sstream>

namespace poolwatch {
namespace {

class NullPoster final : public HttpPoster {
 public:
  HttpResult Post(const std::string&, const std::string&, const std::string&,
                  std::chrono::milliseconds) override {
    return {200, "", "", ""};
  }
};

std::vector<std::string> Names(const std::vector<std::unique_ptr<Notifier>>& notifiers) {
  std::vector<std::string> out;
  for (const auto& n : notifiers) out.emplace_back(n->Name());
  return out;
}

TEST(BuildNotifiers, alertmanagers_alone_replace_the_console_and_are_named_apart) {
  NotifyConfig notify;
  const NotifierContext context{"node-a", "", {}, nullptr, "", false};
  notify.alertmanager_urls = {"http://am-1:9093", "http://am-2:9093"};
  NullPoster poster;
  std::ostringstream console;
  auto notifiers = BuildNotifiers(notify, context, poster, console);
  EXPECT_EQ(Names(notifiers), (std::vector<std::string>{"alertmanager-1", "alertmanager-2"}));
  EXPECT_EQ(notifiers[1]->Destination(), "alertmanager-2 http://am-2:9093/<redacted>");

  notify.alertmanager_urls = {"http://am:9093"};
  notify.slack_webhook_url = "https://hooks.slack.com/services/T/B/X";
  EXPECT_EQ(Names(BuildNotifiers(notify, context, poster, console)),
            (std::vector<std::string>{"slack", "alertmanager"}));
  notify = {};
  EXPECT_EQ(Names(BuildNotifiers(notify, context, poster, console)),
            (std::vector<std::string>{"console"}));
}

// What the Slack and webhook notifiers posted, to see the instance reach the wire.
class RecordingPoster final : public HttpPoster {
 public:
  HttpResult Post(const std::string&, const std::string& body, const std::string&,
                  std::chrono::milliseconds) override {
    bodies.push_back(body);
    return {200, "ok", "", ""};
  }
  std::vector<std::string> bodies;
};

TEST(BuildNotifiers, every_message_names_the_instance_that_sent_it) {
  NotifyConfig notify;
  const NotifierContext context{"lb-3.example", "", {}, nullptr, "", false};
  notify.slack_webhook_url = "https://hooks.slack.com/services/T/B/X";
  notify.webhook_url = "https://receiver.example/hook";
  notify.console = true;
  RecordingPoster poster;
  std::ostringstream console;
  auto notifiers = BuildNotifiers(notify, context, poster, console);
  ASSERT_EQ(Names(notifiers), (std::vector<std::string>{"slack", "webhook", "console"}));
  Notification n;
  n.rule = "failover";
  n.title = "FAILOVER";
  n.summary = "Pool failover detected!";
  for (auto& notifier : notifiers) {
    EXPECT_EQ(notifier->Send(n, std::chrono::seconds(1)).outcome, DeliveryResult::kDelivered);
  }
  ASSERT_EQ(poster.bodies.size(), 2u);
  EXPECT_NE(poster.bodies[0].find("*Instance*\\nlb-3.example"), std::string::npos)
      << poster.bodies[0];
  EXPECT_NE(poster.bodies[1].find("\"instance\":\"lb-3.example\""), std::string::npos)
      << poster.bodies[1];
  EXPECT_NE(console.str().find("• Instance: lb-3.example\n"), std::string::npos) << console.str();
}

TEST(ChangedNotifierSettings, names_the_changed_keys_and_never_their_values) {
  NotifyConfig running;
  running.webhook_url = "https://receiver.example/hook?token=OLDSECRET";
  NotifyConfig fresh = running;
  EXPECT_TRUE(ChangedNotifierSettings(running, fresh).empty());
  fresh.webhook_url = "https://receiver.example/hook?token=NEWSECRET";
  fresh.slack_webhook_url = "https://hooks.slack.com/services/T/B/SECRET";
  fresh.timeout = std::chrono::seconds(3);
  fresh.default_notifiers = {"slack"};  // applied to the rules, which do reload
  std::vector<std::string> changed = ChangedNotifierSettings(running, fresh);
  EXPECT_EQ(changed, (std::vector<std::string>{"notify.slack_webhook_url", "notify.webhook_url",
                                               "notify.timeout"}));
  for (const std::string& key : changed) EXPECT_EQ(key.find("SECRET"), std::string::npos);
}

TEST(GeneratorUrl, is_the_configured_one_or_points_at_this_nodes_status_page) {
  NotifyConfig notify;
  EXPECT_EQ(GeneratorUrl(notify, "node-a", {"0.0.0.0:10090"}), "http://node-a:10090/");
  EXPECT_EQ(GeneratorUrl(notify, "node-a", {":0"}), "");
  EXPECT_EQ(GeneratorUrl(notify, "", {"0.0.0.0:10090"}), "");
  notify.generator_url = "https://poolwatch.node-a.example/";
  EXPECT_EQ(GeneratorUrl(notify, "node-a", {":0"}), "https://poolwatch.node-a.example/");
}

}  // namespace
}  // namespace poolwatch
