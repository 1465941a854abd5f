#include "alerting/notify/alertmanager_notifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/notify/notify_fakes.h"
#include "tests/support/test_support.h"

namespace poolwatch {
namespace {

using nlohmann::json;
using testing::FakeClock;
using testing::FakePoster;
using ::testing::HasSubstr;
using testing::LogCapture;
using testing::MakeNotification;
using ::testing::Not;
using namespace std::chrono_literals;

const TimePoint kFiredAt = FakeClock::kWallStart;  // 2025-10-31T14:23:45Z
const TimePoint kNow = kFiredAt + 2s;

AlertmanagerOptions TestOptions() {
  AlertmanagerOptions options;
  options.instance = "node-a";
  options.generator_url = "http://node-a:10090/metrics";
  options.runbook_url = "https://git.example/runbook.md#{rule}";
  options.resend_interval = 60s;
  options.start_resender = false;
  options.now = [] { return kNow; };
  return options;
}

json Body(const FakePoster::Call& call) { return json::parse(call.body); }

TEST(AlertmanagerAlertsUrl, appends_the_v2_alerts_path_once) {
  EXPECT_EQ(AlertmanagerAlertsUrl("http://am:9093"), "http://am:9093/api/v2/alerts");
  EXPECT_EQ(AlertmanagerAlertsUrl("http://am:9093/"), "http://am:9093/api/v2/alerts");
  EXPECT_EQ(AlertmanagerAlertsUrl("https://host/am/"), "https://host/am/api/v2/alerts");
  EXPECT_EQ(AlertmanagerAlertsUrl("http://am:9093/api/v2/alerts"), "http://am:9093/api/v2/alerts");
}

TEST(AlertmanagerLabels, are_the_rule_name_its_labels_instance_and_severity) {
  Notification n = MakeNotification("x");
  n.labels["bad-name"] = "v";
  n.labels["empty"] = "";
  n.labels["instance"] = "spoofed";
  EXPECT_EQ(AlertmanagerLabels(n, TestOptions()),
            (std::map<std::string, std::string>{{"alertname", "failover"},
                                                {"bad_name", "v"},
                                                {"instance", "node-a"},
                                                {"pool", "blue"},
                                                {"severity", "critical"}}));
}

TEST(AlertmanagerNotifier, posts_a_firing_alert_that_ends_four_resend_intervals_from_now) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  DeliveryResult result = notifier.Send(MakeNotification("FAILOVER"), 7s);

