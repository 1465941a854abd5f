#include "alerting/error_rate_rule.h"

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

RuleConfig ErrorRateConfig(ErrorScope scope = ErrorScope::kClient) {
  RuleConfig c;
  c.name = "error_rate";
  c.kind = RuleKind::kErrorRate;
  c.scope = scope;
  c.threshold_percent = 2;
  c.window_size = 100;
  c.min_requests = 20;
  c.max_age = std::chrono::seconds(300);
  return ResolvingAtOnce(c);
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

namespace poolwatch {
namespace {

// The rule with the defaults users get (judging evidence, resolving on a sustained stretch).
RuleConfig DefaultErrorRate() {
  RuleConfig c;
  c.name = "error_rate";
  c.kind = RuleKind::kErrorRate;
  return c;
}

// `n` requests from `start`, `spacing` seconds apart, each a 500 when `error(i)`.
template <typename IsError>
void Stream(Rule& rule, double start, int n, double spacing, IsError error) {
  for (int i = 0; i < n; ++i) {
    rule.Observe(Request(start + i * spacing, "blue", error(i) ? 500 : 200));
  }
}

TEST(ErrorRateEvidence, one_error_among_the_first_21_requests_is_not_significant) {
  ErrorRateRule rule(DefaultErrorRate());
  Stream(rule, 0, 21, 0.1, [](int i) { return i == 20; });
  rule.Evaluate(At(3));
  const AlertCondition& c = rule.conditions()[0];
  EXPECT_FALSE(c.active);
  EXPECT_EQ(c.reason, Decision::kNotSignificant);
  EXPECT_NEAR(c.value, 100.0 / 21, 1e-9);
}

TEST(ErrorRateEvidence, a_clear_burst_in_a_thin_window_fires_at_once) {
  ErrorRateRule rule(DefaultErrorRate());
  Stream(rule, 0, 20, 0.1, [](int i) { return i % 2 == 0; });  // 10 of the first 20
  rule.Evaluate(At(2));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_TRUE(rule.conditions()[0].breaching);
  EXPECT_EQ(rule.conditions()[0].window_fill, 20u);
}

TEST(ErrorRateEvidence, a_full_window_keeps_the_seed_rule) {
  // 5 of 200 is 2.5 %: more than 2 % of the last WINDOW_SIZE requests, significant or not.
  ErrorRateRule rule(DefaultErrorRate());
  Stream(rule, 0, 199, 0.1, [](int i) { return i % 40 == 0; });
  rule.Evaluate(At(20));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kNotSignificant) << "5 of 199: thin";
  Stream(rule, 20, 1, 0.1, [](int) { return false; });
  rule.Evaluate(At(21));
  EXPECT_TRUE(rule.conditions()[0].active) << "5 of 200: the seed's rule";
}

TEST(ErrorRateEvidence, a_low_traffic_site_that_fails_is_paged) {
  // One request every 20 s: max_age keeps 15 in the window, never a full one.
  ErrorRateRule rule(DefaultErrorRate());
  Stream(rule, 0, 30, 20, [](int) { return false; });
  rule.Evaluate(At(600));
  EXPECT_FALSE(rule.conditions()[0].active);
  Stream(rule, 600, 3, 20, [](int) { return true; });
  rule.Evaluate(At(641));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kNotSignificant)
      << "3 of 15: a 0.3 % chance at 2 %, not below 0.1 %";
  Stream(rule, 660, 1, 20, [](int) { return true; });
  rule.Evaluate(At(661));
  EXPECT_TRUE(rule.conditions()[0].active) << "4 failures among 15 requests";
}

TEST(ErrorRateResolution, a_dip_in_the_middle_of_an_incident_does_not_resolve) {
  ErrorRateRule rule(DefaultErrorRate());
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 20 == 0; });  // 5 %
  rule.Evaluate(At(20));
  ASSERT_TRUE(rule.conditions()[0].active);
  // The window dips to 1 % (2 errors in 200) for a few seconds...
  Stream(rule, 20, 200, 0.1, [](int i) { return i == 80 || i == 150; });
  rule.Evaluate(At(36));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving);
  EXPECT_FALSE(rule.conditions()[0].breaching);
  // ... and the failure goes on: the stretch starts again.
  Stream(rule, 36, 40, 0.1, [](int i) { return i % 5 == 0; });
  rule.Evaluate(At(40));
  EXPECT_TRUE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kFiring);
}

