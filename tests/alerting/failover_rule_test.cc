#include "alerting/failover_rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Attempt;
using poolwatch::testing::Request;
using poolwatch::testing::ResolvingAtOnce;
using poolwatch::testing::Retried;
using ::testing::ElementsAre;
using ::testing::Pair;

RuleConfig FailoverConfig(std::chrono::milliseconds for_duration = {}) {
  RuleConfig c;
  c.name = "failover";
  c.kind = RuleKind::kFailover;
  c.for_duration = for_duration;
  return ResolvingAtOnce(c);
}

TEST(FailoverRule, fires_on_the_first_request_off_the_primary) {
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "blue"));
  rule.Observe(Request(1, "blue"));
  rule.Evaluate(At(1));
  ASSERT_EQ(rule.conditions().size(), 1u);
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);

  rule.Observe(Request(2, "green", 200, {}, "v2.0.0"));
  rule.Evaluate(At(2));
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_TRUE(c.active);
  EXPECT_EQ(c.episodes_started, 1);
  EXPECT_EQ(c.since, At(2));

  const Notification n = rule.Firing(0, At(2));
  EXPECT_EQ(n.rule, "failover");
  EXPECT_EQ(n.status, AlertStatus::kFiring);
  EXPECT_EQ(n.title, "FAILOVER");
  EXPECT_EQ(n.summary, "Pool failover detected!");
  EXPECT_THAT(n.labels, ElementsAre(Pair("pool", "blue")));
  EXPECT_THAT(n.fields, ElementsAre(Pair("Previous", "blue"), Pair("Current", "green"),
                                    Pair("Release", "v2.0.0")));
  EXPECT_EQ(n.action, "Check health of blue pool");
  EXPECT_EQ(n.at, At(2));
}

TEST(FailoverRule, first_line_on_the_backup_is_a_failover) {
  // ACTIVE_POOL is the baseline, not the first line (the seed's bug).
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "green"));
  rule.Evaluate(At(0));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_THAT(rule.Firing(0, At(0)).fields[0], Pair("Previous", "blue"));
  EXPECT_THAT(rule.Firing(0, At(0)).fields[1], Pair("Current", "green"));
}

TEST(FailoverRule, retried_request_counts_as_served_by_the_backup) {
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "blue"));
  rule.Observe(Retried(1));  // upstream 500 (blue), 200 (green); client 200; pool green
  rule.Evaluate(At(1));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_EQ(rule.serving_pool(), "green");
}

TEST(FailoverRule, recovery_resolves_instead_of_reporting_another_failover) {
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "blue"));
  rule.Observe(Request(1, "green"));
  rule.Evaluate(At(1));
  ASSERT_TRUE(rule.conditions()[0].active);

  rule.Observe(Request(95, "blue", 200, {}, "v1.0.1"));
  rule.Evaluate(At(95));
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_FALSE(c.active);
  EXPECT_EQ(c.episodes_started, 0);  // no new failover
  EXPECT_EQ(c.reason, Decision::kBelowThreshold);
  const Notification n = rule.Resolved(0, At(95));
  EXPECT_EQ(n.status, AlertStatus::kResolved);
  EXPECT_EQ(n.title, "FAILOVER RESOLVED");
  EXPECT_EQ(n.summary, "Traffic is back on blue");
  EXPECT_THAT(n.fields, ElementsAre(Pair("Previous", "green"), Pair("Current", "blue"),
                                    Pair("Release", "v1.0.1"), Pair("Off primary for", "1m 34s")));
  EXPECT_EQ(n.at, At(95));
}

TEST(FailoverRule, records_without_a_pool_do_not_change_the_serving_pool) {
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Evaluate(At(0));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kTooFewRequests);
  rule.Observe(Request(0, "blue"));
  LogRecord none = Request(1, kPoolNone, 502, {Attempt(kPoolUnknown, 502)});
  rule.Observe(none);
  rule.Observe(Request(2, kPoolUnknown, 200, {Attempt(kPoolUnknown, 200)}));
  rule.Observe(Request(3, "", 200, {Attempt(kPoolUnknown, 200)}));
  rule.Evaluate(At(3));
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.serving_pool(), "blue");
}

TEST(FailoverRule, missing_pool_header_falls_back_to_the_last_attempt) {
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "", 200, {Attempt("blue", 502), Attempt("green", 200)}));
  rule.Evaluate(At(0));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_EQ(rule.serving_pool(), "green");
}

TEST(FailoverRule, for_ignores_a_one_request_blip) {
  FailoverRule rule(FailoverConfig(std::chrono::seconds(10)), "blue");
  rule.Observe(Request(0, "blue"));
  rule.Observe(Retried(1));
  rule.Evaluate(At(1));
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kPending);
  rule.Observe(Request(2, "blue"));
  rule.Evaluate(At(30));
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].episodes_started, 0);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
}

