#include "alerting/notify/dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "alerting/notify/slack_notifier.h"
#include "alerting/notify/webhook_notifier.h"
#include "tests/notify/notify_fakes.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::FakeNotifier;
using testing::FakePoster;
using testing::LogCapture;
using testing::MakeNotification;
using testing::MetricValue;
using testing::RunUntilIdle;
using testing::Scrape;

// A worker-less dispatcher on a fake clock: every test step is explicit and instant.
class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherOptions Options() {
    DispatcherOptions options;
    options.registry = &registry_;
    options.log = log_.Sink();
    options.clock = &clock_;
    options.random = [this] { return jitter_; };
    options.start_worker = false;
    return options;
  }

  // Builds a dispatcher over the given fakes; the test keeps raw pointers to inspect them.
  std::unique_ptr<Dispatcher> Make(std::vector<FakeNotifier*> notifiers,
                                   DispatcherOptions options) {
    std::vector<std::unique_ptr<Notifier>> owned;
    for (FakeNotifier* n : notifiers) owned.emplace_back(n);
    return std::make_unique<Dispatcher>(std::move(owned), std::move(options));
  }

  double Metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return MetricValue(Scrape(registry_), name, labels);
  }

  prometheus::Registry registry_;
  LogCapture log_;
  FakeClock clock_;
  double jitter_ = 0.5;
};

// The state file's outbox: what is not finished, and after shutdown what was abandoned, is
// exported as values and queued again by the next process.
TEST_F(DispatcherTest, exports_unfinished_and_abandoned_notifications_for_the_next_start) {
  auto* slack = new FakeNotifier("slack", &clock_);
  slack->fallback = FakeNotifier::Retryable("down");
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("A"));
  dispatcher->Enqueue(MakeNotification("B"));
  std::vector<std::string> titles;
  for (const Notification& n : dispatcher->ExportOutbox()) titles.push_back(n.title);
  EXPECT_EQ(titles, (std::vector<std::string>{"A", "B"}));

  EXPECT_EQ(dispatcher->Shutdown(0ms), 2u);
  std::vector<Notification> outbox = dispatcher->ExportOutbox();
  ASSERT_EQ(outbox.size(), 2u) << "abandoned, kept for the next start";

  auto* next_slack = new FakeNotifier("slack", &clock_);
  auto next = Make({next_slack}, Options());
  next->ImportOutbox(std::move(outbox));
  EXPECT_EQ(next->QueueLength(), 2u);
  ASSERT_TRUE(RunUntilIdle(*next, clock_));
  EXPECT_EQ(next_slack->Titles(), (std::vector<std::string>{"A", "B"}));
  EXPECT_TRUE(next->ExportOutbox().empty());
}

TEST_F(DispatcherTest, delivers_each_notification_to_every_notifier) {
  auto* slack = new FakeNotifier("slack", &clock_);
  auto* console = new FakeNotifier("console", &clock_);
  auto dispatcher = Make({slack, console}, Options());
  dispatcher->Enqueue(MakeNotification("A"));
  dispatcher->Enqueue(MakeNotification("B"));
  EXPECT_EQ(dispatcher->QueueLength(), 2u);
  EXPECT_EQ(Metric("poolwatch_notification_queue_length"), 2);

  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(slack->Titles(), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(console->Titles(), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(dispatcher->QueueLength(), 0u);
  EXPECT_EQ(Metric("poolwatch_notification_queue_length"), 0);
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "delivered"}}), 2);
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "console"}, {"result", "delivered"}}),
      2);
  EXPECT_EQ(log_.Lines().size(), 0u) << "a clean delivery is not worth a log line";
}

