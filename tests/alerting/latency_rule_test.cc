#include "alerting/latency_rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "alerting/alert_engine.h"
#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Attempt;
using poolwatch::testing::Request;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;

// The defaults of a `kind: latency` rule with `threshold: 500ms`: p99 of the last 200 requests,
// max_age 300 s, min_requests 5, min_slow 3, resolving after 60 s and 400 clear requests.
RuleConfig LatencyConfig(ErrorScope scope = ErrorScope::kClient) {
  RuleConfig c;
  c.name = "latency";
  c.kind = RuleKind::kLatency;
  c.scope = scope;
  c.latency_threshold = milliseconds(500);
  return c;
}

// A request answered by `pool` that took `seconds`, its one attempt as long.
LogRecord Timed(double t, std::string_view pool, double seconds) {
  LogRecord r = Request(t, pool);
  r.request_time = seconds;
  r.attempts[0].response_time = seconds;
  return r;
}

// `n` requests on `pool` from `start`, `gap` seconds apart; request i takes duration(i).
void Stream(Rule& rule, double start, int n, double gap, const std::function<double(int)>& duration,
            std::string_view pool = "blue") {
  for (int i = 0; i < n; ++i) rule.Observe(Timed(start + i * gap, pool, duration(i)));
}

double Fast(int) { return 0.012; }

TEST(LatencyFormat, latencies_read_as_people_write_them) {
  EXPECT_EQ(FormatLatency(0.742), "742ms");
  EXPECT_EQ(FormatLatency(0.5), "500ms");
  EXPECT_EQ(FormatLatency(0.0004), "0ms");
  EXPECT_EQ(FormatLatency(0.9996), "1s");
  EXPECT_EQ(FormatLatency(1.25), "1.25s");
  EXPECT_EQ(FormatLatency(1.5), "1.5s");
  EXPECT_EQ(FormatLatency(5), "5s");
  EXPECT_EQ(FormatLatency(60.001), "60s");
}

// ---- Outliers and the quantile ----------------------------------------------------------------

TEST(LatencyRule, one_or_two_outliers_among_200_are_not_a_p99) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 198, 0.1, Fast);
  rule.Observe(Timed(19.8, "blue", 5.0));  // one 5 s request
  rule.Evaluate(At(20));
  ASSERT_THAT(rule.conditions(), SizeIs(1));
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
  EXPECT_DOUBLE_EQ(rule.conditions()[0].value, 0.012);
  rule.Observe(Timed(19.9, "blue", 4.0));  // two
  rule.Evaluate(At(21));
  EXPECT_EQ(rule.window(0).size(), 200u);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
  EXPECT_DOUBLE_EQ(rule.conditions()[0].value, 0.012);
}

TEST(LatencyRule, three_slow_requests_among_200_fire_with_the_message) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 197, 0.1, Fast);
  rule.Observe(Timed(19.7, "blue", 0.800));
  LogRecord slowest = Timed(19.8, "blue", 2.31);
  slowest.attempts[0].address = "10.0.0.7:8080";
  rule.Observe(slowest);
  rule.Observe(Timed(19.9, "blue", 0.742));
  rule.Evaluate(At(20));
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_TRUE(c.active);
  EXPECT_TRUE(c.breaching);
  EXPECT_EQ(c.episodes_started, 1);
  EXPECT_THAT(c.labels, ElementsAre(Pair("pool", "blue")));
  EXPECT_DOUBLE_EQ(c.value, 0.742) << "the 198th smallest of 200";
  EXPECT_DOUBLE_EQ(c.threshold, 0.5);
  EXPECT_EQ(c.window_fill, 200u);
  EXPECT_EQ(c.window_size, 200u);

  const Notification n = rule.Firing(0, At(20));
  EXPECT_EQ(n.title, "LATENCY");
  EXPECT_EQ(n.summary, "p99 latency above 500ms on pool blue");
  EXPECT_THAT(n.fields, ElementsAre(Pair("Pool", "blue"), Pair("p99", "742ms (threshold: 500ms)"),
                                    Pair("Window", "200 requests, 3 above 500ms"),
                                    Pair("Slowest", "2.31s from 10.0.0.7:8080"),
                                    Pair("Current Pool", "blue")));
  EXPECT_THAT(n.action, HasSubstr("consider switching pools"));
  EXPECT_EQ(n.at, At(20));
  EXPECT_THAT(n.labels, ElementsAre(Pair("pool", "blue")));
}

