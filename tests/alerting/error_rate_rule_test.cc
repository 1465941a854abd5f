#include "alerting/error_rate_rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Attempt;
using poolwatch::testing::Request;
using poolwatch::testing::Retried;
using ::testing::ElementsAre;
using ::testing::Pair;

RuleConfig ErrorRateConfig(ErrorScope scope = ErrorScope::kClient) {
  RuleConfig c;
  c.name = "error_rate";
  c.kind = RuleKind::kErrorRate;
  c.scope = scope;
  c.threshold_percent = 2;
  c.window_size = 100;
  c.min_requests = 20;
  c.max_age = std::chrono::seconds(300);
  return c;
}

// `total` requests on blue from t=0, one per 10 ms, `errors` of them 500s (spread evenly).
void Feed(Rule& rule, int total, int errors, double start = 0, std::string_view pool = "blue") {
  for (int i = 0; i < total; ++i) {
    const bool error = errors > 0 && i % (total / errors) == 0 && i / (total / errors) < errors;
    rule.Observe(Request(start + i * 0.01, pool, error ? 500 : 200));
  }
}

TEST(ErrorRateRule, does_not_fire_at_the_threshold) {
  ErrorRateRule rule(ErrorRateConfig());
  Feed(rule, 100, 2);  // exactly 2 %
  rule.Evaluate(At(1));
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
  EXPECT_DOUBLE_EQ(rule.conditions()[0].value, 2.0);
}

TEST(ErrorRateRule, fires_above_the_threshold_with_the_seed_message) {
  RuleConfig config = ErrorRateConfig();
  config.window_size = 200;
  ErrorRateRule rule(config);
  Feed(rule, 200, 9);  // 4.5 %
  rule.Evaluate(At(2));
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_TRUE(c.active);
  EXPECT_EQ(c.episodes_started, 1);
  EXPECT_EQ(c.window_fill, 200u);
  EXPECT_TRUE(c.labels.empty());
  const Notification n = rule.Firing(0, At(2));
  EXPECT_EQ(n.title, "ERROR_RATE");
  EXPECT_EQ(n.summary, "High error rate detected!");
  EXPECT_THAT(n.fields,
              ElementsAre(Pair("Error Rate", "4.50% (threshold: 2%)"),
                          Pair("5xx Errors", "9/200 requests"), Pair("Current Pool", "blue")));
  EXPECT_EQ(n.action, "Check upstream logs and consider pool toggle");
  EXPECT_EQ(n.at, At(2));
}

TEST(ErrorRateRule, one_error_in_one_request_is_not_judged) {
  ErrorRateRule rule(ErrorRateConfig());
  rule.Observe(Request(0, "blue", 500));
  rule.Evaluate(At(0));
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kTooFewRequests);
  Feed(rule, 18, 18, 0.1);  // 19 errors in 19 requests: still below min_requests
  rule.Evaluate(At(1));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kTooFewRequests);
  rule.Observe(Request(2, "blue", 500));  // the 20th
  rule.Evaluate(At(2));
  EXPECT_TRUE(rule.conditions()[0].active);
}

TEST(ErrorRateRule, max_age_lets_a_quiet_period_resolve_an_old_burst) {
  ErrorRateRule rule(ErrorRateConfig());
  Feed(rule, 50, 25);
  rule.Evaluate(At(1));
  ASSERT_TRUE(rule.conditions()[0].active);
  rule.Evaluate(At(299));  // the burst is not 300 s old yet
  EXPECT_TRUE(rule.conditions()[0].active);
  rule.Evaluate(At(301));  // traffic stopped; the burst aged out
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_FALSE(c.active);
  EXPECT_EQ(c.reason, Decision::kTooFewRequests);
  EXPECT_EQ(c.window_fill, 0u);
  EXPECT_EQ(rule.Resolved(0, At(301)).summary,
            "Error rate no longer judged: too few recent requests");
}

TEST(ErrorRateRule, hysteresis_keeps_firing_until_the_resolve_threshold) {
  RuleConfig config = ErrorRateConfig();
  config.threshold_percent = 5;
  config.resolve_threshold_percent = 2;
  ErrorRateRule rule(config);
  Feed(rule, 100, 10);  // 10 %
  rule.Evaluate(At(1));
  ASSERT_TRUE(rule.conditions()[0].active);
  Feed(rule, 70, 0, 2);  // 30 old entries left with 3 errors: 3 %, between 2 % and 5 %
  rule.Evaluate(At(3));
  EXPECT_DOUBLE_EQ(rule.conditions()[0].value, 3.0);
  EXPECT_TRUE(rule.conditions()[0].active) << "3 % is above the resolve threshold";
  Feed(rule, 10, 0, 4);  // 2 errors left: 2 %
  rule.Evaluate(At(5));
  EXPECT_DOUBLE_EQ(rule.conditions()[0].value, 2.0);
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
  // And 3 % does not fire again from below: the firing threshold is 5 %.
  Feed(rule, 100, 3, 6);
  rule.Evaluate(At(7));
  EXPECT_FALSE(rule.conditions()[0].active);
}

