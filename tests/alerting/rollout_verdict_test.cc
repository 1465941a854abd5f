#include "alerting/rollout_verdict.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Request;
using std::chrono::minutes;
using std::chrono::seconds;

// `per_second` requests of `release` on `pool` from `start` to `end`, every `error_every`-th a
// 503 (0: none), each taking `took` seconds.
void Serve(ReleaseWindows& w, std::string_view pool, std::string_view release, int start, int end,
           int per_second, int error_every, double took = 0.02) {
  int n = 0;
  for (int t = start; t < end; ++t) {
    for (int i = 0; i < per_second; ++i) {
      LogRecord r = Request(t + i / (per_second + 1.0), pool,
                            error_every > 0 && ++n % error_every == 0 ? 503 : 200, {}, release);
      r.request_time = took;
      w.Observe(r);
    }
  }
}

ReleaseWindows Windows() {
  return ReleaseWindows(AlertEngine::kReleaseWindowSpan, ReleaseWindows::Latency::kOn);
}

RolloutQuery Query(std::string pool, std::string release = "") {
  RolloutQuery q;
  q.pool = std::move(pool);
  q.release = std::move(release);
  return q;
}

TEST(RolloutVerdict, a_release_failing_like_its_baseline_passes_with_both_sides_figures) {
  ReleaseWindows w = Windows();
  Serve(w, "green", "v1.0.0", 0, 300, 5, 200, 0.02);
  Serve(w, "green", "v2.0.0", 100, 300, 5, 200, 0.08);
  const RolloutVerdict v = DecideRolloutVerdict(Query("green", "v2.0.0"), w, {}, {}, At(300));
  EXPECT_EQ(v.error, "");
  EXPECT_EQ(v.outcome, VerdictOutcome::kPass) << v.reason;
  EXPECT_EQ(v.window, minutes(5));
  EXPECT_EQ(v.release.release, "v2.0.0");
  EXPECT_EQ(v.release.summary.requests, 1000u);
  EXPECT_EQ(v.release.summary.errors, 5u);
  EXPECT_EQ(v.baseline.release, "v1.0.0");
  // To one bucket of the verdict windows (15 s, 75 requests here).
  EXPECT_GE(v.baseline.summary.requests, 1425u);
  EXPECT_LE(v.baseline.summary.requests, 1500u);
  // Within the histogram's 12.3 %.
  EXPECT_NEAR(v.release.summary.LatencyQuantile(0.99), 0.08, 0.08 * 0.123);
  EXPECT_NEAR(v.baseline.summary.LatencyQuantile(0.5), 0.02, 0.02 * 0.123);
  EXPECT_EQ(v.release.serving_since, At(100));
}

TEST(RolloutVerdict, a_significantly_worse_release_fails) {
  ReleaseWindows w = Windows();
  Serve(w, "green", "v1.0.0", 0, 300, 5, 0);
  Serve(w, "green", "v2.0.0", 100, 300, 5, 20);  // 5 %
  const RolloutVerdict v = DecideRolloutVerdict(Query("green"), w, {}, {}, At(300));
  EXPECT_EQ(v.outcome, VerdictOutcome::kFail);
  EXPECT_EQ(v.release.release, "v2.0.0") << "the newest release when none is named";
  EXPECT_EQ(v.judgement.finding, RegressionFinding::kWorse);
}

TEST(RolloutVerdict, too_few_requests_or_thin_evidence_is_inconclusive) {
  ReleaseWindows w = Windows();
  Serve(w, "green", "v1.0.0", 0, 300, 5, 0);
  Serve(w, "green", "v2.0.0", 280, 300, 2, 0);  // 40 requests
  EXPECT_EQ(DecideRolloutVerdict(Query("green", "v2.0.0"), w, {}, {}, At(300)).outcome,
            VerdictOutcome::kInconclusive);
  // Not yet serving at all.
  const RolloutVerdict none = DecideRolloutVerdict(Query("green", "v3.0.0"), w, {}, {}, At(300));
  EXPECT_EQ(none.error, "");
  EXPECT_EQ(none.outcome, VerdictOutcome::kInconclusive);
  EXPECT_EQ(none.release.summary.requests, 0u);
  // 3 of 100 against 0 of 1,500: above the bound, not significant.
  ReleaseWindows thin = Windows();
  Serve(thin, "green", "v1.0.0", 0, 300, 5, 0);
  Serve(thin, "green", "v2.0.0", 200, 300, 1, 33);
  const RolloutVerdict t = DecideRolloutVerdict(Query("green", "v2.0.0"), thin, {}, {}, At(300));
  EXPECT_EQ(t.judgement.finding, RegressionFinding::kNotSignificant);
  EXPECT_EQ(t.outcome, VerdictOutcome::kInconclusive);
}