  EXPECT_EQ(result.outcome, DeliveryResult::kDelivered);
  ASSERT_EQ(poster.calls.size(), 1u);
  EXPECT_EQ(poster.calls[0].url, "http://am:9093/api/v2/alerts");
  EXPECT_EQ(poster.calls[0].content_type, "application/json");
  EXPECT_EQ(poster.calls[0].timeout, 7s);
  json body = Body(poster.calls[0]);
  ASSERT_TRUE(body.is_array());
  ASSERT_EQ(body.size(), 1u);
  const json& alert = body[0];
  EXPECT_EQ(alert["labels"], json({{"alertname", "failover"},
                                   {"pool", "blue"},
                                   {"instance", "node-a"},
                                   {"severity", "critical"}}));
  EXPECT_EQ(alert["annotations"]["summary"], "Pool failover detected!");
  EXPECT_EQ(alert["annotations"]["description"],
            "Previous: blue\nCurrent: green\nRelease: v1.0.0\nAction: Check health of blue pool");
  EXPECT_EQ(alert["annotations"]["runbook_url"], "https://git.example/runbook.md#failover");
  EXPECT_EQ(alert["startsAt"], "2025-10-31T14:23:45.000Z");
  EXPECT_EQ(alert["endsAt"], "2025-10-31T14:27:47.000Z");  // now (…:47) + 4 × 60 s
  EXPECT_EQ(alert["generatorURL"], "http://node-a:10090/metrics");
  EXPECT_EQ(notifier.FiringCount(), 1u);
}

// Failover's resolution as FailoverRule words it.
Notification BlueIsBack(TimePoint at) {
  Notification n = MakeNotification("FAILOVER RESOLVED", AlertStatus::kResolved);
  n.summary = "Traffic is back on blue";
  n.fields = {{"Previous", "green"}, {"Current", "blue"}, {"Off primary for", "1m30s"}};
  n.action = "";
  n.at = at;
  return n;
}

TEST(AlertmanagerNotifier, resolution_ends_the_alert_when_it_was_seen_and_keeps_its_start) {
  FakePoster poster;
  TimePoint now = kNow;
  AlertmanagerOptions options = TestOptions();
  options.now = [&now] { return now; };
  AlertmanagerNotifier notifier("http://am:9093", poster, options);
  notifier.Send(MakeNotification("firing"), 5s);
  now = kFiredAt + 91s;
  notifier.Send(BlueIsBack(kFiredAt + 90s + 250ms), 5s);

  ASSERT_EQ(poster.calls.size(), 2u);
  json alert = Body(poster.calls[1])[0];
  EXPECT_EQ(alert["labels"]["alertname"], "failover");
  EXPECT_EQ(alert["startsAt"], "2025-10-31T14:23:45.000Z");
  EXPECT_EQ(alert["endsAt"], "2025-10-31T14:25:15.250Z");
  EXPECT_EQ(notifier.FiringCount(), 0u);
}

TEST(AlertmanagerResolutionEnd, is_when_it_was_seen_but_never_after_the_post) {
  EXPECT_EQ(AlertmanagerResolutionEnd(kFiredAt, kNow), kFiredAt);
  // A log clock ahead of ours: Alertmanager would take an endsAt in its future for an update
  // of the firing alert and keep the firing post's later one.
  EXPECT_EQ(AlertmanagerResolutionEnd(kNow + 3s, kNow), kNow);
}

TEST(AlertmanagerNotifier, a_resolution_seen_ahead_of_the_clock_ends_when_it_is_posted) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  notifier.Send(MakeNotification("firing"), 5s);
  notifier.Send(BlueIsBack(kNow + 3s), 5s);

  ASSERT_EQ(poster.calls.size(), 2u);
  json alert = Body(poster.calls[1])[0];
  EXPECT_EQ(alert["startsAt"], "2025-10-31T14:23:45.000Z");
  EXPECT_EQ(alert["endsAt"], "2025-10-31T14:23:47.000Z") << "now, not the log's time";
}

// Alertmanager replaces the annotations with every post, also when it still counts the alert
// as firing: the summary stays the problem's, the resolution is told beside it.
TEST(AlertmanagerNotifier, a_resolution_keeps_the_problem_as_summary_and_tells_its_own_beside) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  notifier.Send(MakeNotification("FAILOVER"), 5s);
  notifier.Send(BlueIsBack(kFiredAt + 1s), 5s);

  ASSERT_EQ(poster.calls.size(), 2u);
  EXPECT_EQ(
      Body(poster.calls[1])[0]["annotations"],
      json({{"summary", "Pool failover detected!"},
            {"description",
             "Previous: blue\nCurrent: green\nRelease: v1.0.0\nAction: Check health of "
             "blue pool"},
            {"title", "FAILOVER"},
            {"runbook_url", "https://git.example/runbook.md#failover"},
            {"resolution_summary", "Traffic is back on blue"},
            {"resolution_description", "Previous: green\nCurrent: blue\nOff primary for: 1m30s"}}));
}

TEST(AlertmanagerNotifier, a_retried_resolution_posts_the_same_alert) {
  FakePoster poster;
  poster.script = {FakePoster::Ok(), FakePoster::Status(503, "unavailable")};
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  notifier.Send(MakeNotification("FAILOVER"), 5s);
  EXPECT_EQ(notifier.Send(BlueIsBack(kFiredAt + 1s), 5s).outcome, DeliveryResult::kRetryable);
  EXPECT_EQ(notifier.Send(BlueIsBack(kFiredAt + 1s), 5s).outcome, DeliveryResult::kDelivered);

  ASSERT_EQ(poster.calls.size(), 3u);
  EXPECT_EQ(poster.calls[2].body, poster.calls[1].body);
  EXPECT_EQ(Body(poster.calls[2])[0]["annotations"]["summary"], "Pool failover detected!");
}

