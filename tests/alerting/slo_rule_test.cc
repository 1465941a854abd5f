#include "alerting/slo_rule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "alerting/alert_engine.h"
#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Attempt;
using poolwatch::testing::Request;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;

constexpr size_t kPage = 0;
constexpr size_t kTicket = 1;

RuleConfig SloConfig() {
  RuleConfig c;
  c.name = "checkout_slo";
  c.kind = RuleKind::kSlo;
  c.objective_percent = 99.9;
  c.min_requests = 100;
  return c;
}

std::string FieldOf(const Notification& n, const std::string& name) {
  for (const auto& [k, v] : n.fields) {
    if (k == name) return v;
  }
  return "";
}

// Drives a rule as the pipeline does: an evaluation at every whole second before that second's
// requests, and records when each alert began and ended.
class Clocked {
 public:
  explicit Clocked(Rule& rule) : rule_(rule) {}

  void RunTo(double t) {
    for (; next_ <= t; next_ += 1) {
      rule_.Evaluate(At(next_));
      const std::vector<AlertCondition>& cs = rule_.conditions();
      was_active_.resize(cs.size(), false);
      fired.resize(cs.size());
      resolved.resize(cs.size());
      for (size_t i = 0; i < cs.size(); ++i) {
        if (cs[i].episodes_started > 0) fired[i].push_back(next_);
        if (was_active_[i] && !cs[i].active) resolved[i].push_back(next_);
        was_active_[i] = cs[i].active;
      }
    }
  }
  // `per_second` requests a second from `from` to `to`, a `bad_share` of them 5xx, spread
  // evenly (no chance involved: the simulation tests have that).
  void Traffic(double from, double to, int per_second, double bad_share) {
    for (double t = from; t < to; t += 1.0 / per_second) {
      RunTo(t);
      ++sent_;
      const bool bad = std::floor(sent_ * bad_share) > std::floor((sent_ - 1) * bad_share);
      rule_.Observe(Request(t, "blue", bad ? 503 : 200));
    }
    RunTo(to);
  }

  std::vector<std::vector<double>> fired;
  std::vector<std::vector<double>> resolved;

 private:
  Rule& rule_;
  double next_ = 0;
  uint64_t sent_ = 0;
  std::vector<bool> was_active_;
};

TEST(SloRule, has_a_page_and_a_ticket_alert_labelled_by_urgency) {
  SloRule rule(SloConfig());
  ASSERT_THAT(rule.conditions(), SizeIs(2));
  EXPECT_THAT(rule.conditions()[kPage].labels, Contains(Pair("urgency", "page")));
  EXPECT_THAT(rule.conditions()[kTicket].labels, Contains(Pair("urgency", "ticket")));
  EXPECT_EQ(rule.burn_rates(), DefaultBurnRates());

  RuleConfig on_blue = SloConfig();
  on_blue.pool = "blue";
  on_blue.burn_rates = {{hours(1), minutes(5), 14.4, true}};
  SloRule pages_only(on_blue);
  ASSERT_THAT(pages_only.conditions(), SizeIs(1));
  EXPECT_EQ(pages_only.conditions()[0].labels, (Labels{{"pool", "blue"}, {"urgency", "page"}}));
}

TEST(SloRule, the_burn_rate_is_the_bad_share_over_the_objectives_allowance) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  clock.Traffic(0, 3600, 10, 0.005);  // 0.5 % bad against 0.1 % allowed: 5x
  EXPECT_NEAR(rule.BurnRate(0, true), 5, 0.05);
  EXPECT_NEAR(rule.BurnRate(0, false), 5, 0.2);
  EXPECT_NEAR(static_cast<double>(rule.Counts(0, true).requests), 36000, 100);
  // The budget period (3 days) holds only this hour: its allowance is spent 5 times over.
  EXPECT_NEAR(rule.BudgetLeft(), 1 - 5, 0.05);
  EXPECT_EQ(rule.conditions()[kPage].reason, Decision::kBelowThreshold);
}

// Three days of clean history at 2 requests a second: every window full, as in the workbook.
constexpr double kWarm = 3 * 86400;