TEST(LatencyRule, at_the_threshold_is_not_above_it) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 20 == 0 ? 0.5 : 0.012; });  // 10 at 500 ms
  rule.Evaluate(At(20));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
}

TEST(LatencyRule, the_quantile_and_its_name_follow_the_config) {
  RuleConfig config = LatencyConfig();
  config.quantile = 0.5;
  LatencyRule median(config);
  Stream(median, 0, 200, 0.1, [](int i) { return i % 2 == 1 ? 0.6 : 0.1; });  // half slow
  median.Evaluate(At(20));
  EXPECT_FALSE(median.conditions()[0].active) << "the 100th smallest is 100 ms";
  median.Observe(Timed(20, "blue", 0.6));  // a fast one leaves, a slow one comes
  median.Evaluate(At(21));
  EXPECT_TRUE(median.conditions()[0].active);
  EXPECT_EQ(median.Firing(0, At(21)).summary, "p50 latency above 500ms on pool blue");

  config.quantile = 0.999;
  config.window_size = 2000;
  LatencyRule p999(config);
  Stream(p999, 0, 1997, 0.01, Fast);
  Stream(p999, 20, 3, 0.01, [](int) { return 1.0; });
  p999.Evaluate(At(21));
  EXPECT_TRUE(p999.conditions()[0].active) << "3 of 2000 put the 1998th smallest above";
  EXPECT_EQ(p999.Firing(0, At(21)).summary, "p99.9 latency above 500ms on pool blue");
}

// ---- Evidence in a part-filled window ---------------------------------------------------------

TEST(LatencyEvidence, fewer_than_min_requests_are_not_judged) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 4, 1, [](int) { return 3.0; });
  rule.Evaluate(At(4));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kTooFewRequests);
  EXPECT_FALSE(rule.conditions()[0].active);
}

TEST(LatencyEvidence, one_slow_request_among_the_first_20_is_not_a_p99) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 19, 0.1, Fast);
  rule.Observe(Timed(2, "blue", 5.0));
  rule.Evaluate(At(2));
  // The nearest-rank p99 of 20 is the largest: 5 s, above the threshold, on one request.
  EXPECT_DOUBLE_EQ(rule.conditions()[0].value, 5.0);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kNotSignificant) << "min_slow is 3";
}

TEST(LatencyEvidence, three_slow_among_ten_fire_at_once) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 10, 0.1, [](int i) { return i < 3 ? 2.0 : 0.012; });
  rule.Evaluate(At(1));
  // P(at least 3 of 10 above a true p99) = 0.00011, below 0.1 %.
  EXPECT_TRUE(rule.conditions()[0].active);
}

TEST(LatencyEvidence, three_slow_among_60_wait_for_more_evidence) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 60, 0.1, [](int i) { return i % 20 == 0 ? 2.0 : 0.012; });
  rule.Evaluate(At(6));
  // P(at least 3 of 60 | 1 %) = 2.2 %: what a healthy p99 does now and then.
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kNotSignificant);
  Stream(rule, 6, 2, 0.1, [](int) { return 2.0; });  // 5 of 62: P = 0.04 %
  rule.Evaluate(At(7));
  EXPECT_TRUE(rule.conditions()[0].active);
}

TEST(LatencyEvidence, a_full_window_fires_on_the_quantile_alone) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 199, 0.1, [](int i) { return i % 70 == 0 ? 2.0 : 0.012; });  // 3 of 199
  rule.Evaluate(At(20));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kNotSignificant) << "199: still part-filled";
  rule.Observe(Timed(20, "blue", 0.012));
  rule.Evaluate(At(21));
  EXPECT_TRUE(rule.conditions()[0].active) << "3 of 200: the definition";
}

TEST(LatencyEvidence, min_slow_is_asked_of_a_full_window_too) {
  RuleConfig config = LatencyConfig();
  config.min_slow = 5;
  LatencyRule rule(config);
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 50 == 49 ? 2.0 : 0.012; });  // 4 slow
  rule.Evaluate(At(20));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kNotSignificant);
  rule.Observe(Timed(20, "blue", 2.0));
  rule.Evaluate(At(21));
  EXPECT_TRUE(rule.conditions()[0].active);
}

// ---- Scopes -----------------------------------------------------------------------------------