TEST(AlertmanagerNotifier, a_resolution_of_an_unknown_alert_tells_only_the_resolution) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  notifier.Send(BlueIsBack(kFiredAt), 5s);
  EXPECT_EQ(
      Body(poster.calls[0])[0]["annotations"],
      json({{"runbook_url", "https://git.example/runbook.md#failover"},
            {"resolution_summary", "Traffic is back on blue"},
            {"resolution_description", "Previous: green\nCurrent: blue\nOff primary for: 1m30s"}}));
}

// An Alertmanager whose clock is behind ours takes a resolution's endsAt for a future one and
// keeps the firing post's later endsAt; posted again once that time has passed, it ends the
// alert. Four intervals after the last firing post, Alertmanager has ended it by itself.
TEST(AlertmanagerNotifier, resolutions_are_reposted_unchanged_until_every_firing_post_expired) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  notifier.Send(MakeNotification("firing"), 5s);
  notifier.Send(BlueIsBack(kNow), 5s);
  const json resolution = Body(poster.calls[1])[0];

  notifier.Resend(kNow + 60s);
  ASSERT_EQ(poster.calls.size(), 3u);
  EXPECT_EQ(Body(poster.calls[2]), json::array({resolution}));
  notifier.Resend(kNow + 239s);
  ASSERT_EQ(poster.calls.size(), 4u);
  EXPECT_EQ(Body(poster.calls[3]), json::array({resolution}));

  notifier.Resend(kNow + 240s);  // the firing post's endsAt
  EXPECT_EQ(poster.calls.size(), 4u) << "nothing left to re-post";
}

TEST(AlertmanagerNotifier, a_new_episode_is_never_ended_by_the_last_ones_resolution) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  notifier.Send(MakeNotification("firing"), 5s);
  notifier.Send(BlueIsBack(kNow), 5s);
  notifier.Send(MakeNotification("firing again"), 5s);
  notifier.Resend(kNow + 60s);

  ASSERT_EQ(poster.calls.size(), 4u);
  json body = Body(poster.calls[3]);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["endsAt"], "2025-10-31T14:28:47.000Z") << "firing, a fresh endsAt";
  EXPECT_EQ(body[0]["annotations"]["title"], "firing again");
}

TEST(AlertmanagerNotifier, a_resolution_without_a_known_start_is_a_valid_zero_length_alert) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  notifier.Send(MakeNotification("resolved", AlertStatus::kResolved), 5s);
  json alert = Body(poster.calls[0])[0];
  EXPECT_EQ(alert["startsAt"], alert["endsAt"]);
}

TEST(AlertmanagerNotifier, resend_reposts_the_still_firing_alerts_with_a_fresh_end) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  EXPECT_EQ(notifier.Resend(kNow).outcome, DeliveryResult::kDelivered);
  EXPECT_TRUE(poster.calls.empty()) << "nothing firing, nothing posted";

  Notification blue = MakeNotification("blue");
  Notification green = MakeNotification("green");
  green.labels = {{"pool", "green"}};
  notifier.Send(blue, 5s);
  notifier.Send(green, 5s);
  notifier.Send(MakeNotification("blue back", AlertStatus::kResolved), 5s);
  // Past the resolution's own re-posts (see below): only what still fires.
  notifier.Resend(kNow + 4min);

  ASSERT_EQ(poster.calls.size(), 4u);
  json body = Body(poster.calls[3]);
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["labels"]["pool"], "green");
  EXPECT_EQ(body[0]["startsAt"], "2025-10-31T14:23:45.000Z");
  EXPECT_EQ(body[0]["endsAt"], "2025-10-31T14:31:47.000Z");  // (now + 4 min) + 4 min
}

