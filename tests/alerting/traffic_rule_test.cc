#include "alerting/traffic_rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "alerting/alert_engine.h"
#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Request;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;

RuleConfig TrafficConfig() {
  RuleConfig c;
  c.name = "no_traffic";
  c.kind = RuleKind::kTraffic;
  c.window = minutes(5);
  c.min_requests = 1;
  return c;
}

// Drives a rule the way the pipeline does: an evaluation at every whole second, each before the
// requests of that second are observed, and records when the alert began and ended.
class Clocked {
 public:
  explicit Clocked(Rule& rule, double start = 0) : rule_(rule), next_(start) {}

  void RunTo(double t) {
    for (; next_ <= t; next_ += 1) {
      rule_.Evaluate(At(next_));
      const AlertCondition& c = rule_.conditions()[0];
      if (c.episodes_started > 0) fired.push_back(next_);
      if (was_active_ && !c.active) resolved.push_back(next_);
      was_active_ = c.active;
    }
  }
  void See(double t, std::string_view pool = "blue") {
    RunTo(t);
    rule_.Observe(Request(t, pool));
  }
  // `per_second` requests a second (evenly spread) from `from` to `to`.
  void Steady(double from, double to, int per_second, std::string_view pool = "blue") {
    for (double t = from; t < to; t += 1.0 / per_second) See(t, pool);
  }

  std::vector<double> fired;
  std::vector<double> resolved;

 private:
  Rule& rule_;
  double next_;
  bool was_active_ = false;
};

std::string Field(const Notification& n, const std::string& name) {
  for (const auto& [key, value] : n.fields) {
    if (key == name) return value;
  }
  return "<no field " + name + ">";
}

// --- CountWindow -------------------------------------------------------------------------

TEST(CountWindow, counts_from_the_whole_second_a_span_ago) {
  CountWindow window(minutes(5));
  EXPECT_EQ(window.bucket(), seconds(1));
  window.Add(At(100.5));
  window.AdvanceTo(At(400));
  EXPECT_EQ(window.count(), 1u) << "a gap of 299.5 s is inside a 5-minute window";
  window.AdvanceTo(At(400.9));
  EXPECT_EQ(window.count(), 1u);
  window.AdvanceTo(At(401));
  EXPECT_EQ(window.count(), 0u);
}

TEST(CountWindow, an_event_older_than_the_window_is_not_counted) {
  CountWindow window(seconds(10));
  window.AdvanceTo(At(100));
  EXPECT_FALSE(window.Add(At(89.9)));
  EXPECT_TRUE(window.Add(At(90)));
  EXPECT_EQ(window.count(), 1u);
}

TEST(CountWindow, an_event_ahead_moves_the_window_forward) {
  CountWindow window(seconds(10));
  window.Add(At(0));
  window.Add(At(5));
  window.Add(At(12));  // the event at 0 leaves
  EXPECT_EQ(window.count(), 2u);
  window.AdvanceTo(At(11));  // never back
  EXPECT_EQ(window.count(), 2u);
  window.AdvanceTo(At(1000));
  EXPECT_EQ(window.count(), 0u);
}

TEST(CountWindow, a_long_span_counts_in_wider_buckets_with_bounded_memory) {
  CountWindow window(hours(24));
  EXPECT_EQ(window.bucket(), seconds(24));
  EXPECT_EQ(window.span(), hours(24));
  window.Add(At(0));
  window.AdvanceTo(At(24 * 3600 - 1));
  EXPECT_EQ(window.count(), 1u);
  window.AdvanceTo(At(24 * 3600 + 48));
  EXPECT_EQ(window.count(), 0u);
}

TEST(CountWindow, resized_keeps_what_both_windows_cover) {
  CountWindow window(seconds(60));
  for (int t = 0; t < 60; ++t) window.Add(At(100 + t));
  const CountWindow shorter = window.Resized(seconds(10));
  EXPECT_EQ(shorter.count(), 11u) << "the seconds 149 to 159";
  const CountWindow longer = window.Resized(minutes(10));
  EXPECT_EQ(longer.count(), 60u);
  EXPECT_EQ(longer.covered_since(), At(159 - 600));
  EXPECT_EQ(window.covered_since(), At(99));
}