// blue times out after 3 s and nginx retries on green, which answers in 10 ms.
LogRecord TimedOutOnBlue(double t) {
  LogRecord r = Request(t, "green", 200, {Attempt("blue", 504), Attempt("green", 200)}, "v2.0.0");
  r.attempts[0].response_time = 3.0;
  r.attempts[1].response_time = 0.010;
  r.request_time = 3.011;
  return r;
}

TEST(LatencyScope, upstream_scope_sees_a_slow_primary_hidden_by_retries) {
  LatencyRule rule(LatencyConfig(ErrorScope::kUpstream));
  EXPECT_THAT(rule.conditions(), IsEmpty()) << "no pool seen yet";
  Stream(rule, 0, 100, 0.1, Fast);
  for (int i = 0; i < 8; ++i) rule.Observe(TimedOutOnBlue(10 + i));
  rule.Evaluate(At(18));
  ASSERT_THAT(rule.conditions(), SizeIs(2));
  EXPECT_THAT(rule.conditions()[0].labels, ElementsAre(Pair("pool", "blue")));
  EXPECT_TRUE(rule.conditions()[0].active) << "8 of 108 attempts on blue took 3 s";
  EXPECT_THAT(rule.conditions()[1].labels, ElementsAre(Pair("pool", "green")));
  EXPECT_FALSE(rule.conditions()[1].active);
  EXPECT_EQ(rule.window(1).size(), 8u);
  const Notification n = rule.Firing(0, At(18));
  EXPECT_THAT(n.fields, Contains(Pair("Window", "108 attempts, 8 above 500ms")));
  EXPECT_THAT(n.fields, Contains(Pair("Slowest", "3s from 127.0.0.1:8081")));
  EXPECT_THAT(n.fields, Contains(Pair("Current Pool", "green")));
}

TEST(LatencyScope, client_scope_blames_the_serving_pool_and_names_the_slowest_attempt) {
  LatencyRule rule(LatencyConfig(ErrorScope::kClient));
  Stream(rule, 0, 100, 0.1, Fast);
  for (int i = 0; i < 8; ++i) rule.Observe(TimedOutOnBlue(10 + i));
  rule.Evaluate(At(18));
  ASSERT_THAT(rule.conditions(), SizeIs(2));
  EXPECT_FALSE(rule.conditions()[0].active) << "blue answered every one of its 100 fast";
  EXPECT_THAT(rule.conditions()[1].labels, ElementsAre(Pair("pool", "green")));
  EXPECT_TRUE(rule.conditions()[1].active) << "what green's clients waited: 8 of 8 took 3 s";
  EXPECT_DOUBLE_EQ(rule.conditions()[1].value, 3.011);
  EXPECT_THAT(rule.Firing(1, At(18)).fields,
              Contains(Pair("Slowest", "3.01s from 127.0.0.1:8081")));
}

TEST(LatencyScope, requests_and_attempts_without_a_pool_or_a_time_are_skipped) {
  LatencyRule client(LatencyConfig(ErrorScope::kClient));
  LatencyRule upstream(LatencyConfig(ErrorScope::kUpstream));
  LogRecord nginx_itself = Request(0, "none", 502);
  nginx_itself.attempts[0].pool = "-";
  nginx_itself.attempts[0].address = "app_pools";
  LogRecord unknown = Timed(1, "blue", 2.0);
  unknown.attempts[0].pool = "unknown";
  LogRecord no_time = Request(2, "blue");
  no_time.request_time = -1;
  no_time.attempts[0].response_time = -1;
  for (Rule* rule : {static_cast<Rule*>(&client), static_cast<Rule*>(&upstream)}) {
    rule->Observe(nginx_itself);
    rule->Observe(unknown);
    rule->Observe(no_time);
    rule->Evaluate(At(3));
  }
  ASSERT_THAT(client.conditions(), SizeIs(1));
  EXPECT_EQ(client.window(0).size(), 1u) << "only the request blue answered in 2 s";
  EXPECT_THAT(upstream.conditions(), IsEmpty());
}

TEST(LatencyScope, pools_are_bounded) {
  LatencyRule rule(LatencyConfig(ErrorScope::kClient));
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) names.push_back("pool" + std::to_string(i));
  for (const std::string& name : names) rule.Observe(Timed(0, name, 0.1));
  EXPECT_THAT(rule.conditions(), SizeIs(LatencyRule::kMaxPools));
}