TEST_F(DispatcherTest, retries_with_full_jitter_backoff_that_doubles_and_stops_at_the_cap) {
  auto* slack = new FakeNotifier("slack", &clock_);
  for (int i = 0; i < 8; ++i)
    slack->script.push_back(FakeNotifier::Retryable("HTTP 500: internal_error"));
  jitter_ = 0.5;                               // every wait is half its ceiling
  auto dispatcher = Make({slack}, Options());  // base 1 s, cap 60 s, logs 8 attempts one by one
  dispatcher->Enqueue(MakeNotification("A"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));

  ASSERT_EQ(slack->attempts.size(), 9u) << "retried past max_attempts until delivered";
  std::vector<long long> gaps;
  for (size_t i = 1; i < slack->attempts.size(); ++i) {
    gaps.push_back((slack->attempts[i].at - slack->attempts[i - 1].at).count());
  }
  // Ceilings 1, 2, 4, 8, 16, 32, 60 (capped) seconds; half of each.
  EXPECT_EQ(gaps, (std::vector<long long>{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000}));
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "retried"}}),
            8);
  EXPECT_EQ(Metric("poolwatch_notification_retries_total", {{"notifier", "slack"}}), 8);
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "failed"}}),
            0);
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "delivered"}}), 1);
  std::string log = log_.All();
  EXPECT_NE(log.find("attempt 1 for failover{pool=blue} (firing) failed: HTTP 500: "
                     "internal_error; retrying in 0.50s"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("attempt 8 for failover{pool=blue} (firing) failed: HTTP 500: internal_error; "
                     "retrying in 30.00s; retried until delivered or superseded"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("delivered failover{pool=blue} (firing) after 9 attempts"), std::string::npos)
      << log;
  auto records = dispatcher->RecentDeliveries();
  ASSERT_EQ(records.size(), 9u);
  EXPECT_EQ(ResultName(records.front().result), "retrying");
  EXPECT_EQ(records.front().error, "HTTP 500: internal_error");
  EXPECT_EQ(ResultName(records.back().result), "sent");
  EXPECT_EQ(records.back().attempt, 9);
}

// The audit's case: Slack is down for ten minutes during a failover. The page used to be given
// up on after 8 attempts (about two minutes) and, with no repeat_interval, never sent.
TEST_F(DispatcherTest, a_ten_minute_outage_delays_the_page_but_delivers_it_on_recovery) {
  auto* slack = new FakeNotifier("slack", &clock_);
  slack->fallback = FakeNotifier::Retryable("network error: Could not connect", 0);
  jitter_ = 1.0;  // the longest waits: the worst case for how late the page arrives
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("PAGE"));
  while (clock_.Elapsed() < 10min) {
    auto next = dispatcher->RunDue();
    ASSERT_TRUE(next.has_value()) << "the page must still be waiting";
    clock_.AdvanceTo(*next);
  }
  EXPECT_EQ(dispatcher->QueueLength(), 1u);
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "failed"}}),
            0);
  const size_t failed_attempts = slack->attempts.size();
  EXPECT_GT(failed_attempts, 10u);
  EXPECT_LT(log_.Lines().size(), failed_attempts) << "a long outage is not logged per attempt";

  slack->fallback = FakeNotifier::Delivered();  // Slack is back
  const auto recovered = clock_.Elapsed();
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  ASSERT_EQ(slack->attempts.size(), failed_attempts + 1);
  EXPECT_EQ(slack->attempts.back().title, "PAGE");
  EXPECT_LE(slack->attempts.back().at - recovered, 60s) << "within one capped backoff";
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "delivered"}}), 1);
  EXPECT_EQ(dispatcher->QueueLength(), 0u);
  EXPECT_EQ(ResultName(dispatcher->RecentDeliveries().back().result), "sent");
}

// The Slack app's every notification is a thread reply: a receiver outage delays them all but
// supersedes none, and they arrive in order.
TEST_F(DispatcherTest, never_supersedes_for_a_notifier_that_needs_every_notification) {
  auto* slack = new FakeNotifier("slack", &clock_);
  slack->needs_every = true;
  slack->fallback = FakeNotifier::Retryable("ratelimited", 200, 2000ms);
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("FIRING"));
  dispatcher->RunDue();
  dispatcher->Enqueue(MakeNotification("REPEAT"));
  dispatcher->Enqueue(MakeNotification("RESOLVED", AlertStatus::kResolved));
  clock_.AdvanceTo(dispatcher->RunDue().value());
  dispatcher->RunDue();
  EXPECT_EQ(dispatcher->QueueLength(), 3u) << "nothing superseded while the receiver fails";

  slack->fallback = FakeNotifier::Delivered();
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(slack->Titles(),
            (std::vector<std::string>{"FIRING", "FIRING", "FIRING", "REPEAT", "RESOLVED"}));
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "superseded"}}),
      0);
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "delivered"}}), 3);
}