// --- TrafficRule: firing ----------------------------------------------------------------

TEST(TrafficRule, does_not_fire_before_it_has_watched_a_whole_window) {
  TrafficRule rule(TrafficConfig());
  Clocked clock(rule);
  clock.RunTo(299);
  EXPECT_THAT(clock.fired, IsEmpty());
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kTooFewRequests);
  EXPECT_EQ(rule.conditions()[0].window_fill, 299u);
  clock.RunTo(300);
  EXPECT_THAT(clock.fired, ElementsAre(300)) << "nothing at all for the first 5 minutes";
}

TEST(TrafficRule, steady_traffic_and_gaps_up_to_the_window_never_fire) {
  TrafficRule rule(TrafficConfig());
  Clocked clock(rule);
  clock.Steady(0, 600, 2);
  clock.See(899.9);  // a gap of 299.9 s
  clock.See(1199.8);
  clock.See(1499.0);  // 299.2 s, ending just before the second that would judge it empty
  clock.RunTo(1798);
  EXPECT_THAT(clock.fired, IsEmpty());
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
}

TEST(TrafficRule, a_gap_longer_than_the_window_fires_once_with_its_message) {
  TrafficRule rule(TrafficConfig());
  Clocked clock(rule);
  clock.Steady(0, 600, 2);  // the last request at 599.5
  clock.RunTo(1200);
  EXPECT_THAT(clock.fired, ElementsAre(900)) << "the first second with no request in 5m";
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_TRUE(c.active);
  EXPECT_TRUE(c.breaching);
  EXPECT_EQ(c.reason, Decision::kFiring);
  EXPECT_TRUE(c.labels.empty());
  EXPECT_DOUBLE_EQ(c.value, 0);
  EXPECT_DOUBLE_EQ(c.threshold, 1);
  EXPECT_EQ(c.since, At(900));

  const Notification n = rule.Firing(0, At(1200));
  EXPECT_EQ(n.title, "NO_TRAFFIC");
  EXPECT_EQ(n.summary, "No traffic for 5m");
  EXPECT_EQ(n.status, AlertStatus::kFiring);
  EXPECT_EQ(n.at, At(900));
  EXPECT_EQ(Field(n, "Window"), "5m");
  EXPECT_EQ(Field(n, "Requests"), "0 (minimum 1)");
  EXPECT_EQ(Field(n, "Last request"), FormatRfc3339(At(599.5)) + " (10m 0s ago)");
  EXPECT_THAT(n.action, HasSubstr("nginx"));
}

TEST(TrafficRule, fewer_than_min_requests_fires_with_the_count) {
  RuleConfig config = TrafficConfig();
  config.min_requests = 20;
  TrafficRule rule(config);
  Clocked clock(rule);
  clock.Steady(0, 300, 1);
  // From 300 s one request every 30 s. At 591 the window holds 9 of the steady ones (291 to 299)
  // and 10 of these (300 to 570).
  for (double t = 300; t < 700; t += 30) clock.See(t);
  clock.RunTo(700);
  EXPECT_THAT(clock.fired, ElementsAre(591));
  const Notification n = rule.Firing(0, At(700));
  EXPECT_EQ(n.summary, "Only 10 requests in 5m (minimum 20)") << "420 to 690";
  EXPECT_EQ(Field(n, "Requests"), "10 (minimum 20)");
  EXPECT_DOUBLE_EQ(rule.conditions()[0].value, 10);
}

TEST(TrafficRule, a_log_that_starts_with_low_traffic_is_judged_after_one_window) {
  RuleConfig config = TrafficConfig();
  config.min_requests = 3;
  TrafficRule rule(config);
  Clocked clock(rule, 1000);
  clock.See(1000.2);
  clock.RunTo(1299);
  EXPECT_THAT(clock.fired, IsEmpty()) << "one request, but the window is not watched yet";
  clock.RunTo(1300);
  EXPECT_THAT(clock.fired, ElementsAre(1300));
}