TEST(AlertmanagerNotifier, a_firing_alert_is_reposted_even_when_its_first_post_failed) {
  FakePoster poster;
  poster.script = {FakePoster::NetworkError("Couldn't connect to server")};
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  DeliveryResult result = notifier.Send(MakeNotification("firing"), 5s);
  EXPECT_EQ(result.outcome, DeliveryResult::kRetryable);
  EXPECT_EQ(notifier.FiringCount(), 1u);
  notifier.Resend(kNow + 60s);
  ASSERT_EQ(poster.calls.size(), 2u);
  EXPECT_EQ(Body(poster.calls[1]).size(), 1u);
}

TEST(AlertmanagerNotifier, a_validation_error_is_permanent_and_errors_never_show_credentials) {
  FakePoster poster;
  poster.script = {FakePoster::Status(400, "start time must be before end time")};
  AlertmanagerNotifier notifier("http://user:s3cretpassw0rd@am:9093", poster, TestOptions());
  DeliveryResult result = notifier.Send(MakeNotification("firing"), 5s);
  EXPECT_EQ(result.outcome, DeliveryResult::kPermanent);
  EXPECT_THAT(result.error, HasSubstr("start time must be before end time"));
  EXPECT_EQ(poster.calls[0].url, "http://user:s3cretpassw0rd@am:9093/api/v2/alerts");
  EXPECT_THAT(notifier.Destination(), Not(HasSubstr("s3cret")));
  EXPECT_THAT(notifier.Destination(), HasSubstr("alertmanager http://am:9093"));

  poster.script = {FakePoster::NetworkError("cannot reach http://user:s3cretpassw0rd@am:9093")};
  result = notifier.Send(MakeNotification("firing"), 5s);
  EXPECT_EQ(result.outcome, DeliveryResult::kRetryable);
  EXPECT_THAT(result.error, Not(HasSubstr("s3cret")));
}

TEST(AlertmanagerNotifier, resend_failures_are_logged_once_and_counted_until_they_recover) {
  FakePoster poster;
  LogCapture log;
  prometheus::Registry registry;
  AlertmanagerOptions options = TestOptions();
  options.log = log.Sink();
  options.registry = &registry;
  AlertmanagerNotifier notifier("http://am:9093", poster, options);
  notifier.Send(MakeNotification("firing"), 5s);

  poster.fallback = FakePoster::Status(503, "unavailable");
  notifier.Resend(kNow + 60s);
  notifier.Resend(kNow + 120s);
  poster.fallback = FakePoster::Ok();
  notifier.Resend(kNow + 180s);

  std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u) << log.All();
  EXPECT_THAT(lines[0],
              HasSubstr("re-posting 1 firing alert(s) and 0 recent resolution(s) failed"));
  EXPECT_THAT(lines[0], HasSubstr("503"));
  EXPECT_THAT(lines[1], HasSubstr("works again"));
  std::string metrics = testing::Scrape(registry);
  EXPECT_THAT(
      metrics,
      HasSubstr(
          "poolwatch_alertmanager_resends_total{notifier=\"alertmanager\",result=\"failed\"} 2"));
  EXPECT_THAT(metrics, HasSubstr("poolwatch_alertmanager_resends_total{notifier=\"alertmanager\","
                                 "result=\"delivered\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("poolwatch_alertmanager_firing_alerts{notifier=\"alertmanager\"} 1"));
}