TEST(SloRule, total_failure_pages_within_the_workbooks_detection_time) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  clock.Traffic(0, kWarm, 2, 0);
  EXPECT_THAT(clock.fired[kPage], IsEmpty());
  clock.Traffic(kWarm, kWarm + 120, 2, 1);
  // 14.4x over the hour: 1.44 % of its 7,200 requests, 51.8 s of total failure (the 6h/30m
  // entry would take 130 s, the ticket 259 s).
  ASSERT_THAT(clock.fired[kPage], SizeIs(1));
  EXPECT_GE(clock.fired[kPage][0], kWarm + 51);
  EXPECT_LE(clock.fired[kPage][0], kWarm + 54);
  // After 259 s the ticket would fire too; it waits while the page is active.
  clock.Traffic(kWarm + 120, kWarm + 300, 2, 1);
  EXPECT_THAT(clock.fired[kTicket], IsEmpty());
  EXPECT_EQ(rule.conditions()[kTicket].reason, Decision::kInhibited);
}

TEST(SloRule, a_service_at_its_objective_for_three_days_never_pages) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  clock.Traffic(0, 3 * 86400, 2, 0.001);
  EXPECT_THAT(clock.fired[kPage], IsEmpty());
  EXPECT_NEAR(rule.BurnRate(2, true), 1, 0.01);
  EXPECT_NEAR(rule.BudgetLeft(), 0, 0.01);
}

TEST(SloRule, below_its_objective_it_opens_no_ticket_either) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  clock.Traffic(0, 86400, 2, 0.0009);
  EXPECT_THAT(clock.fired[kPage], IsEmpty());
  EXPECT_THAT(clock.fired[kTicket], IsEmpty());
  EXPECT_NEAR(rule.BudgetLeft(), 0.1, 0.01);
}

TEST(SloRule, too_few_requests_in_the_long_window_are_not_judged) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  clock.Traffic(0, 90, 1, 0.2);  // 90 requests, 18 bad: 200x, on too little to say
  EXPECT_THAT(clock.fired[kPage], IsEmpty());
  EXPECT_EQ(rule.conditions()[kPage].reason, Decision::kTooFewRequests);
  clock.Traffic(90, 120, 1, 0.2);  // 120 requests now
  EXPECT_THAT(clock.fired[kPage], SizeIs(1));
}

TEST(SloRule, a_burst_resolves_once_every_short_window_is_clear_and_stays_one_page) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  clock.Traffic(0, kWarm, 2, 0);
  const double up = kWarm + 300;
  clock.Traffic(kWarm, up, 2, 1);  // five minutes down
  ASSERT_THAT(clock.fired[kPage], SizeIs(1));
  clock.Traffic(up, up + 3600, 2, 0);
  // The 6h/30m entry burns above 6x until all but the last 0.6 % of the 30 m window's requests
  // (10.8 s of the burst) have left it, in 10 s steps; then 5 minutes clear.
  ASSERT_THAT(clock.resolved[kPage], SizeIs(1));
  EXPECT_GE(clock.resolved[kPage][0], up + 1800 - 30 + 300);
  EXPECT_LE(clock.resolved[kPage][0], up + 1800 + 302);
  EXPECT_THAT(clock.fired[kPage], SizeIs(1));
  // 600 bad requests against an allowance of 0.1 % of 3 days (518): the ticket, held while the
  // page was active, follows it.
  ASSERT_THAT(clock.fired[kTicket], SizeIs(1));
  EXPECT_GE(clock.fired[kTicket][0], clock.resolved[kPage][0]);
  EXPECT_LE(clock.fired[kTicket][0], clock.resolved[kPage][0] + 1);
}

TEST(SloRule, never_resolves_while_a_long_window_and_its_short_one_both_burn) {
  RuleConfig config = SloConfig();
  config.resolve_for = seconds(0);
  config.resolve_requests = 0;
  SloRule rule(config);
  Clocked clock(rule);
  clock.Traffic(0, 3600, 10, 0);
  clock.Traffic(3600, 3700, 10, 1);
  ASSERT_THAT(clock.fired[kPage], SizeIs(1));
  // Errors at 3 %: 30x over every page window, though much less than the burst.
  for (double t = 3700; t < 3700 + 1800; t += 60) {
    clock.Traffic(t, t + 60, 10, 0.03);
    EXPECT_TRUE(rule.conditions()[kPage].active) << t;
  }
  EXPECT_THAT(clock.resolved[kPage], IsEmpty());
}

TEST(SloRule, a_slow_burn_opens_a_ticket_and_never_pages) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  clock.Traffic(0, kWarm, 1, 0.0005);                 // three days at half the allowance
  clock.Traffic(kWarm, kWarm + 30 * 3600, 1, 0.002);  // then 2x
  EXPECT_THAT(clock.fired[kPage], IsEmpty());
  // The 3 days' burn passes 1x when ((72 h - t) x 0.5 + t x 2) / 72 h > 1: after 24 hours.
  ASSERT_THAT(clock.fired[kTicket], SizeIs(1));
  EXPECT_NEAR(clock.fired[kTicket][0], kWarm + 24 * 3600, 600);
}

