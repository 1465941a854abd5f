// Which notifiers a notification reaches: the rule's `notify` list (by notifier kind) and,
// for transitions the cooldown held back from people, only the notifiers that mirror state.

#include <gtest/gtest.h>

#include <sstream>

#include "alerting/notify/alertmanager_notifier.h"
#include "alerting/notify/console_notifier.h"
#include "alerting/notify/dispatcher.h"
#include "alerting/notify/slack_notifier.h"
#include "alerting/notify/webhook_notifier.h"
#include "tests/notify/notify_fakes.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using testing::FakeClock;
using testing::FakeNotifier;
using testing::FakePoster;
using testing::MakeNotification;
using testing::MetricValue;
using testing::RunUntilIdle;
using testing::Scrape;

class DispatcherRoutingTest : public ::testing::Test {
 protected:
  DispatcherRoutingTest() {
    slack_ = new FakeNotifier("slack", &clock_);
    console_ = new FakeNotifier("console", &clock_);
    // Two Alertmanagers: one kind, two notifiers, as BuildNotifiers names them.
    for (const char* name : {"alertmanager-1", "alertmanager-2"}) {
      auto* am = new FakeNotifier(name, &clock_);
      am->kind = "alertmanager";
      am->mirrors_state = true;
      alertmanagers_.push_back(am);
    }
    DispatcherOptions options;
    options.registry = &registry_;
    options.log = [](std::string_view) {};
    options.clock = &clock_;
    options.start_worker = false;
    std::vector<std::unique_ptr<Notifier>> owned;
    owned.emplace_back(slack_);
    owned.emplace_back(console_);
    for (FakeNotifier* am : alertmanagers_) owned.emplace_back(am);
    dispatcher_ = std::make_unique<Dispatcher>(std::move(owned), std::move(options));
  }

  static Notification To(std::string title, std::vector<std::string> kinds) {
    Notification n = MakeNotification(std::move(title));
    n.notifiers = std::move(kinds);
    return n;
  }

  FakeClock clock_;
  prometheus::Registry registry_;
  FakeNotifier* slack_ = nullptr;
  FakeNotifier* console_ = nullptr;
  std::vector<FakeNotifier*> alertmanagers_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

TEST_F(DispatcherRoutingTest, a_notification_goes_only_to_the_kinds_its_rule_names) {
  dispatcher_->Enqueue(To("everyone", {}));
  dispatcher_->Enqueue(To("alertmanager only", {"alertmanager"}));
  dispatcher_->Enqueue(To("slack and console", {"slack", "console"}));
  ASSERT_TRUE(RunUntilIdle(*dispatcher_, clock_));

  using Titles = std::vector<std::string>;
  EXPECT_EQ(slack_->Titles(), (Titles{"everyone", "slack and console"}));
  EXPECT_EQ(console_->Titles(), (Titles{"everyone", "slack and console"}));
  for (FakeNotifier* am : alertmanagers_) {
    EXPECT_EQ(am->Titles(), (Titles{"everyone", "alertmanager only"})) << am->Name();
  }
  EXPECT_EQ(dispatcher_->QueueLength(), 0u) << "finished once every routed notifier is done";
  EXPECT_EQ(MetricValue(Scrape(registry_), "poolwatch_notifications_total",
                        {{"notifier", "slack"}, {"result", "delivered"}}),
            2);
}

TEST_F(DispatcherRoutingTest, a_transition_held_back_by_the_cooldown_reaches_only_state_mirrors) {
  Notification held = MakeNotification("re-fired in cooldown");
  held.state_only = true;
  dispatcher_->Enqueue(held);
  ASSERT_TRUE(RunUntilIdle(*dispatcher_, clock_));
  EXPECT_TRUE(slack_->Titles().empty());
  EXPECT_TRUE(console_->Titles().empty());
  for (FakeNotifier* am : alertmanagers_) {
    EXPECT_EQ(am->Titles(), std::vector<std::string>{"re-fired in cooldown"}) << am->Name();
  }
}

TEST_F(DispatcherRoutingTest, a_notification_routed_to_no_notifier_is_not_queued) {
  // A rule that notifies Slack only, in cooldown: nobody mirrors its state.
  Notification held = To("slack only, held", {"slack"});
  held.state_only = true;
  dispatcher_->Enqueue(held);
  EXPECT_EQ(dispatcher_->QueueLength(), 0u);
  EXPECT_FALSE(dispatcher_->RunDue().has_value());
  EXPECT_TRUE(dispatcher_->RecentDeliveries().empty());
}

TEST(NotifierKind, is_what_a_notify_list_names_whatever_the_notifiers_name) {
  FakePoster poster;
  SlackOptions slack;
  slack.name = "slack-ops";
  EXPECT_EQ(SlackNotifier("https://hooks.slack.com/services/T/B/x", poster, slack).Kind(), "slack");
  EXPECT_EQ(WebhookNotifier("https://example.com/hook", poster, "webhook-2").Kind(), "webhook");
  std::ostringstream out;
  EXPECT_EQ(ConsoleNotifier(out).Kind(), "console");
  AlertmanagerOptions am;
  am.name = "alertmanager-2";
  am.start_resender = false;
  AlertmanagerNotifier alertmanager("http://am:9093", poster, am);
  EXPECT_EQ(alertmanager.Kind(), "alertmanager");
  EXPECT_TRUE(alertmanager.MirrorsState());
  EXPECT_FALSE(ConsoleNotifier(out).MirrorsState());
}

}  // namespace
}  // namespace poolwatch
