#include "alerting/release_regression_rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "alerting/alert_engine.h"
#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Request;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

// A `kind: release_regression` rule with the reader's defaults: window 5m, min_requests 100,
// 1 point, × 2, 99.9 %, resolving after 60 s and 200 of the release's requests.
RuleConfig RegressionConfig() {
  RuleConfig c;
  c.name = "release_regression";
  c.kind = RuleKind::kReleaseRegression;
  c.min_requests = 100;
  return c;
}

// Per second from `start` to `end` (exclusive): `per_second` requests of `release` on `pool`,
// every `error_every`-th a 502 (0: none). Evaluates at each second.
struct Traffic {
  std::string_view pool;
  std::string_view release;
  int per_second;
  int error_every;
};
void Serve(Rule& rule, int start, int end, std::initializer_list<Traffic> traffic) {
  // Per stream: its errors are every error_every-th of its own requests.
  std::vector<int> counters(traffic.size(), 0);
  for (int t = start; t < end; ++t) {
    size_t k = 0;
    for (const Traffic& tr : traffic) {
      int& counter = counters[k++];
      for (int i = 0; i < tr.per_second; ++i) {
        const bool error = tr.error_every > 0 && ++counter % tr.error_every == 0;
        rule.Observe(
            Request(t + i / (tr.per_second + 1.0), tr.pool, error ? 502 : 200, {}, tr.release));
      }
    }
    rule.Evaluate(At(t + 0.999));
  }
}

const AlertCondition* ConditionOf(const Rule& rule, std::string_view pool,
                                  std::string_view release) {
  for (const AlertCondition& c : rule.conditions()) {
    if (c.labels.at("pool") == pool && c.labels.at("release") == release) return &c;
  }
  return nullptr;
}

TEST(ReleaseRegressionFormat, counts_have_thousands_separators_and_shares_one_decimal) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1512), "1,512");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(FormatShare(3.14), "3.1 %");
  EXPECT_EQ(FormatShare(0.04), "0.04 %");
  EXPECT_EQ(FormatShare(0), "0.0 %");
}

TEST(ReleaseRegressionRule, a_release_far_worse_than_its_pools_other_release_fires) {
  ReleaseRegressionRule rule(RegressionConfig());
  // v1.0.0 fails 1 in 1000, v1.1.0 1 in 20 (5 %).
  Serve(rule, 0, 120, {{"green", "v1.0.0", 10, 1000}, {"green", "v1.1.0", 10, 20}});
  const AlertCondition* c = ConditionOf(rule, "green", "v1.1.0");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->active);
  EXPECT_EQ(c->reason, Decision::kFiring);
  EXPECT_NEAR(c->value, 5, 0.5);
  EXPECT_EQ(ConditionOf(rule, "green", "v1.0.0"), nullptr);  // no alert for a release never worse
  const Notification n = rule.Firing(0, At(120));
  EXPECT_EQ(n.labels, (Labels{{"pool", "green"}, {"release", "v1.1.0"}}));
  EXPECT_THAT(n.summary, HasSubstr("v1.1.0: 5.0 % of 1,200 requests vs v1.0.0: "));
  EXPECT_THAT(n.summary, HasSubstr(" of 1,200"));
  EXPECT_THAT(n.fields, Contains(Pair("Pool", "green")));
}

TEST(ReleaseRegressionRule, equal_releases_never_fire) {
  ReleaseRegressionRule rule(RegressionConfig());
  Serve(rule, 0, 600, {{"green", "v1", 20, 50}, {"green", "v2", 20, 50}});
  EXPECT_THAT(rule.conditions(), IsEmpty());
}

TEST(ReleaseRegressionRule, fewer_than_min_requests_on_a_side_is_not_judged) {
  ReleaseRegressionRule rule(RegressionConfig());
  // v2: 90 requests in the window, every one a 5xx.
  Serve(rule, 0, 90, {{"green", "v1", 10, 0}, {"green", "v2", 1, 1}});
  EXPECT_THAT(rule.conditions(), IsEmpty());
  Serve(rule, 90, 120, {{"green", "v1", 10, 0}, {"green", "v2", 1, 1}});
  ASSERT_NE(ConditionOf(rule, "green", "v2"), nullptr);
}

TEST(ReleaseRegressionRule, a_release_alone_in_its_pool_has_no_baseline) {
  ReleaseRegressionRule rule(RegressionConfig());
  Serve(rule, 0, 120, {{"green", "v2", 10, 2}, {"blue", "v1", 10, 0}});
  EXPECT_THAT(rule.conditions(), IsEmpty());
}