TEST_F(DispatcherTest, a_notification_with_nothing_to_send_is_counted_skipped_not_delivered) {
  auto* slack = new FakeNotifier("slack", &clock_);
  slack->script.push_back(DeliveryResult::NothingToSend());
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("FLAP"));
  dispatcher->Enqueue(MakeNotification("FIRING"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(slack->Titles(), (std::vector<std::string>{"FLAP", "FIRING"})) << "tried once each";
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "skipped"}}),
            1);
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "delivered"}}), 1);
  EXPECT_EQ(Metric("poolwatch_notification_delivery_seconds_count", {{"notifier", "slack"}}), 1)
      << "only what reached the receiver has a delivery time";
  ASSERT_EQ(dispatcher->RecentDeliveries().size(), 2u);
  EXPECT_EQ(dispatcher->RecentDeliveries()[0].result, DeliveryRecord::Result::kSkipped);
}

TEST_F(DispatcherTest, an_incident_note_goes_only_to_notifiers_that_keep_incident_threads) {
  auto* app = new FakeNotifier("slack", &clock_);
  app->needs_every = true;
  auto* console = new FakeNotifier("console", &clock_);
  auto* alertmanager = new FakeNotifier("alertmanager", &clock_);
  alertmanager->mirrors_state = true;
  auto dispatcher = Make({app, console, alertmanager}, Options());
  Notification note = MakeNotification("MAINTENANCE");
  note.incident_note = true;
  dispatcher->Enqueue(note);
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(app->Titles(), (std::vector<std::string>{"MAINTENANCE"}));
  EXPECT_TRUE(console->Titles().empty());
  EXPECT_TRUE(alertmanager->Titles().empty());
}

TEST_F(DispatcherTest, a_resolution_supersedes_a_firing_stuck_in_retries_and_keeps_the_order) {
  auto* slack = new FakeNotifier("slack", &clock_);
  auto* console = new FakeNotifier("console", &clock_);
  slack->fallback = FakeNotifier::Retryable("HTTP 503: service unavailable", 503);
  jitter_ = 1.0;
  auto dispatcher = Make({slack, console}, Options());
  dispatcher->Enqueue(MakeNotification("FIRING"));
  clock_.AdvanceTo(dispatcher->RunDue().value());
  clock_.AdvanceTo(dispatcher->RunDue().value());
  dispatcher->RunDue();  // the third attempt fails too; its retry is not due yet
  ASSERT_EQ(slack->Titles(), (std::vector<std::string>{"FIRING", "FIRING", "FIRING"}));

  Notification other = MakeNotification("OTHER");
  other.labels = {{"pool", "green"}};
  dispatcher->Enqueue(other);
  dispatcher->Enqueue(MakeNotification("RESOLVED", AlertStatus::kResolved));
  EXPECT_EQ(dispatcher->QueueLength(), 2u) << "the stuck firing is no longer waiting";
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "superseded"}}),
      1);
  const auto backoff_left = dispatcher->RunDue().value() - clock_.Now();
  EXPECT_GT(backoff_left, 0ms) << "the receiver's backoff still applies to the next one";

  slack->fallback = FakeNotifier::Delivered();
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(slack->Titles(),
            (std::vector<std::string>{"FIRING", "FIRING", "FIRING", "OTHER", "RESOLVED"}));
  EXPECT_EQ(console->Titles(), (std::vector<std::string>{"FIRING", "OTHER", "RESOLVED"}))
      << "a healthy notifier supersedes nothing";
  EXPECT_NE(log_.All().find("notify: slack: failover{pool=blue} (firing) not delivered after 3 "
                            "attempts, superseded by failover{pool=blue} (resolved)"),
            std::string::npos)
      << log_.All();
  bool recorded = false;
  for (const auto& r : dispatcher->RecentDeliveries()) {
    recorded |= r.notifier == "slack" && ResultName(r.result) == "superseded" &&
                r.status == AlertStatus::kFiring && r.attempt == 3;
  }
  EXPECT_TRUE(recorded);

  // The other way round: a new firing supersedes a resolution that failed, at once when it
  // is already waiting behind it.
  slack->script = {FakeNotifier::Retryable("HTTP 500")};
  dispatcher->Enqueue(MakeNotification("RESOLVED AGAIN", AlertStatus::kResolved));
  dispatcher->Enqueue(MakeNotification("FIRING AGAIN"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(slack->Titles().back(), "FIRING AGAIN");
  EXPECT_EQ(slack->Titles().size(), 7u) << "RESOLVED AGAIN tried once, then superseded";
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "superseded"}}),
      2);
  EXPECT_EQ(dispatcher->QueueLength(), 0u);
}