TEST(SloRule, a_first_bad_request_after_a_start_is_not_evidence_of_a_burn) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  // One bad request in 150 is 6.7x, above the 6h/30m entry's 6x, in windows that hold only
  // these requests: significant evidence is asked for until a window has been watched in full.
  clock.Traffic(0, 150, 1, 1.0 / 150);
  EXPECT_THAT(clock.fired[kPage], IsEmpty());
  EXPECT_GT(rule.BurnRate(1, true), 6);
  // Failing for real is evidence soon enough.
  clock.Traffic(150, 170, 1, 1);
  EXPECT_THAT(clock.fired[kPage], SizeIs(1));
}

TEST(SloRule, for_holds_the_page_pending) {
  RuleConfig config = SloConfig();
  config.for_duration = seconds(30);
  SloRule rule(config);
  Clocked clock(rule);
  clock.Traffic(0, kWarm, 2, 0);
  clock.Traffic(kWarm, kWarm + 70, 2, 1);
  EXPECT_THAT(clock.fired[kPage], IsEmpty());
  EXPECT_EQ(rule.conditions()[kPage].reason, Decision::kPending);
  clock.Traffic(kWarm + 70, kWarm + 100, 2, 1);
  ASSERT_THAT(clock.fired[kPage], SizeIs(1));
  EXPECT_GE(clock.fired[kPage][0], kWarm + 51 + 30);
}

TEST(SloRule, latency_counts_requests_slower_than_the_threshold) {
  RuleConfig config = SloConfig();
  config.sli = SloIndicator::kLatency;
  config.latency_threshold = milliseconds(300);
  config.objective_percent = 99;
  SloRule rule(config);
  for (int i = 0; i < 1000; ++i) {
    LogRecord r = Request(i * 0.1, "blue", 503);  // errors are not latency
    r.request_time = i % 10 == 0 ? 0.301 : 0.3;   // at the threshold is good
    rule.Observe(r);
  }
  rule.Evaluate(At(100));
  EXPECT_EQ(rule.Counts(0, true).requests, 1000u);
  EXPECT_EQ(rule.Counts(0, true).bad, 100u);
  EXPECT_NEAR(rule.BurnRate(0, true), 10, 1e-9);  // 10 % slow against 1 % allowed
  EXPECT_EQ(rule.Counted(), "latency>300ms client");
}

TEST(SloRule, upstream_scope_on_a_pool_counts_that_pools_attempts) {
  RuleConfig config = SloConfig();
  config.scope = ErrorScope::kUpstream;
  config.pool = "blue";
  SloRule rule(config);
  for (int i = 0; i < 200; ++i) {
    // nginx hides blue's failures by retrying on green: clients get 200.
    rule.Observe(i % 4 == 0 ? poolwatch::testing::Retried(i * 0.1)
                            : Request(i * 0.1, "green", 200));
  }
  rule.Evaluate(At(20));
  EXPECT_EQ(rule.Counts(0, true).requests, 50u);
  EXPECT_EQ(rule.Counts(0, true).bad, 50u);
  LogRecord timeout = Request(21, "green", 200, {Attempt("blue", 0), Attempt("green", 200)});
  rule.Observe(timeout);
  rule.Evaluate(At(22));
  EXPECT_EQ(rule.Counts(0, true).bad, 51u);  // no response is a failed attempt
}