TEST(ReleaseRegressionRule, compare_pools_judges_a_canary_against_the_other_pools) {
  RuleConfig config = RegressionConfig();
  config.compare = RegressionBaseline::kOtherPools;
  ReleaseRegressionRule rule(config);
  Serve(rule, 0, 120, {{"green", "v2", 10, 20}, {"blue", "v1", 10, 1000}});
  const AlertCondition* c = ConditionOf(rule, "green", "v2");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->active);
  EXPECT_EQ(ConditionOf(rule, "blue", "v1"), nullptr);
  EXPECT_THAT(rule.Firing(0, At(120)).summary, HasSubstr("vs v1 on blue: "));
}

TEST(ReleaseRegressionRule, resolves_after_being_no_longer_worse_for_resolve_for_and_requests) {
  ReleaseRegressionRule rule(RegressionConfig());
  Serve(rule, 0, 120, {{"green", "v1", 10, 0}, {"green", "v2", 10, 10}});
  ASSERT_TRUE(ConditionOf(rule, "green", "v2")->active);
  // v2 is fixed; its window still holds the bad minute for up to 5 minutes.
  Serve(rule, 120, 400, {{"green", "v1", 10, 0}, {"green", "v2", 10, 0}});
  const AlertCondition* c = ConditionOf(rule, "green", "v2");
  EXPECT_TRUE(c->active);
  EXPECT_EQ(c->reason, Decision::kResolving);
  Serve(rule, 400, 500, {{"green", "v1", 10, 0}, {"green", "v2", 10, 0}});
  EXPECT_FALSE(ConditionOf(rule, "green", "v2")->active);
  const Notification n = rule.Resolved(0, ConditionOf(rule, "green", "v2")->since);
  EXPECT_THAT(n.summary, HasSubstr("no longer worse"));
}

TEST(ReleaseRegressionRule, a_relapse_while_resolving_keeps_it_firing) {
  RuleConfig config = RegressionConfig();
  config.window = seconds(60);
  ReleaseRegressionRule rule(config);
  Serve(rule, 0, 60, {{"green", "v1", 10, 0}, {"green", "v2", 10, 10}});
  ASSERT_TRUE(ConditionOf(rule, "green", "v2")->active);
  Serve(rule, 60, 150, {{"green", "v1", 10, 0}, {"green", "v2", 10, 0}});
  EXPECT_EQ(ConditionOf(rule, "green", "v2")->reason, Decision::kResolving);
  Serve(rule, 150, 200, {{"green", "v1", 10, 0}, {"green", "v2", 10, 10}});
  EXPECT_EQ(ConditionOf(rule, "green", "v2")->reason, Decision::kFiring);
  EXPECT_TRUE(ConditionOf(rule, "green", "v2")->active);
}

TEST(ReleaseRegressionRule, resolves_at_once_when_the_release_stops_serving) {
  RuleConfig config = RegressionConfig();
  config.window = seconds(60);
  ReleaseRegressionRule rule(config);
  Serve(rule, 0, 60, {{"green", "v1", 10, 0}, {"green", "v2", 10, 5}});
  ASSERT_TRUE(ConditionOf(rule, "green", "v2")->active);
  // Rolled back: only v1 serves. The bad v2 requests are in the window for a minute more.
  Serve(rule, 60, 100, {{"green", "v1", 20, 0}});
  EXPECT_TRUE(ConditionOf(rule, "green", "v2")->active);
  EXPECT_EQ(ConditionOf(rule, "green", "v2")->reason, Decision::kFiring);
  // At 119.999 the window (60 s) no longer holds any v2 request.
  Serve(rule, 100, 119, {{"green", "v1", 20, 0}});
  EXPECT_TRUE(ConditionOf(rule, "green", "v2")->active);
  Serve(rule, 119, 120, {{"green", "v1", 20, 0}});
  const AlertCondition* c = ConditionOf(rule, "green", "v2");
  EXPECT_FALSE(c->active);
  EXPECT_EQ(c->reason, Decision::kTooFewRequests);
  EXPECT_THAT(rule.Resolved(0, At(120)).summary,
              HasSubstr("v2 stopped serving on pool green (no request in 1m)"));
}

TEST(ReleaseRegressionRule, a_restored_alert_is_not_resolved_by_fresh_windows) {
  RuleConfig config = RegressionConfig();
  config.window = seconds(60);
  ReleaseRegressionRule rule(config);
  const int i = rule.FindOrAddAlert({{"pool", "green"}, {"release", "v2"}});
  ASSERT_EQ(i, 0);
  rule.RestoreActive(0, At(0));
  rule.Evaluate(At(10));
  rule.Evaluate(At(69));
  EXPECT_TRUE(rule.conditions()[0].active);  // a whole window not yet watched
  rule.Evaluate(At(70));
  EXPECT_FALSE(rule.conditions()[0].active);  // nothing from v2 in a whole window
  EXPECT_EQ(rule.FindOrAddAlert({{"pool", "green"}}), -1);
  EXPECT_EQ(rule.FindOrAddAlert({{"pool", "green"}, {"release", "v2"}}), 0);
}