TEST(RolloutVerdict, an_alert_of_the_pool_fails_it_and_other_pools_alerts_do_not) {
  ReleaseWindows w = Windows();
  Serve(w, "green", "v1.0.0", 0, 300, 5, 0);
  Serve(w, "green", "v2.0.0", 0, 300, 5, 0);
  RuleStatus latency;
  latency.name = "latency";
  latency.kind = RuleKind::kLatency;
  latency.labels = {{"pool", "green"}};
  RuleStatus blue_latency = latency;
  blue_latency.labels = {{"pool", "blue"}};
  blue_latency.firing = true;
  RuleStatus old_release = latency;
  old_release.name = "release_regression";
  old_release.kind = RuleKind::kReleaseRegression;
  old_release.labels = {{"pool", "green"}, {"release", "v0.9.0"}};
  old_release.firing = true;
  RuleStatus error_rate;
  error_rate.name = "error_rate";
  error_rate.kind = RuleKind::kErrorRate;
  RuleStatus placeholder;  // a release_regression rule with no alert yet
  placeholder.name = "release_regression";
  placeholder.kind = RuleKind::kReleaseRegression;
  std::vector<RuleStatus> alerts = {latency, blue_latency, old_release, error_rate, placeholder};
  RolloutVerdict v = DecideRolloutVerdict(Query("green", "v2.0.0"), w, alerts, {}, At(300));
  EXPECT_EQ(v.outcome, VerdictOutcome::kPass) << v.reason;
  ASSERT_EQ(v.alerts.size(), 2u);  // green's latency and the pool-less error_rate
  EXPECT_EQ(v.alerts[0].name, "latency");
  EXPECT_EQ(v.alerts[1].name, "error_rate");
  alerts[0].firing = true;
  v = DecideRolloutVerdict(Query("green", "v2.0.0"), w, alerts, {}, At(300));
  EXPECT_EQ(v.outcome, VerdictOutcome::kFail);
  EXPECT_EQ(v.reason, "alert latency fires for pool green");
}

TEST(RolloutVerdict, the_configured_rules_settings_and_compare_apply) {
  ReleaseWindows w = Windows();
  Serve(w, "blue", "v1.0.0", 0, 600, 10, 0);
  Serve(w, "green", "v2.0.0", 0, 600, 10, 20);
  RuleConfig rule;
  rule.name = "canary";
  rule.kind = RuleKind::kReleaseRegression;
  rule.compare = RegressionBaseline::kOtherPools;
  rule.window = minutes(10);
  rule.min_requests = 5000;
  RolloutVerdict v = DecideRolloutVerdict(Query("green"), w, {}, {rule}, At(600));
  EXPECT_EQ(v.window, minutes(10));
  EXPECT_EQ(v.compare, RegressionBaseline::kOtherPools);
  EXPECT_EQ(v.outcome, VerdictOutcome::kFail);
  EXPECT_EQ(v.baseline.release, "v1.0.0");
  EXPECT_EQ(v.baseline.pool, "blue");
  RolloutQuery q = Query("green");
  q.window = minutes(5);  // 3,000 requests a side: below this rule's min_requests
  EXPECT_EQ(DecideRolloutVerdict(q, w, {}, {rule}, At(600)).outcome, VerdictOutcome::kInconclusive);
  q.compare = RegressionBaseline::kOtherReleases;  // green has no other release
  q.window = minutes(10);
  EXPECT_EQ(DecideRolloutVerdict(q, w, {}, {rule}, At(600)).baseline.summary.requests, 0u);
}

TEST(RolloutVerdict, bad_queries_are_errors) {
  ReleaseWindows w = Windows();
  Serve(w, "green", "v1.0.0", 0, 10, 5, 0);
  EXPECT_THAT(DecideRolloutVerdict(Query("purple"), w, {}, {}, At(10)).error,
              ::testing::HasSubstr("unknown pool 'purple'"));
  EXPECT_EQ(DecideRolloutVerdict(Query(""), w, {}, {}, At(10)).error, "pool is required");
  RolloutQuery q = Query("green");
  q.window = minutes(16);
  EXPECT_THAT(DecideRolloutVerdict(q, w, {}, {}, At(10)).error,
              ::testing::HasSubstr("at most 15m0s"));
  q.window = seconds(0);
  EXPECT_FALSE(DecideRolloutVerdict(q, w, {}, {}, At(10)).error.empty());
}

}  // namespace
}  // namespace poolwatch