TEST(ErrorRateRule, default_resolve_threshold_is_half_the_threshold) {
  ErrorRateRule rule(ErrorRateConfig());
  Feed(rule, 100, 3);
  rule.Evaluate(At(1));
  ASSERT_TRUE(rule.conditions()[0].active);
  Feed(rule, 33, 0, 2);  // errors were at 0, 33, 66: 2 of them left → 2 %: not <= 1 %
  rule.Evaluate(At(2.5));
  EXPECT_TRUE(rule.conditions()[0].active);
  Feed(rule, 66, 0, 3);
  rule.Evaluate(At(4));
  EXPECT_FALSE(rule.conditions()[0].active);
}

TEST(ErrorRateRule, upstream_scope_sees_failing_blue_hidden_by_retries) {
  ErrorRateRule client(ErrorRateConfig(ErrorScope::kClient));
  ErrorRateRule upstream(ErrorRateConfig(ErrorScope::kUpstream));
  // Blue fails hard; nginx retries every request on green; clients only see 200s.
  for (int i = 0; i < 50; ++i) {
    const LogRecord r = Retried(i * 0.1);
    client.Observe(r);
    upstream.Observe(r);
  }
  client.Evaluate(At(5));
  upstream.Evaluate(At(5));
  EXPECT_FALSE(client.conditions()[0].active);
  EXPECT_DOUBLE_EQ(client.conditions()[0].value, 0.0);

  ASSERT_EQ(upstream.conditions().size(), 2u);
  EXPECT_THAT(upstream.conditions()[0].labels, ElementsAre(Pair("pool", "blue")));
  EXPECT_TRUE(upstream.conditions()[0].active);
  EXPECT_DOUBLE_EQ(upstream.conditions()[0].value, 100.0);
  EXPECT_THAT(upstream.conditions()[1].labels, ElementsAre(Pair("pool", "green")));
  EXPECT_FALSE(upstream.conditions()[1].active);

  const Notification n = upstream.Firing(0, At(5));
  EXPECT_THAT(n.labels, ElementsAre(Pair("pool", "blue")));
  EXPECT_EQ(n.summary, "High error rate detected on pool blue!");
  EXPECT_THAT(n.fields,
              ElementsAre(Pair("Pool", "blue"), Pair("Error Rate", "100.00% (threshold: 2%)"),
                          Pair("5xx Errors", "50/50 attempts (5xx or no response)"),
                          Pair("Current Pool", "green")));
}

TEST(ErrorRateRule, upstream_attempt_without_response_is_an_error) {
  ErrorRateRule rule(ErrorRateConfig(ErrorScope::kUpstream));
  for (int i = 0; i < 30; ++i) {
    rule.Observe(Request(i, "green", 200, {Attempt("blue", 0), Attempt("green", 200)}));
  }
  rule.Evaluate(At(30));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_EQ(rule.window(0).errors(), 30u);
}

TEST(ErrorRateRule, client_scope_counts_requests_nginx_answered_itself) {
  ErrorRateRule rule(ErrorRateConfig());
  for (int i = 0; i < 30; ++i) {
    rule.Observe(Request(i, kPoolNone, 502, {Attempt(kPoolUnknown, 502)}));
  }
  rule.Evaluate(At(30));
  EXPECT_TRUE(rule.conditions()[0].active);
}

TEST(ErrorRateRule, min_requests_above_window_size_cannot_block_the_rule) {
  RuleConfig config = ErrorRateConfig();
  config.window_size = 10;
  config.min_requests = 50;
  ErrorRateRule rule(config);
  Feed(rule, 10, 10);
  rule.Evaluate(At(1));
  EXPECT_TRUE(rule.conditions()[0].active);
}

TEST(ErrorRateRule, reconfigure_keeps_the_window) {
  ErrorRateRule rule(ErrorRateConfig());
  Feed(rule, 100, 10);
  rule.Evaluate(At(1));
  ASSERT_TRUE(rule.conditions()[0].active);
  RuleConfig looser = ErrorRateConfig();
  looser.threshold_percent = 20;
  looser.resolve_threshold_percent = 15;
  looser.window_size = 50;
  rule.Reconfigure(looser, "blue");
  rule.Evaluate(At(1));
  EXPECT_EQ(rule.conditions()[0].window_fill, 50u);
  EXPECT_EQ(rule.conditions()[0].window_size, 50u);
  EXPECT_FALSE(rule.conditions()[0].active);  // 10 % is below the new resolve threshold
}

}  // namespace
}  // namespace poolwatch