TEST(SloRule, the_page_says_how_fast_the_budget_burns_and_how_long_it_lasts) {
  SloRule rule(SloConfig());
  Clocked clock(rule);
  clock.Traffic(0, 7200, 10, 0);
  clock.Traffic(7200, 7260, 10, 1);
  ASSERT_THAT(clock.fired[kPage], SizeIs(1));
  const Notification n = rule.Firing(kPage, At(7260));
  EXPECT_EQ(n.severity, "critical");
  EXPECT_THAT(n.summary, HasSubstr("99.9% availability"));
  EXPECT_THAT(FieldOf(n, "Burn rate"), HasSubstr("1h 16."));
  EXPECT_THAT(FieldOf(n, "Burn rate"), HasSubstr("(above 14.4x)"));
  // 600 bad of 72,600 requests against 72.6 allowed: overspent.
  EXPECT_THAT(FieldOf(n, "Error budget left"), HasSubstr("% of 3d"));
  EXPECT_EQ(FieldOf(n, "Exhausted in"), "already exhausted");
  EXPECT_THAT(FieldOf(n, "Requests"), HasSubstr("in 1h"));

  // A week's budget: 30 hours at 3x after 6 clean days spend 3 days' allowance (the ticket)
  // and about half the week's.
  RuleConfig config = SloConfig();
  config.ticket_severity = "info";
  config.slo_period = hours(7 * 24);
  SloRule slow(config);
  Clocked slow_clock(slow);
  slow_clock.Traffic(0, 6 * 86400, 1, 0);
  const double end = 6 * 86400 + 30 * 3600;
  slow_clock.Traffic(6 * 86400, end, 1, 0.003);
  ASSERT_THAT(slow_clock.fired[kTicket], SizeIs(1));
  const Notification ticket = slow.Firing(kTicket, At(end));
  EXPECT_EQ(ticket.severity, "info");
  EXPECT_THAT(ticket.summary, HasSubstr("(ticket)"));
  EXPECT_THAT(FieldOf(ticket, "Burn rate"), HasSubstr("3d "));
  // Budget left of the week and the time to spend it at the 3 days' burn rate.
  const double left = slow.BudgetLeft();
  EXPECT_NEAR(left, 1 - 90.0 / 168, 0.01);
  EXPECT_THAT(FieldOf(ticket, "Error budget left"), HasSubstr("% of 7d"));
  const double rate = slow.BurnRate(2, true);
  const auto expected = seconds(static_cast<int64_t>(left * 7 * 86400 / rate));
  EXPECT_EQ(FieldOf(ticket, "Exhausted in"),
            FormatDuration(expected) + " at " + FormatBurnRate(rate));
}

TEST(SloRule, counts_survive_a_restart_with_the_alert_and_its_budget) {
  AlertingConfig config;
  config.rules = {SloConfig()};
  AlertEngine before(config);
  for (int s = 0; s < 7200 + 120; ++s) {
    before.Evaluate(At(s));
    for (int k = 0; k < 10; ++k)
      before.Observe(Request(s + k * 0.1, "blue", s >= 7200 ? 503 : 200));
  }
  const Evaluation fired = before.Evaluate(At(7320));
  const EngineState saved = before.ExportState();
  ASSERT_THAT(saved.counters, SizeIs(1));
  EXPECT_EQ(saved.counters[0].counted, "availability client");

  AlertEngine after(config);
  EXPECT_THAT(after.ImportState(saved), IsEmpty());
  // Down for five minutes: no traffic then; the hour still holds the burst.
  const Evaluation first = after.Evaluate(At(7620));
  EXPECT_THAT(first.notifications, IsEmpty());  // announced before: not again
  const EngineStatus status = after.Status(At(7620));
  ASSERT_THAT(status.rules, SizeIs(2));
  EXPECT_TRUE(status.rules[kPage].firing);
  EXPECT_GT(status.rules[kPage].value, 14.4);

  // Renamed indicator: the counts are not this rule's, ignored with a reason.
  AlertingConfig latency = config;
  latency.rules[0].sli = SloIndicator::kLatency;
  latency.rules[0].latency_threshold = milliseconds(500);
  AlertEngine other(latency);
  const std::vector<std::string> ignored = other.ImportState(saved);
  ASSERT_THAT(ignored, SizeIs(1));
  EXPECT_THAT(ignored[0], HasSubstr("checkout_slo"));
  EXPECT_THAT(ignored[0], HasSubstr("availability client"));
}

TEST(SloRule, a_reload_keeps_the_counts_when_only_the_rates_change) {
  AlertingConfig config;
  config.rules = {SloConfig()};
  AlertEngine engine(config);
  for (int s = 0; s < 600; ++s) {
    engine.Evaluate(At(s));
    for (int k = 0; k < 10; ++k) engine.Observe(Request(s + k * 0.1, "blue", k == 0 ? 503 : 200));
  }
  config.rules[0].burn_rates = {{hours(2), minutes(10), 50, true}};
  engine.Reconfigure(config);
  engine.Evaluate(At(600));
  const EngineStatus status = engine.Status(At(600));
  ASSERT_FALSE(status.rules.empty());
  EXPECT_NEAR(status.rules[0].value, 100, 1);  // 10 % bad over the 2 h entry: 100x
  EXPECT_NEAR(static_cast<double>(status.rules[0].window_fill), 6000, 1);
}

}  // namespace
}  // namespace poolwatch