TEST(FailoverRule, for_fires_once_traffic_stayed_off_the_primary_that_long) {
  FailoverRule rule(FailoverConfig(std::chrono::seconds(10)), "blue");
  rule.Observe(Request(0, "blue"));
  for (int t = 1; t < 11; ++t) rule.Observe(Request(t, "green"));
  rule.Evaluate(At(10.5));
  EXPECT_FALSE(rule.conditions()[0].active) << "green for 9 s only";
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kPending);
  rule.Observe(Request(11, "green"));
  rule.Evaluate(At(11));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].since, At(11));
  const Notification n = rule.Firing(0, At(11));
  EXPECT_THAT(n.fields, ::testing::Contains(Pair("Off primary for", "10s")));
  EXPECT_EQ(n.at, At(11));
}

TEST(FailoverRule, episode_between_two_evaluations_is_latched) {
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "blue"));
  rule.Evaluate(At(0));
  rule.Observe(Retried(0.01));
  rule.Observe(Request(0.02, "blue", 200, {}, "v1.0.0"));
  rule.Evaluate(At(0.1));
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_FALSE(c.active);
  EXPECT_EQ(c.episodes_started, 1);
  const Notification fired = rule.Firing(0, At(0.1));
  EXPECT_THAT(fired.fields[1], Pair("Current", "green"));
  EXPECT_EQ(fired.at, At(0.01));
  const Notification resolved = rule.Resolved(0, At(0.1));
  EXPECT_EQ(resolved.summary, "Traffic is back on blue");
  EXPECT_EQ(resolved.at, At(0.02));
  // Handed over once: the next evaluation has nothing new.
  rule.Evaluate(At(0.2));
  EXPECT_EQ(rule.conditions()[0].episodes_started, 0);
}

TEST(FailoverRule, move_between_backup_pools_is_a_change_of_the_same_alert) {
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "green"));
  rule.Evaluate(At(0));
  rule.Observe(Request(5, "red", 200, {}, "v3"));
  rule.Evaluate(At(5));
  ASSERT_EQ(rule.conditions().size(), 1u);
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_TRUE(c.active);
  EXPECT_TRUE(c.changed);
  EXPECT_EQ(c.episodes_started, 0);
  const Notification n = rule.Firing(0, At(5));
  EXPECT_THAT(n.labels, ElementsAre(Pair("pool", "blue")));
  EXPECT_THAT(n.fields, ElementsAre(Pair("Previous", "green"), Pair("Current", "red"),
                                    Pair("Primary", "blue (still out)"), Pair("Release", "v3")));
  EXPECT_EQ(n.action, "Check health of green pool");
}

TEST(FailoverRule, moves_read_in_one_batch_are_paged_as_leaving_the_primary) {
  // One read of the log can hold the failover and a further move (the daemon evaluates once a
  // read): the first page still says traffic left blue, and where it is now.
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "blue"));
  rule.Evaluate(At(0));
  rule.Observe(Request(1, "green"));
  rule.Observe(Request(2, "red", 200, {}, "v3"));
  rule.Evaluate(At(2));
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_TRUE(c.active);
  EXPECT_EQ(c.episodes_started, 1);
  const Notification n = rule.Firing(0, At(2));
  EXPECT_THAT(n.fields,
              ElementsAre(Pair("Previous", "blue"), Pair("Current", "red"), Pair("Release", "v3")));
  EXPECT_EQ(n.action, "Check health of blue pool");
}

TEST(FailoverRule, moves_while_for_is_pending_are_paged_as_leaving_the_primary) {
  FailoverRule rule(FailoverConfig(std::chrono::seconds(2)), "blue");
  rule.Observe(Request(0, "blue"));
  rule.Evaluate(At(0));
  rule.Observe(Request(1, "green"));
  rule.Evaluate(At(1));
  rule.Observe(Request(2, "red", 200, {}, "v3"));
  rule.Evaluate(At(2));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kPending);
  rule.Observe(Request(3.5, "red", 200, {}, "v3"));
  rule.Evaluate(At(3.5));
  ASSERT_TRUE(rule.conditions()[0].active);
  const Notification n = rule.Firing(0, At(3.5));
  EXPECT_THAT(n.fields, ElementsAre(Pair("Previous", "blue"), Pair("Current", "red"),
                                    Pair("Release", "v3"), Pair("Off primary for", "2s")));
  EXPECT_EQ(n.action, "Check health of blue pool");
}

TEST(FailoverRule, a_move_after_the_page_names_the_backup_it_left) {
  FailoverRule rule(FailoverConfig(std::chrono::seconds(2)), "blue");
  rule.Observe(Request(0, "blue"));
  rule.Observe(Request(1, "green"));
  rule.Observe(Request(3, "green"));
  rule.Evaluate(At(3));
  ASSERT_TRUE(rule.conditions()[0].active);
  rule.Observe(Request(4, "red"));
  rule.Evaluate(At(4));
  EXPECT_TRUE(rule.conditions()[0].changed);
  const Notification n = rule.Firing(0, At(4));
  EXPECT_EQ(n.fields[0], std::make_pair(std::string("Previous"), std::string("green")));
  EXPECT_EQ(n.action, "Check health of green pool");
}