TEST(TrafficRule, pool_counts_only_the_requests_that_pool_served) {
  RuleConfig config = TrafficConfig();
  config.pool = "blue";
  config.name = "primary_traffic";
  TrafficRule rule(config);
  EXPECT_THAT(rule.conditions()[0].labels, ElementsAre(Pair("pool", "blue")));
  Clocked clock(rule);
  clock.Steady(0, 100, 1, "blue");
  clock.Steady(100, 800, 1, "green");  // failed over: traffic goes on, blue gets none
  EXPECT_THAT(clock.fired, ElementsAre(400));
  const Notification n = rule.Firing(0, At(800));
  EXPECT_EQ(n.summary, "No traffic to pool blue for 5m");
  EXPECT_EQ(Field(n, "Pool"), "blue");
  EXPECT_THAT(n.action, HasSubstr("blue"));
  EXPECT_EQ(rule.serving_pool(), "green");
}

TEST(TrafficRule, for_holds_the_alert_back) {
  RuleConfig config = TrafficConfig();
  config.for_duration = minutes(2);
  TrafficRule rule(config);
  Clocked clock(rule);
  clock.See(0.5);
  clock.RunTo(301);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kPending);
  clock.See(350);  // back before `for` is over
  clock.RunTo(700);
  EXPECT_THAT(clock.fired, IsEmpty());
  clock.RunTo(900);
  EXPECT_THAT(clock.fired, ElementsAre(651 + 120));
}

// --- TrafficRule: resolution ------------------------------------------------------------

TEST(TrafficRule, resolves_a_minute_after_traffic_is_back_and_says_how_long_it_was_missing) {
  TrafficRule rule(TrafficConfig());
  Clocked clock(rule);
  clock.Steady(0, 600, 2);  // the last request at 599.5
  clock.RunTo(1200);
  clock.Steady(1210.5, 1400, 2);
  EXPECT_THAT(clock.fired, ElementsAre(900));
  EXPECT_THAT(clock.resolved, ElementsAre(1211 + 60)) << "clear from the evaluation at 1211";
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_FALSE(c.active);
  EXPECT_EQ(c.reason, Decision::kBelowThreshold);

  const Notification n = rule.Resolved(0, At(1400));
  EXPECT_EQ(n.title, "NO_TRAFFIC RESOLVED");
  EXPECT_EQ(n.summary, "Traffic is back");
  EXPECT_EQ(n.at, At(1271));
  EXPECT_EQ(Field(n, "Missing for"), "10m 11s") << "599.5 to 1210.5";
  EXPECT_EQ(Field(n, "Back for"), "1m 0s, 121 requests");
}

TEST(TrafficRule, is_resolving_not_breaching_while_traffic_comes_back) {
  TrafficRule rule(TrafficConfig());
  Clocked clock(rule);
  clock.RunTo(300);
  ASSERT_THAT(clock.fired, ElementsAre(300));
  clock.Steady(310, 340, 1);
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_TRUE(c.active);
  EXPECT_FALSE(c.breaching);
  EXPECT_EQ(c.reason, Decision::kResolving);
  EXPECT_THAT(rule.Detail(0), HasSubstr("enough again since"));
}

TEST(TrafficRule, one_stray_request_after_an_outage_does_not_resolve) {
  TrafficRule rule(TrafficConfig());
  Clocked clock(rule);
  clock.Steady(0, 100, 1);
  clock.RunTo(500);
  ASSERT_THAT(clock.fired, SizeIs(1));
  clock.See(600);  // a stray request, then nothing again
  clock.RunTo(1500);
  EXPECT_THAT(clock.resolved, IsEmpty());
  EXPECT_TRUE(rule.conditions()[0].breaching) << "the window is empty again from 901";
  // A second request within the window, a minute later, is traffic.
  clock.See(1600);
  clock.See(1630);
  clock.RunTo(1700);
  EXPECT_THAT(clock.resolved, ElementsAre(1601 + 60));
  EXPECT_EQ(Field(rule.Resolved(0, At(1700)), "Missing for"), "25m 1s")
      << "from the last request at 99 to 1600: the stray one did not end it";
}