TEST(AlertmanagerNotifier, the_dispatcher_retries_a_failed_post_with_the_usual_policy) {
  FakeClock clock;
  FakePoster poster;
  poster.script = {FakePoster::Status(503, "unavailable"), FakePoster::Status(503, "unavailable")};
  std::vector<std::unique_ptr<Notifier>> notifiers;
  notifiers.push_back(
      std::make_unique<AlertmanagerNotifier>("http://am:9093", poster, TestOptions()));
  LogCapture log;
  DispatcherOptions options;
  options.start_worker = false;
  options.clock = &clock;
  options.log = log.Sink();
  options.random = [] { return 0.5; };
  Dispatcher dispatcher(std::move(notifiers), options);
  dispatcher.Enqueue(MakeNotification("firing"));
  for (int i = 0; i < 10 && poster.calls.size() < 3; ++i) {
    auto next = dispatcher.RunDue();
    if (next) clock.AdvanceTo(*next);
  }
  ASSERT_EQ(poster.calls.size(), 3u) << log.All();
  EXPECT_EQ(poster.calls[2].body, poster.calls[0].body) << "a retry posts the same alert";
  EXPECT_EQ(dispatcher.QueueLength(), 0u);
  EXPECT_EQ(dispatcher.RecentDeliveries().back().result, DeliveryRecord::Result::kSent);
}

// Counts posts from any thread (FakePoster's call list is for single-threaded tests).
class CountingPoster final : public HttpPoster {
 public:
  HttpResult Post(const std::string&, const std::string&, const std::string&,
                  std::chrono::milliseconds) override {
    ++posts;
    return FakePoster::Ok();
  }
  std::atomic<int> posts{0};
};

TEST(AlertmanagerNotifier, its_own_thread_reposts_firing_alerts_every_interval) {
  CountingPoster poster;
  AlertmanagerOptions options = TestOptions();
  options.start_resender = true;
  options.resend_interval = 20ms;
  AlertmanagerNotifier notifier("http://am:9093", poster, options);
  EXPECT_EQ(poster.posts, 0);
  notifier.Send(MakeNotification("firing"), 5s);
  EXPECT_TRUE(testing::WaitUntil([&] { return poster.posts >= 3; }, 5s))
      << "one Send and at least two re-posts; got " << poster.posts;
}

// What a notifier remembers survives a restart through ExportState() (saved in the state file)
// and ImportState() (at start-up): the next process re-posts the alert as the same alert.
TEST(AlertmanagerNotifier, an_adopted_alert_is_reposted_with_its_original_start_and_a_fresh_end) {
  FakePoster before_poster;
  AlertmanagerNotifier before("http://am:9093", before_poster, TestOptions());
  Notification blue = MakeNotification("blue");
  Notification green = MakeNotification("green");
  green.labels = {{"pool", "green"}};
  green.at = kFiredAt + 30s;
  before.Send(blue, 5s);
  before.Send(green, 5s);
  const std::vector<AlertmanagerFiring> saved = before.ExportState();
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0].notification.Key(), "failover{pool=blue}");
  EXPECT_EQ(saved[0].starts_at, kFiredAt);
  EXPECT_EQ(saved[1].notification.Key(), "failover{pool=green}");
  EXPECT_EQ(saved[1].starts_at, kFiredAt + 30s);

  // The restarted process, ten minutes later.
  FakePoster poster;
  AlertmanagerOptions options = TestOptions();
  options.now = [] { return kNow + 10min; };
  AlertmanagerNotifier after("http://am:9093", poster, options);
  EXPECT_EQ(after.ImportState(saved), 2u);
  EXPECT_TRUE(poster.calls.empty()) << "adopting is not a new firing post";
  EXPECT_EQ(after.FiringCount(), 2u);

  EXPECT_EQ(after.Resend(kNow + 10min).outcome, DeliveryResult::kDelivered);
  ASSERT_EQ(poster.calls.size(), 1u);
  json body = Body(poster.calls[0]);
  ASSERT_EQ(body.size(), 2u);
  EXPECT_EQ(body[0]["labels"], Body(before_poster.calls[0])[0]["labels"]) << "the same alert";
  EXPECT_EQ(body[0]["startsAt"], "2025-10-31T14:23:45.000Z");
  EXPECT_EQ(body[0]["endsAt"], "2025-10-31T14:37:47.000Z");  // (now + 10 min) + 4 × 60 s
  EXPECT_EQ(body[1]["labels"]["pool"], "green");
  EXPECT_EQ(body[1]["startsAt"], "2025-10-31T14:24:15.000Z");
  EXPECT_EQ(body[1]["endsAt"], "2025-10-31T14:37:47.000Z");
}