TEST_F(DispatcherTest, jitter_keeps_each_wait_between_zero_and_its_ceiling) {
  auto* slack = new FakeNotifier("slack", &clock_);
  for (int i = 0; i < 11; ++i) slack->script.push_back(FakeNotifier::Retryable("network error", 0));
  std::mt19937 engine(42);
  DispatcherOptions options = Options();
  options.random = [&engine] { return std::uniform_real_distribution<double>(0, 1)(engine); };
  auto dispatcher = Make({slack}, options);
  dispatcher->Enqueue(MakeNotification("A"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  ASSERT_EQ(slack->attempts.size(), 12u);
  for (size_t i = 1; i < slack->attempts.size(); ++i) {
    auto gap = slack->attempts[i].at - slack->attempts[i - 1].at;
    auto ceiling = std::min<std::chrono::milliseconds>(1000ms * (1LL << (i - 1)), 60000ms);
    EXPECT_GE(gap, 0ms);
    EXPECT_LE(gap, ceiling) << "retry " << i;
  }
}

TEST_F(DispatcherTest, waits_for_retry_after_on_429_instead_of_backing_off) {
  auto* slack = new FakeNotifier("slack", &clock_);
  slack->script = {FakeNotifier::Retryable("HTTP 429: rate_limited", 429, 7s)};
  jitter_ = 0.0;  // backoff alone would retry at once
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("A"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  ASSERT_EQ(slack->attempts.size(), 2u);
  EXPECT_EQ(slack->attempts[1].at - slack->attempts[0].at, 7s);
  EXPECT_NE(log_.All().find("retrying in 7.00s as asked by Retry-After"), std::string::npos)
      << log_.All();
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "delivered"}}), 1);
}

TEST_F(DispatcherTest, caps_an_absurd_retry_after) {
  auto* slack = new FakeNotifier("slack", &clock_);
  slack->script = {FakeNotifier::Retryable("HTTP 429", 429, 86400s)};
  DispatcherOptions options = Options();
  options.max_retry_after = 120s;
  auto dispatcher = Make({slack}, options);
  dispatcher->Enqueue(MakeNotification("A"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  ASSERT_EQ(slack->attempts.size(), 2u);
  EXPECT_EQ(slack->attempts[1].at - slack->attempts[0].at, 120s);
}

TEST_F(DispatcherTest, does_not_retry_a_permanent_4xx_and_logs_slacks_error_body) {
  FakePoster poster;
  poster.script = {FakePoster::Status(400, "invalid_payload")};
  std::vector<std::unique_ptr<Notifier>> notifiers;
  notifiers.push_back(std::make_unique<SlackNotifier>(
      "https://hooks.slack.com/services/T1/B1/SECRET", poster, SlackOptions{}));
  Dispatcher dispatcher(std::move(notifiers), Options());
  dispatcher.Enqueue(MakeNotification("BAD"));
  dispatcher.Enqueue(MakeNotification("GOOD"));
  ASSERT_TRUE(RunUntilIdle(dispatcher, clock_));

  ASSERT_EQ(poster.calls.size(), 2u) << "the rejected one is not retried; the next goes out";
  EXPECT_EQ(log_.Lines().size(), 1u) << log_.All();
  EXPECT_NE(log_.All().find("notify: slack: failover{pool=blue} (firing) rejected, not "
                            "retrying: HTTP 400: invalid_payload"),
            std::string::npos)
      << log_.All();
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "failed"}}),
            1);
  EXPECT_EQ(Metric("poolwatch_notification_retries_total", {{"notifier", "slack"}}), 0);
  auto records = dispatcher.RecentDeliveries();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(ResultName(records[0].result), "failed");
  EXPECT_EQ(records[0].http_status, 400);
  EXPECT_EQ(records[0].error, "HTTP 400: invalid_payload");
  EXPECT_EQ(ResultName(records[1].result), "sent");
}