// ---- max_age ----------------------------------------------------------------------------------

TEST(LatencyMaxAge, at_low_traffic_the_window_stays_thin_and_needs_evidence) {
  RuleConfig config = LatencyConfig();
  config.max_age = seconds(60);
  LatencyRule rule(config);
  // One request a second: the window never holds more than the last 60, three of them slow.
  Stream(rule, 0, 300, 1, [](int i) { return i == 250 || i == 270 || i == 290 ? 2.0 : 0.012; });
  rule.Evaluate(At(300));
  EXPECT_EQ(rule.window(0).size(), 60u);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kNotSignificant);
}

TEST(LatencyMaxAge, slow_requests_age_out_and_an_idle_pool_resolves_after_two_max_ages) {
  LatencyRule rule(LatencyConfig());  // max_age 300 s, resolve_for 60 s, 400 requests
  Stream(rule, 0, 10, 1, [](int) { return 2.0; });
  rule.Evaluate(At(10));
  ASSERT_TRUE(rule.conditions()[0].active);
  rule.Evaluate(At(309));  // the last slow request (t = 9) is 300 s old, not older
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kFiring);
  rule.Evaluate(At(310));
  EXPECT_EQ(rule.window(0).size(), 0u);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving);
  rule.Evaluate(At(909));
  EXPECT_TRUE(rule.conditions()[0].active);
  rule.Evaluate(At(910));
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kTooFewRequests);
  EXPECT_EQ(rule.Resolved(0, At(910)).summary,
            "p99 latency on pool blue no longer judged: too few recent requests");
}

// ---- Resolution -------------------------------------------------------------------------------

TEST(LatencyResolution, resolves_after_resolve_for_and_resolve_requests_below_90_percent) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 10 == 0 ? 2.0 : 0.012; });  // 10 % slow
  rule.Evaluate(At(20));
  ASSERT_TRUE(rule.conditions()[0].active);
  // Better, not well: 5 % at 470 ms, below the threshold but above 450 ms.
  Stream(rule, 20, 200, 0.1, [](int i) { return i % 20 == 0 ? 0.47 : 0.012; });
  rule.Evaluate(At(40));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_FALSE(rule.conditions()[0].breaching);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kFiring) << "hysteresis";
  // Healthy from 40 s: the 470 ms requests have left the window (p99 ≤ 450 ms) by 60 s.
  Stream(rule, 40, 200, 0.1, Fast);
  rule.Evaluate(At(60));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving);
  Stream(rule, 60, 600, 0.1, Fast);
  rule.Evaluate(At(119));
  EXPECT_TRUE(rule.conditions()[0].active) << "59 s clear";
  rule.Evaluate(At(120));
  EXPECT_FALSE(rule.conditions()[0].active) << "60 s and 600 requests";
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
  const Notification n = rule.Resolved(0, At(120));
  EXPECT_EQ(n.title, "LATENCY RESOLVED");
  EXPECT_EQ(n.summary, "p99 latency is back to normal on pool blue");
  EXPECT_THAT(n.fields, Contains(Pair("Clear for", "1m 0s, 800 requests at or below 450ms")));
}

TEST(LatencyResolution, a_dip_in_the_middle_of_an_incident_does_not_resolve) {
  LatencyRule rule(LatencyConfig());
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 10 == 0 ? 2.0 : 0.012; });
  rule.Evaluate(At(20));
  ASSERT_TRUE(rule.conditions()[0].active);
  Stream(rule, 20, 200, 0.1, [](int i) { return i == 50 || i == 150 ? 2.0 : 0.012; });
  rule.Evaluate(At(40));  // 2 slow of 200: p99 fast for now
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving);
  Stream(rule, 40, 40, 0.1, [](int i) { return i % 4 == 0 ? 2.0 : 0.012; });
  rule.Evaluate(At(44));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kFiring);
  EXPECT_TRUE(rule.conditions()[0].breaching);
  EXPECT_EQ(rule.conditions()[0].episodes_started, 0) << "the same episode";
}