TEST(AlertmanagerNotifier, a_resolution_after_adoption_posts_its_end_and_stops_the_reposts) {
  FakePoster poster;
  AlertmanagerOptions options = TestOptions();
  options.now = [] { return kFiredAt + 91s; };
  AlertmanagerNotifier notifier("http://am:9093", poster, options);
  notifier.ImportState({AlertmanagerFiring{MakeNotification("blue"), kFiredAt - 1h}});
  Notification resolved = MakeNotification("resolved", AlertStatus::kResolved);
  resolved.at = kFiredAt + 90s;
  EXPECT_EQ(notifier.Send(resolved, 5s).outcome, DeliveryResult::kDelivered);

  ASSERT_EQ(poster.calls.size(), 1u);
  json alert = Body(poster.calls[0])[0];
  EXPECT_EQ(alert["labels"]["pool"], "blue");
  EXPECT_EQ(alert["startsAt"], "2025-10-31T13:23:45.000Z") << "the adopted start";
  EXPECT_EQ(alert["endsAt"], "2025-10-31T14:25:15.000Z");
  EXPECT_EQ(notifier.FiringCount(), 0u);
  EXPECT_TRUE(notifier.ExportState().empty());
  notifier.Resend(kFiredAt + 91s + 4min);
  EXPECT_EQ(poster.calls.size(), 1u) << "no longer re-posted, as firing or resolved";
}

TEST(AlertmanagerNotifier, adopt_keeps_what_it_already_knows_and_ignores_resolutions) {
  FakePoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  Notification newer = MakeNotification("sent after the restart");
  newer.at = kFiredAt + 5min;
  notifier.Send(newer, 5s);
  Notification green = MakeNotification("green", AlertStatus::kResolved);
  green.labels = {{"pool", "green"}};
  EXPECT_EQ(notifier.ImportState({AlertmanagerFiring{MakeNotification("saved"), kFiredAt},
                                  AlertmanagerFiring{green, kFiredAt}}),
            0u);
  std::vector<AlertmanagerFiring> now = notifier.ExportState();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].notification.title, "sent after the restart");
  EXPECT_EQ(now[0].starts_at, kFiredAt) << "the episode's earlier start";
}

TEST(AlertmanagerNotifier, adopted_alerts_are_reposted_at_once_not_an_interval_later) {
  CountingPoster poster;
  AlertmanagerOptions options = TestOptions();
  options.start_resender = true;
  options.resend_interval = std::chrono::hours(1);
  AlertmanagerNotifier notifier("http://am:9093", poster, options);
  notifier.ImportState({AlertmanagerFiring{MakeNotification("saved"), kFiredAt}});
  EXPECT_TRUE(testing::WaitUntil([&] { return poster.posts >= 1; }, 5s));
  EXPECT_EQ(poster.posts, 1);
}

// Posts block until released: a post on the wire for as long as a test wants.
class BlockingPoster final : public HttpPoster {
 public:
  HttpResult Post(const std::string&, const std::string&, const std::string&,
                  std::chrono::milliseconds) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_; });
    return FakePoster::Ok();
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return entered_ > 0; });
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  bool released_ = false;
};

TEST(AlertmanagerNotifier, snapshot_does_not_wait_for_a_post_on_the_wire) {
  BlockingPoster poster;
  AlertmanagerNotifier notifier("http://am:9093", poster, TestOptions());
  std::thread sender([&] { notifier.Send(MakeNotification("firing"), 5s); });
  poster.WaitEntered();
  auto snapshot = std::async(std::launch::async, [&] { return notifier.ExportState(); });
  const bool done = snapshot.wait_for(5s) == std::future_status::ready;
  poster.Release();
  sender.join();
  ASSERT_TRUE(done) << "ExportState() waited for the post";
  EXPECT_EQ(snapshot.get().size(), 1u);
}

}  // namespace
}  // namespace poolwatch