TEST_F(DispatcherTest, drops_the_oldest_when_the_queue_is_full_and_counts_and_logs_it) {
  auto* slack = new FakeNotifier("slack", &clock_);
  DispatcherOptions options = Options();
  options.capacity = 3;
  auto dispatcher = Make({slack}, options);
  for (std::string title : {"1", "2", "3", "4", "5"}) {
    Notification n = MakeNotification(title);
    n.labels = {{"n", title}};
    dispatcher->Enqueue(n);
  }
  EXPECT_EQ(dispatcher->QueueLength(), 3u);
  EXPECT_EQ(Metric("poolwatch_notifications_dropped_total", {{"reason", "queue_full"}}), 2);
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "dropped"}}),
            2);
  auto lines = log_.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("queue full (capacity 3): dropped the oldest notification "
                          "failover{n=1} (firing)"),
            std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find("failover{n=2}"), std::string::npos) << lines[1];

  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(slack->Titles(), (std::vector<std::string>{"3", "4", "5"}));
  auto records = dispatcher->RecentDeliveries();
  EXPECT_EQ(ResultName(records[0].result), "dropped");
  EXPECT_EQ(records[0].key, "failover{n=1}");
}

TEST_F(DispatcherTest, an_overflow_during_an_attempt_drops_that_notification_instead_of_retrying) {
  auto* slack = new FakeNotifier("slack", &clock_);
  DispatcherOptions options = Options();
  options.capacity = 1;
  auto dispatcher = Make({slack}, options);
  // While "A" is on the wire, "B" arrives and pushes it out of the one-slot queue.
  slack->script = {FakeNotifier::Retryable("HTTP 500")};
  slack->on_send = [&](const Notification& n) {
    if (n.title == "A") dispatcher->Enqueue(MakeNotification("B"));
  };
  dispatcher->Enqueue(MakeNotification("A"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(slack->Titles(), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(Metric("poolwatch_notifications_dropped_total", {{"reason", "queue_full"}}), 1);
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "dropped"}}),
            1);
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "retried"}}),
            0);
  EXPECT_EQ(dispatcher->QueueLength(), 0u);
}

TEST_F(DispatcherTest, keeps_order_per_notifier_while_its_head_is_retried_and_others_go_on) {
  auto* slack = new FakeNotifier("slack", &clock_);
  auto* console = new FakeNotifier("console", &clock_);
  slack->script = {FakeNotifier::Retryable("HTTP 502"), FakeNotifier::Retryable("HTTP 502")};
  jitter_ = 1.0;  // waits of 1 s then 2 s
  auto dispatcher = Make({slack, console}, Options());
  // Three alerts (a later one for the same alert would supersede the one being retried).
  for (std::string title : {"FIRING", "RESOLVED", "FIRING AGAIN"}) {
    Notification n = MakeNotification(title);
    n.labels = {{"alert", title}};
    dispatcher->Enqueue(n);
  }

  // The console is not held up by Slack's trouble.
  dispatcher->RunDue();
  EXPECT_EQ(console->Titles(), (std::vector<std::string>{"FIRING", "RESOLVED", "FIRING AGAIN"}));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(slack->Titles(),
            (std::vector<std::string>{"FIRING", "FIRING", "FIRING", "RESOLVED", "FIRING AGAIN"}));
  EXPECT_EQ(slack->attempts[3].at, 3000ms) << "RESOLVED waited for FIRING's retries";
}