TEST(TrafficRule, resolve_requests_counts_those_that_brought_the_window_back) {
  RuleConfig config = TrafficConfig();
  config.min_requests = 10;
  TrafficRule rule(config);
  Clocked clock(rule);
  clock.RunTo(300);
  ASSERT_THAT(clock.fired, SizeIs(1));
  clock.Steady(400, 410, 1);  // 10 requests: the window is back at 410
  clock.RunTo(500);
  EXPECT_THAT(clock.resolved, IsEmpty()) << "10 of the 20 needed";
  clock.Steady(500, 510, 1);
  clock.RunTo(600);
  EXPECT_THAT(clock.resolved, ElementsAre(510));
}

TEST(TrafficRule, resolve_for_and_resolve_requests_can_be_set) {
  RuleConfig config = TrafficConfig();
  config.resolve_for = seconds(0);
  config.resolve_requests = 1;
  TrafficRule rule(config);
  Clocked clock(rule);
  clock.RunTo(300);
  clock.See(300.5);
  clock.RunTo(301);
  EXPECT_THAT(clock.resolved, ElementsAre(301));
}

// --- Restart and reload -----------------------------------------------------------------

TEST(TrafficRule, a_restored_alert_stays_firing_until_traffic_is_back) {
  TrafficRule rule(TrafficConfig());
  ASSERT_EQ(rule.FindOrAddAlert({}), 0);
  EXPECT_EQ(rule.FindOrAddAlert({{"pool", "blue"}}), -1);
  rule.RestoreActive(0, At(-100));
  Clocked clock(rule);
  clock.RunTo(600);
  EXPECT_THAT(clock.fired, IsEmpty()) << "the same incident, not a new one";
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_TRUE(rule.conditions()[0].breaching);
  clock.Steady(600, 700, 1);
  EXPECT_THAT(clock.resolved, ElementsAre(661));
  const Notification n = rule.Resolved(0, At(700));
  EXPECT_EQ(Field(n, "Firing since"), FormatRfc3339(At(-100)));
}

TEST(TrafficRule, reconfigure_keeps_counts_and_a_longer_window_waits_to_be_watched) {
  TrafficRule rule(TrafficConfig());
  Clocked clock(rule);
  clock.Steady(0, 2000, 1);
  RuleConfig config = TrafficConfig();
  config.window = minutes(1);
  rule.Reconfigure(config, "blue");
  EXPECT_EQ(rule.window().count(), 61u) << "the seconds 1939 to 1999 of the old window";

  // 100 a half hour: the last half hour had 1800, but the window kept only 61 of them. Judged
  // now, that would page; it is judged once it has watched 30 minutes from 1939 on.
  config.window = minutes(30);
  config.min_requests = 100;
  rule.Reconfigure(config, "blue");
  EXPECT_EQ(rule.window().count(), 61u);
  clock.Steady(2000, 2100, 1);
  clock.RunTo(3800);
  EXPECT_THAT(clock.fired, IsEmpty());
  // From 3739 on it is judged: 99 requests (2001 to 2099) at 3801.
  clock.RunTo(3900);
  EXPECT_THAT(clock.fired, ElementsAre(3801));
}

// --- In the engine ----------------------------------------------------------------------

AlertingConfig EngineConfig(RuleConfig rule = TrafficConfig()) {
  AlertingConfig config;
  config.rules = {rule};
  return config;
}

// Evaluates the engine at every whole second from `from` to `to`, keeping what it sends.
void Tick(AlertEngine& engine, int from, int to, std::vector<Notification>& sent) {
  for (int t = from; t <= to; ++t) {
    for (Notification& n : engine.Evaluate(At(t)).notifications) sent.push_back(std::move(n));
  }
}