TEST(LatencyResolution, a_resolve_threshold_can_be_set) {
  RuleConfig config = LatencyConfig();
  config.latency_resolve_threshold = milliseconds(200);
  config.resolve_for = milliseconds(0);
  config.resolve_requests = 0;
  LatencyRule rule(config);
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 10 == 0 ? 2.0 : 0.012; });
  rule.Evaluate(At(20));
  Stream(rule, 20, 200, 0.1, [](int i) { return i % 10 == 0 ? 0.3 : 0.012; });
  rule.Evaluate(At(40));
  EXPECT_TRUE(rule.conditions()[0].active) << "300 ms is above the 200 ms resolve threshold";
  Stream(rule, 40, 200, 0.1, Fast);
  rule.Evaluate(At(60));
  EXPECT_FALSE(rule.conditions()[0].active);
}

TEST(LatencyResolution, for_holds_the_alert_pending_until_the_breach_has_lasted) {
  RuleConfig config = LatencyConfig();
  config.for_duration = seconds(30);
  LatencyRule rule(config);
  Stream(rule, 0, 200, 0.1, Fast);
  for (int t = 20; t < 60; ++t) {
    Stream(rule, t, 10, 0.1, [](int i) { return i == 0 ? 2.0 : 0.012; });  // 10 % slow
    rule.Evaluate(At(t + 1));
    const AlertCondition& c = rule.conditions()[0];
    // 3 slow requests (t = 20, 21, 22) first breach at 23 s; active 30 s later.
    if (t + 1 < 23) {
      EXPECT_EQ(c.reason, Decision::kBelowThreshold) << t + 1;
    } else if (t + 1 < 53) {
      EXPECT_EQ(c.reason, Decision::kPending) << t + 1;
      EXPECT_FALSE(c.active);
      EXPECT_FALSE(c.breaching);
    } else {
      EXPECT_TRUE(c.active) << t + 1;
      EXPECT_EQ(c.episodes_started, t + 1 == 53 ? 1 : 0);
    }
  }
  EXPECT_THAT(rule.Detail(0), HasSubstr("p99 2s"));
}

TEST(LatencyResolution, a_breach_that_stops_restarts_the_for_clock) {
  RuleConfig config = LatencyConfig();
  config.for_duration = seconds(30);
  LatencyRule rule(config);
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 10 == 0 ? 2.0 : 0.012; });
  rule.Evaluate(At(20));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kPending);
  Stream(rule, 20, 200, 0.1, Fast);
  rule.Evaluate(At(40));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
  Stream(rule, 40, 200, 0.1, [](int i) { return i % 10 == 0 ? 2.0 : 0.012; });
  rule.Evaluate(At(60));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kPending) << "30 s from 60 s, not from 20 s";
  rule.Evaluate(At(90));
  EXPECT_TRUE(rule.conditions()[0].active);
}

// ---- Restart and reconfiguration -------------------------------------------------------------

TEST(LatencyRestart, a_restored_alert_resolves_only_on_sustained_evidence) {
  LatencyRule rule(LatencyConfig());
  const int i = rule.FindOrAddAlert({{"pool", "blue"}});
  ASSERT_EQ(i, 0);
  rule.RestoreActive(0, At(0));
  // The fresh window is fast, but 20 requests are no evidence that it is over.
  Stream(rule, 10, 20, 0.1, Fast);
  rule.Evaluate(At(12));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving);
  EXPECT_EQ(rule.conditions()[0].episodes_started, 0);
  Stream(rule, 12, 600, 0.1, Fast);
  rule.Evaluate(At(71));
  EXPECT_TRUE(rule.conditions()[0].active);
  rule.Evaluate(At(72));
  EXPECT_FALSE(rule.conditions()[0].active);
}

TEST(LatencyRestart, the_engine_neither_repeats_nor_falsely_resolves_across_a_restart) {
  AlertingConfig config;
  config.rules = {LatencyConfig()};
  AlertEngine before(config);
  for (int i = 0; i < 200; ++i) before.Observe(Timed(i * 0.1, "blue", i % 10 == 0 ? 2.0 : 0.012));
  const Evaluation fired = before.Evaluate(At(20));
  ASSERT_THAT(fired.notifications, SizeIs(1));
  EXPECT_EQ(fired.notifications[0].status, AlertStatus::kFiring);

  AlertEngine after(config);
  after.ImportState(before.ExportState());
  std::vector<Notification> sent;
  for (int t = 30; t < 200; ++t) {
    for (int i = 0; i < 10; ++i) after.Observe(Timed(t + i * 0.1, "blue", 0.012));
    for (Notification& n : after.Evaluate(At(t + 1)).notifications) sent.push_back(n);
  }
  ASSERT_THAT(sent, SizeIs(1)) << "no second firing, one resolution";
  EXPECT_EQ(sent[0].status, AlertStatus::kResolved);
  EXPECT_THAT(sent[0].labels, ElementsAre(Pair("pool", "blue")));
  // Fast from the first request after the restart (31 s), and 400 requests by 71 s: 60 s clear.
  EXPECT_EQ(sent[0].at, At(91));
}