TEST_F(DispatcherTest, spaces_attempts_by_the_notifiers_min_interval) {
  auto* slack = new FakeNotifier("slack", &clock_, 1000ms);
  auto* console = new FakeNotifier("console", &clock_);
  auto dispatcher = Make({slack, console}, Options());
  for (std::string title : {"1", "2", "3", "4"}) dispatcher->Enqueue(MakeNotification(title));

  auto next = dispatcher->RunDue();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(*next - FakeClock::kStart, 1000ms);
  EXPECT_EQ(console->attempts.size(), 4u) << "no limit on the console";
  EXPECT_EQ(slack->attempts.size(), 1u);
  clock_.Advance(999ms);
  dispatcher->RunDue();
  EXPECT_EQ(slack->attempts.size(), 1u) << "not a millisecond early";

  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  std::vector<long long> at;
  for (const auto& a : slack->attempts) at.push_back(a.at.count());
  EXPECT_EQ(at, (std::vector<long long>{0, 1000, 2000, 3000}));
}

TEST_F(DispatcherTest, a_retry_also_respects_the_min_interval) {
  auto* slack = new FakeNotifier("slack", &clock_, 1000ms);
  slack->script = {FakeNotifier::Retryable("HTTP 500")};
  jitter_ = 0.0;  // backoff says "now", the rate limit says "in a second"
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("A"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  ASSERT_EQ(slack->attempts.size(), 2u);
  EXPECT_EQ(slack->attempts[1].at, 1000ms);
}

TEST_F(DispatcherTest, shutdown_drains_until_the_deadline_then_counts_what_is_left) {
  auto* slack = new FakeNotifier("slack", &clock_, 1000ms);
  auto dispatcher = Make({slack}, Options());
  for (int i = 0; i < 10; ++i) dispatcher->Enqueue(MakeNotification(std::to_string(i)));

  size_t abandoned = dispatcher->Shutdown(3500ms);
  EXPECT_EQ(slack->Titles(), (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(abandoned, 6u);
  EXPECT_EQ(clock_.Elapsed(), 3500ms) << "gave up at the deadline, not later";
  EXPECT_EQ(slack->attempts[3].timeout, 500ms) << "the last attempt is cut to the time left";
  EXPECT_EQ(Metric("poolwatch_notifications_dropped_total", {{"reason", "shutdown"}}), 6);
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "dropped"}}),
            6);
  EXPECT_EQ(Metric("poolwatch_notification_queue_length"), 0);
  EXPECT_NE(log_.All().find("shutdown: gave up on 6 undelivered notifications, the oldest "
                            "failover{pool=blue} (firing)"),
            std::string::npos)
      << log_.All();

  EXPECT_EQ(dispatcher->Shutdown(10s), 6u) << "idempotent";
  dispatcher->Enqueue(MakeNotification("late"));
  EXPECT_EQ(Metric("poolwatch_notifications_dropped_total", {{"reason", "shutdown"}}), 7);
  EXPECT_EQ(slack->attempts.size(), 4u);
}

TEST_F(DispatcherTest, shutdown_returns_at_once_when_nothing_is_queued) {
  auto* slack = new FakeNotifier("slack", &clock_);
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("A"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  auto before = clock_.Elapsed();
  EXPECT_EQ(dispatcher->Shutdown(30s), 0u);
  EXPECT_EQ(clock_.Elapsed(), before);
  EXPECT_EQ(log_.Lines().size(), 0u);
}

TEST_F(DispatcherTest, measures_delivery_latency_from_enqueue) {
  auto* slack = new FakeNotifier("slack", &clock_);
  slack->script = {FakeNotifier::Retryable("HTTP 500")};
  jitter_ = 1.0;  // the retry comes 1 s later
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("A"));
  clock_.Advance(250ms);  // the worker was busy elsewhere
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_DOUBLE_EQ(Metric("poolwatch_notification_delivery_seconds_sum", {{"notifier", "slack"}}),
                   1.25);
  EXPECT_EQ(Metric("poolwatch_notification_delivery_seconds_count", {{"notifier", "slack"}}), 1);
}