TEST(ErrorRateResolution, resolves_after_resolve_for_and_resolve_requests) {
  RuleConfig config = DefaultErrorRate();
  config.resolve_for = std::chrono::seconds(60);
  config.resolve_requests = 400;
  ErrorRateRule rule(config);
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 10 == 0; });  // 10 %
  rule.Evaluate(At(20));
  ASSERT_TRUE(rule.conditions()[0].active);
  // Healthy from 20 s at 10 req/s: the window is clear once the errors have left it (40 s).
  Stream(rule, 20, 200, 0.1, [](int) { return false; });
  rule.Evaluate(At(40));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving) << "clear since 40 s";
  Stream(rule, 40, 600, 0.1, [](int) { return false; });
  rule.Evaluate(At(99));
  EXPECT_TRUE(rule.conditions()[0].active) << "59 s clear: not yet";
  rule.Evaluate(At(100));
  EXPECT_FALSE(rule.conditions()[0].active) << "60 s and 600 requests clear";
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kBelowThreshold);
  const Notification n = rule.Resolved(0, At(100));
  // The 200 good requests between the last evaluation above 1 % (20 s) and the first at or
  // below it (40 s) count too: 800.
  EXPECT_THAT(n.fields,
              ::testing::Contains(Pair("Clear for", "1m 0s, 800 requests at or below 1%")));
}

TEST(ErrorRateResolution, time_alone_is_not_enough_without_the_requests) {
  RuleConfig config = DefaultErrorRate();
  config.resolve_for = std::chrono::seconds(10);
  config.resolve_requests = 400;
  config.max_age = std::chrono::seconds(0);  // no age bound: only requests can resolve it
  ErrorRateRule rule(config);
  Stream(rule, 0, 200, 0.1, [](int i) { return i % 10 == 0; });
  rule.Evaluate(At(20));
  // Clear from the evaluation at 40 s, counting the 200 good requests since the one at 20 s.
  Stream(rule, 20, 200, 0.1, [](int) { return false; });
  rule.Evaluate(At(40));
  Stream(rule, 40, 199, 1, [](int) { return false; });
  rule.Evaluate(At(239));
  EXPECT_TRUE(rule.conditions()[0].active) << "399 requests";
  Stream(rule, 239, 1, 1, [](int) { return false; });
  rule.Evaluate(At(240));
  EXPECT_FALSE(rule.conditions()[0].active) << "400 requests";
}

TEST(ErrorRateResolution, a_burst_of_good_requests_between_two_evaluations_counts) {
  // A quiet site: 100 errors, one evaluation, then a burst of 500 good requests and silence.
  // The burst is the evidence; waiting for more requests would mean two max_ages.
  RuleConfig config = DefaultErrorRate();
  config.resolve_for = std::chrono::seconds(5);
  ErrorRateRule rule(config);
  Stream(rule, 0, 100, 0.01, [](int) { return true; });
  rule.Evaluate(At(1));
  ASSERT_TRUE(rule.conditions()[0].active);
  Stream(rule, 1, 500, 0.001, [](int) { return false; });
  rule.Evaluate(At(2));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving);
  rule.Evaluate(At(7));
  EXPECT_FALSE(rule.conditions()[0].active) << "5 s clear, 500 good requests since the errors";
}

TEST(ErrorRateResolution, requests_before_the_last_error_do_not_count) {
  RuleConfig config = DefaultErrorRate();
  config.resolve_for = std::chrono::seconds(0);
  config.resolve_requests = 300;
  ErrorRateRule rule(config);
  Stream(rule, 0, 200, 0.01, [](int i) { return i % 5 == 0; });
  rule.Evaluate(At(2));
  ASSERT_TRUE(rule.conditions()[0].active);
  // 299 good requests, one error (the window stays at 0.5 %, clear), 250 good ones.
  Stream(rule, 2, 550, 0.001, [](int i) { return i == 299; });
  rule.Evaluate(At(3));
  EXPECT_TRUE(rule.conditions()[0].active) << "250 since the last error";
  Stream(rule, 3, 50, 0.001, [](int) { return false; });
  rule.Evaluate(At(4));
  EXPECT_FALSE(rule.conditions()[0].active) << "300 since the last error";
}

TEST(ErrorRateResolution, traffic_too_low_for_the_requests_resolves_after_two_max_ages) {
  ErrorRateRule rule(DefaultErrorRate());  // resolve_for 60 s, 400 requests, max_age 300 s
  Stream(rule, 0, 10, 1, [](int) { return true; });
  rule.Evaluate(At(10));
  ASSERT_TRUE(rule.conditions()[0].active);
  // No traffic at all: the errors age out at 309 s, the window is empty and clear from then.
  rule.Evaluate(At(310));
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kResolving);
  rule.Evaluate(At(909));
  EXPECT_TRUE(rule.conditions()[0].active);
  rule.Evaluate(At(910));
  EXPECT_FALSE(rule.conditions()[0].active);
  EXPECT_EQ(rule.conditions()[0].reason, Decision::kTooFewRequests);
  EXPECT_EQ(rule.Resolved(0, At(910)).summary,
            "Error rate no longer judged: too few recent requests");
}

}  // namespace
}  // namespace poolwatch