TEST(LatencyReconfigure, keeps_the_window_and_judges_by_the_new_settings) {
  RuleConfig config = LatencyConfig();
  config.latency_threshold = milliseconds(1000);
  LatencyRule rule(config);
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 20 == 0 ? 0.7 : 0.012; });  // 10 at 700 ms
  rule.Evaluate(At(20));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
  config.latency_threshold = milliseconds(500);
  config.window_size = 100;
  rule.Reconfigure(config, "blue");
  EXPECT_DOUBLE_EQ(rule.conditions()[0].threshold, 0.5);
  EXPECT_EQ(rule.conditions()[0].window_size, 100u);
  rule.Evaluate(At(21));
  EXPECT_EQ(rule.window(0).size(), 100u) << "the newest 100 kept";
  EXPECT_TRUE(rule.conditions()[0].active) << "5 of them at 700 ms, now above the threshold";
  EXPECT_EQ(rule.Firing(0, At(21)).summary, "p99 latency above 500ms on pool blue");
}

// ---- Failover ---------------------------------------------------------------------------------

TEST(LatencyFailover, the_attempts_of_an_ended_failover_leave_the_upstream_window_only) {
  LatencyRule upstream(LatencyConfig(ErrorScope::kUpstream));
  LatencyRule client(LatencyConfig(ErrorScope::kClient));
  for (Rule* rule : {static_cast<Rule*>(&upstream), static_cast<Rule*>(&client)}) {
    for (int i = 0; i < 10; ++i) rule->Observe(TimedOutOnBlue(i));
    for (int i = 0; i < 10; ++i) rule->Observe(Timed(20 + i, "blue", 0.012));
    rule->ForgetErrorsOfFailover("blue", At(15));
    rule->ForgetErrorsOfFailover("green", At(15));
  }
  EXPECT_EQ(upstream.window(0).size(), 10u) << "blue's timed-out attempts belong to the failover";
  EXPECT_EQ(upstream.window(0).CountAbove(0.5), 0u);
  EXPECT_EQ(client.window(0).size(), 10u) << "what green's clients waited stays";
  EXPECT_EQ(client.window(0).CountAbove(0.5), 10u);
}

TEST(LatencyFailover, the_engine_inhibits_upstream_latency_while_the_pool_is_failed_over) {
  AlertingConfig config = AlertingConfig::SeedDefaults();
  config.rules.resize(1);  // failover only
  RuleConfig latency = LatencyConfig(ErrorScope::kUpstream);
  latency.name = "upstream_latency";
  config.rules.push_back(latency);
  AlertEngine engine(config);
  for (int i = 0; i < 50; ++i) engine.Observe(Timed(i * 0.1, "blue", 0.012));
  for (int i = 0; i < 10; ++i) engine.Observe(TimedOutOnBlue(5 + i * 0.1));
  const Evaluation e = engine.Evaluate(At(6));
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].rule, "failover");
  bool inhibited = false;
  for (const DecisionRecord& d : e.decisions) {
    if (d.rule == "upstream_latency" && d.decision == Decision::kInhibited) inhibited = true;
  }
  EXPECT_TRUE(inhibited);
}

TEST(LatencyRule, find_or_add_alert_takes_one_real_pool) {
  LatencyRule rule(LatencyConfig());
  EXPECT_EQ(rule.FindOrAddAlert({}), -1);
  EXPECT_EQ(rule.FindOrAddAlert({{"pool", "unknown"}}), -1);
  EXPECT_EQ(rule.FindOrAddAlert({{"pool", "blue"}, {"release", "v1"}}), -1);
  EXPECT_EQ(rule.FindOrAddAlert({{"pool", "green"}}), 0);
  EXPECT_EQ(rule.FindOrAddAlert({{"pool", "blue"}}), 1);
  EXPECT_EQ(rule.FindOrAddAlert({{"pool", "green"}}), 0);
}

}  // namespace
}  // namespace poolwatch