TEST_F(DispatcherTest, keeps_only_the_most_recent_delivery_records) {
  auto* slack = new FakeNotifier("slack", &clock_);
  auto dispatcher = Make({slack}, Options());
  for (int i = 0; i < 60; ++i) dispatcher->Enqueue(MakeNotification(std::to_string(i)));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  auto records = dispatcher->RecentDeliveries();
  ASSERT_EQ(records.size(), 50u);
  EXPECT_EQ(records.back().notifier, "slack");
  EXPECT_EQ(records.back().rule, "failover");
  EXPECT_EQ(records.back().key, "failover{pool=blue}");
  EXPECT_EQ(records.back().at, FakeClock::kWallStart);
}

TEST_F(DispatcherTest, a_notifier_that_throws_fails_that_notification_and_the_rest_go_on) {
  auto* slack = new FakeNotifier("slack", &clock_);
  slack->on_send = [](const Notification& n) {
    if (n.title == "BOOM") throw std::runtime_error("bad alloc or worse");
  };
  auto dispatcher = Make({slack}, Options());
  dispatcher->Enqueue(MakeNotification("BOOM"));
  dispatcher->Enqueue(MakeNotification("FINE"));
  ASSERT_TRUE(RunUntilIdle(*dispatcher, clock_));
  EXPECT_EQ(Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "failed"}}),
            1);
  EXPECT_EQ(
      Metric("poolwatch_notifications_total", {{"notifier", "slack"}, {"result", "delivered"}}), 1);
  EXPECT_NE(log_.All().find("notifier failed: bad alloc or worse"), std::string::npos);
}

// The webhook path is the credential: drive every failure path through fakes that echo the
// URL and look for it in everything the notify code produces.
TEST_F(DispatcherTest, never_lets_the_webhook_url_into_logs_errors_records_or_metrics) {
  const std::string slack_url = "https://hooks.slack.com/services/T0SECRET/B0SECRET/TOKENSECRET";
  const std::string hook_url = "https://user:PASSSECRET@receiver.example/hook?token=QUERYSECRET";
  // Each receiver echoes its own URL back, whole and in pieces, in every kind of failure.
  FakePoster slack_poster;
  slack_poster.fallback = FakePoster::NetworkError("Could not connect to " + slack_url +
                                                   " (/services/T0SECRET/B0SECRET)");
  slack_poster.script = {FakePoster::Status(400, "invalid_payload at " + slack_url),
                         FakePoster::Status(429, "slow down " + slack_url, "1"),
                         FakePoster::Status(500, "oops /services/T0SECRET/B0SECRET/TOKENSECRET"),
                         FakePoster::Status(503, "token TOKENSECRET unknown")};
  FakePoster hook_poster;
  hook_poster.fallback = FakePoster::NetworkError("Failed to connect to " + hook_url);
  hook_poster.script = {FakePoster::Status(400, "bad " + hook_url),
                        FakePoster::Status(401, "user:PASSSECRET rejected"),
                        FakePoster::Status(503, "token=QUERYSECRET not accepted")};
  std::vector<std::unique_ptr<Notifier>> notifiers;
  notifiers.push_back(std::make_unique<SlackNotifier>(slack_url, slack_poster, SlackOptions{}));
  notifiers.push_back(std::make_unique<WebhookNotifier>(hook_url, hook_poster));
  DispatcherOptions options = Options();
  options.max_attempts = 4;
  options.capacity = 2;
  Dispatcher dispatcher(std::move(notifiers), options);
  // Failures are retried until delivered: run a bounded number of steps.
  auto run = [&] {
    for (int i = 0; i < 40; ++i) clock_.AdvanceTo(dispatcher.RunDue().value_or(clock_.Now()));
  };
  for (int i = 0; i < 4; ++i) dispatcher.Enqueue(MakeNotification(std::to_string(i)));
  run();
  dispatcher.Enqueue(MakeNotification("network down"));
  run();
  dispatcher.Enqueue(MakeNotification("last"));
  dispatcher.Shutdown(0ms);

  std::string everything = log_.All() + Scrape(registry_);
  for (const auto& record : dispatcher.RecentDeliveries()) {
    everything += record.notifier + record.rule + record.key + record.error + "\n";
  }
  for (const auto& destination : dispatcher.Destinations()) everything += destination + "\n";

  ASSERT_NE(log_.All().find("invalid_payload"), std::string::npos) << "failures were logged";
  ASSERT_NE(log_.All().find("superseded by"), std::string::npos);
  ASSERT_NE(log_.All().find("network error: Could not connect"), std::string::npos);
  ASSERT_NE(log_.All().find("network error: Failed to connect"), std::string::npos);
  ASSERT_NE(log_.All().find("shutdown: gave up"), std::string::npos);
  EXPECT_EQ(everything.find("SECRET"), std::string::npos) << everything;
  EXPECT_NE(everything.find("https://hooks.slack.com/<redacted>"), std::string::npos);
  EXPECT_NE(everything.find("https://receiver.example/<redacted>"), std::string::npos);
}