TEST(TrafficRuleInEngine, a_restart_mid_outage_neither_pages_again_nor_resolves_falsely) {
  std::vector<Notification> sent;
  AlertEngine before(EngineConfig());
  before.Observe(Request(0.5, "blue"));
  Tick(before, 0, 400, sent);
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].status, AlertStatus::kFiring);
  EXPECT_EQ(sent[0].Key(), "no_traffic{}");
  const EngineState state = before.ExportState();
  ASSERT_THAT(state.alerts, SizeIs(1));
  EXPECT_EQ(state.alerts[0].kind, RuleKind::kTraffic);

  sent.clear();
  AlertEngine after(EngineConfig());
  after.ImportState(state);
  Tick(after, 500, 1500, sent);
  EXPECT_THAT(sent, IsEmpty()) << "still no traffic: the announced alert goes on";
  after.Observe(Request(1500.5, "blue"));
  after.Observe(Request(1520.5, "blue"));
  Tick(after, 1501, 1600, sent);
  ASSERT_THAT(sent, SizeIs(1));
  EXPECT_EQ(sent[0].status, AlertStatus::kResolved);
  EXPECT_EQ(sent[0].at, At(1561));
}

TEST(TrafficRuleInEngine, sighup_keeps_the_alert_when_name_kind_and_pool_survive) {
  std::vector<Notification> sent;
  RuleConfig rule = TrafficConfig();
  rule.pool = "blue";
  AlertEngine engine(EngineConfig(rule));
  Tick(engine, 0, 400, sent);
  ASSERT_THAT(sent, SizeIs(1));

  rule.min_requests = 5;
  engine.Reconfigure(EngineConfig(rule));
  Tick(engine, 401, 500, sent);
  EXPECT_THAT(sent, SizeIs(1)) << "neither re-announced nor resolved";
  EXPECT_TRUE(engine.Status(At(500)).rules[0].firing);
  EXPECT_DOUBLE_EQ(engine.Status(At(500)).rules[0].threshold, 5);

  // Another pool is another alert: the old one resolves as changed, the new one starts over.
  rule.pool = "green";
  engine.Reconfigure(EngineConfig(rule));
  Tick(engine, 501, 700, sent);
  ASSERT_THAT(sent, SizeIs(2));
  EXPECT_EQ(sent[1].Key(), "no_traffic{pool=blue}");
  EXPECT_EQ(sent[1].status, AlertStatus::kResolved);
  EXPECT_EQ(sent[1].summary, "Rule removed or changed in the configuration");
  EXPECT_FALSE(engine.Status(At(700)).rules[0].firing) << "a new window, not watched yet";
}

TEST(TrafficRuleInEngine, is_muted_in_maintenance_by_default) {
  std::vector<Notification> sent;
  AlertEngine engine(EngineConfig());
  engine.SetMaintenance(true, At(600));
  Tick(engine, 0, 599, sent);
  EXPECT_THAT(sent, IsEmpty());
  Tick(engine, 600, 600, sent);
  ASSERT_THAT(sent, SizeIs(1)) << "still no traffic when maintenance ends: announced";
  EXPECT_EQ(sent[0].status, AlertStatus::kFiring);

  RuleConfig unmuted = TrafficConfig();
  unmuted.muted_in_maintenance = false;
  EXPECT_FALSE(unmuted.MutedInMaintenance());
  EXPECT_TRUE(TrafficConfig().MutedInMaintenance());
}

TEST(TrafficRuleInEngine, default_resolution_is_a_minute_and_twice_min_requests) {
  RuleConfig config = TrafficConfig();
  config.min_requests = 7;
  EXPECT_EQ(config.ResolveFor(), seconds(60));
  EXPECT_EQ(config.ResolveRequests(), 14u);
  config.resolve_requests = 3;
  config.resolve_for = seconds(5);
  EXPECT_EQ(config.ResolveFor(), seconds(5));
  EXPECT_EQ(config.ResolveRequests(), 3u);
}

}  // namespace
}  // namespace poolwatch