TEST(ReleaseRegressionRule, for_holds_the_alert_pending) {
  RuleConfig config = RegressionConfig();
  config.for_duration = seconds(30);
  ReleaseRegressionRule rule(config);
  Serve(rule, 0, 60, {{"green", "v1", 10, 0}, {"green", "v2", 10, 5}});
  const AlertCondition* c = ConditionOf(rule, "green", "v2");
  ASSERT_NE(c, nullptr);
  const TimePoint fired_at = c->since;
  Serve(rule, 60, 61, {{"green", "v1", 10, 0}, {"green", "v2", 10, 5}});
  EXPECT_TRUE(ConditionOf(rule, "green", "v2")->active);
  // It became worse at some second s and fired 30 s later, not at once.
  ReleaseRegressionRule immediate(RegressionConfig());
  Serve(immediate, 0, 60, {{"green", "v1", 10, 0}, {"green", "v2", 10, 5}});
  EXPECT_EQ(fired_at - ConditionOf(immediate, "green", "v2")->since, seconds(30));
}

TEST(ReleaseRegressionRule, the_engine_pages_once_and_resolves) {
  AlertingConfig config;
  config.rules = {RegressionConfig()};
  config.rules[0].window = seconds(60);
  AlertEngine engine(config);
  int fired = 0;
  int resolved = 0;
  auto run = [&](int start, int end, int v2_error_every, bool v2) {
    for (int t = start; t < end; ++t) {
      for (int i = 0; i < 10; ++i) {
        engine.Observe(Request(t + i / 11.0, "green", 200, {}, "v1"));
        if (v2) {
          engine.Observe(Request(t + i / 11.0, "green",
                                 v2_error_every && i % v2_error_every == 0 ? 503 : 200, {}, "v2"));
        }
      }
      for (const Notification& n : engine.Evaluate(At(t + 1)).notifications) {
        (n.status == AlertStatus::kFiring ? fired : resolved) += 1;
      }
    }
  };
  run(0, 120, 5, true);
  EXPECT_EQ(fired, 1);
  run(120, 300, 0, false);
  EXPECT_EQ(resolved, 1);
  const EngineStatus status = engine.Status(At(300));
  ASSERT_EQ(status.rules.size(), 1u);
  EXPECT_EQ(status.rules[0].kind, RuleKind::kReleaseRegression);
  EXPECT_EQ(status.rules[0].labels, (Labels{{"pool", "green"}, {"release", "v2"}}));
}

TEST(ReleaseRegressionRule, an_announced_alert_survives_a_restart_and_resolves_on_evidence) {
  AlertingConfig config;
  config.rules = {RegressionConfig()};
  config.rules[0].window = seconds(60);
  AlertEngine before(config);
  for (int t = 0; t < 60; ++t) {
    for (int i = 0; i < 10; ++i) {
      before.Observe(Request(t + i / 11.0, "green", 200, {}, "v1"));
      before.Observe(Request(t + i / 11.0, "green", i % 4 == 0 ? 503 : 200, {}, "v2"));
    }
    before.Evaluate(At(t + 1));
  }
  const EngineState state = before.ExportState();
  ASSERT_EQ(state.alerts.size(), 1u);
  EXPECT_EQ(state.alerts[0].kind, RuleKind::kReleaseRegression);

  AlertEngine after(config);
  after.ImportState(state);
  // Fresh windows, still the bad release: no resolution, and no second page.
  int messages = 0;
  for (int t = 60; t < 200; ++t) {
    for (int i = 0; i < 10; ++i) {
      after.Observe(Request(t + i / 11.0, "green", 200, {}, "v1"));
      after.Observe(Request(t + i / 11.0, "green", i % 4 == 0 ? 503 : 200, {}, "v2"));
    }
    messages += static_cast<int>(after.Evaluate(At(t + 1)).notifications.size());
  }
  EXPECT_EQ(messages, 0);
  // Fixed: it resolves after a minute and 200 requests no longer worse, once.
  for (int t = 200; t < 400; ++t) {
    for (int i = 0; i < 10; ++i) {
      after.Observe(Request(t + i / 11.0, "green", 200, {}, "v1"));
      after.Observe(Request(t + i / 11.0, "green", 200, {}, "v2"));
    }
    for (const Notification& n : after.Evaluate(At(t + 1)).notifications) {
      EXPECT_EQ(n.status, AlertStatus::kResolved);
      ++messages;
    }
  }
  EXPECT_EQ(messages, 1);
}

}  // namespace
}  // namespace poolwatch