// The one real-thread unit test: Enqueue() returns while a notifier is stuck mid-send.
TEST(DispatcherWorker, enqueue_never_waits_for_a_stuck_notifier) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> sending{false};
  auto* slow = new FakeNotifier("slack", nullptr);
  slow->on_send = [&](const Notification&) {
    sending = true;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  };
  LogCapture log;
  prometheus::Registry registry;
  DispatcherOptions options;
  options.log = log.Sink();
  options.registry = &registry;
  options.capacity = 50;
  std::vector<std::unique_ptr<Notifier>> notifiers;
  notifiers.emplace_back(slow);
  Dispatcher dispatcher(std::move(notifiers), options);

  dispatcher.Enqueue(MakeNotification("stuck"));
  ASSERT_TRUE(testing::WaitUntil([&] { return sending.load(); }, 5000ms));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) dispatcher.Enqueue(MakeNotification(std::to_string(i)));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 100ms);
  EXPECT_EQ(dispatcher.QueueLength(), 50u);
  EXPECT_EQ(MetricValue(Scrape(registry), "poolwatch_notifications_dropped_total",
                        {{"reason", "queue_full"}}),
            51)
      << "the stuck one and the 50 oldest waiting";

  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(dispatcher.Shutdown(5000ms), 0u);
  auto titles = slow->Titles();
  ASSERT_EQ(titles.size(), 51u);
  EXPECT_EQ(titles[1], "50");
  EXPECT_EQ(titles.back(), "99");
}

// A notifier that hangs (Slack accepting connections and never answering) holds only its own
// worker: the console still prints every alert at once.
TEST(DispatcherWorker, a_hanging_notifier_does_not_delay_the_others) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> sending{false};
  auto* slack = new FakeNotifier("slack", nullptr);
  slack->on_send = [&](const Notification&) {
    sending = true;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
  };
  auto* console = new FakeNotifier("console", nullptr);
  LogCapture log;
  prometheus::Registry registry;
  DispatcherOptions options;
  options.log = log.Sink();
  options.registry = &registry;
  std::vector<std::unique_ptr<Notifier>> notifiers;
  notifiers.emplace_back(slack);
  notifiers.emplace_back(console);
  Dispatcher dispatcher(std::move(notifiers), options);

  dispatcher.Enqueue(MakeNotification("A"));
  ASSERT_TRUE(testing::WaitUntil([&] { return sending.load(); }, 5000ms));
  Notification b = MakeNotification("B");
  b.labels = {{"pool", "green"}};
  dispatcher.Enqueue(b);
  EXPECT_TRUE(testing::WaitUntil([&] { return console->Titles().size() == 2; }, 5000ms))
      << "the console waited for Slack";
  EXPECT_EQ(console->Titles(), (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(slack->Titles(), (std::vector<std::string>{"A"}));

  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_EQ(dispatcher.Shutdown(5000ms), 0u);
  EXPECT_EQ(slack->Titles(), (std::vector<std::string>{"A", "B"}));
}

}  // namespace
}  // namespace poolwatch