TEST(FailoverRule, new_primary_after_reconfigure_ends_the_old_alert) {
  FailoverRule rule(FailoverConfig(), "blue");
  rule.Observe(Request(0, "green"));
  rule.Evaluate(At(0));
  ASSERT_TRUE(rule.conditions()[0].active);
  rule.Reconfigure(FailoverConfig(), "green");  // green promoted
  rule.Evaluate(At(1));
  ASSERT_EQ(rule.conditions().size(), 2u);
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_FALSE(rule.conditions()[1].active);
  EXPECT_THAT(rule.conditions()[1].labels, ElementsAre(Pair("pool", "green")));
  EXPECT_EQ(rule.Resolved(0, At(1)).summary, "blue is no longer the expected primary");
  // And the new primary's alert works: traffic on blue is now a failover away from green.
  rule.Observe(Request(2, "blue"));
  rule.Evaluate(At(2));
  EXPECT_TRUE(rule.conditions()[1].active);
  EXPECT_THAT(rule.Firing(1, At(2)).fields[0], Pair("Previous", "green"));
}

TEST(FailoverRule, observe_keeps_no_view_into_the_record) {
  FailoverRule rule(FailoverConfig(), "blue");
  std::string buffer = "green";
  LogRecord r = Request(0, "blue");
  r.pool = buffer;
  rule.Observe(r);
  buffer = "zzzzz";  // the line buffer is reused for the next line
  rule.Evaluate(At(0));
  EXPECT_EQ(rule.serving_pool(), "green");
  EXPECT_THAT(rule.Firing(0, At(0)).fields[1], Pair("Current", "green"));
}

}  // namespace
}  // namespace poolwatch

namespace poolwatch {
namespace {

// Failover with its default resolution: 30 s and 10 requests back on the primary.
RuleConfig DefaultFailover() {
  RuleConfig c;
  c.name = "failover";
  c.kind = RuleKind::kFailover;
  return c;
}

TEST(FailoverResolution, a_primary_flapping_back_for_seconds_is_one_incident) {
  FailoverRule rule(DefaultFailover(), "blue");
  rule.Observe(Request(0, "blue"));
  int started = 0;
  // nginx tries blue again every 5 s (fail_timeout) and it fails again, for two minutes.
  for (int cycle = 0; cycle < 12; ++cycle) {
    const double t = 1 + cycle * 10;
    for (int i = 0; i < 5; ++i) rule.Observe(Request(t + i, "green"));
    rule.Evaluate(At(t + 5));
    started += rule.conditions()[0].episodes_started;
    EXPECT_TRUE(rule.conditions()[0].breaching);
    for (int i = 0; i < 5; ++i) rule.Observe(Request(t + 5 + i, "blue"));
    rule.Evaluate(At(t + 10));
    started += rule.conditions()[0].episodes_started;
    EXPECT_TRUE(rule.conditions()[0].active) << "cycle " << cycle;
    EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving);
    EXPECT_FALSE(rule.conditions()[0].breaching);
  }
  EXPECT_EQ(started, 1);
  // Then blue stays.
  for (int i = 0; i < 40; ++i) rule.Observe(Request(121 + i, "blue", 200, {}, "v1.0.1"));
  rule.Evaluate(At(161));
  EXPECT_FALSE(rule.conditions()[0].active);
  const Notification n = rule.Resolved(0, At(161));
  EXPECT_EQ(n.at, At(146)) << "30 s after blue came back at 116 s";
  EXPECT_THAT(n.fields, ::testing::Contains(Pair("Back for", "30s, 31 requests")));
  EXPECT_THAT(n.fields, ::testing::Contains(Pair("Off primary for", "1m 55s")));
}

TEST(FailoverResolution, enough_requests_then_time_resolves_without_another_line) {
  FailoverRule rule(DefaultFailover(), "blue");
  rule.Observe(Request(0, "green"));
  rule.Evaluate(At(0));
  ASSERT_TRUE(rule.conditions()[0].active);
  for (int i = 0; i < 10; ++i) rule.Observe(Request(10 + i * 0.1, "blue"));
  rule.Evaluate(At(39));
  EXPECT_TRUE(rule.conditions()[0].active);
  rule.Evaluate(At(40));
  EXPECT_FALSE(rule.conditions()[0].active);
}

TEST(FailoverResolution, time_without_enough_requests_does_not_resolve) {
  FailoverRule rule(DefaultFailover(), "blue");
  rule.Observe(Request(0, "green"));
  rule.Evaluate(At(0));
  for (int i = 0; i < 9; ++i) rule.Observe(Request(10 + i * 10, "blue"));
  rule.Evaluate(At(200));
  EXPECT_TRUE(rule.conditions()[0].active) << "9 requests on blue";
  rule.Observe(Request(201, "blue"));
  rule.Evaluate(At(201));
  EXPECT_FALSE(rule.conditions()[0].active);
}

}  // namespace
}  // namespace poolwatch
