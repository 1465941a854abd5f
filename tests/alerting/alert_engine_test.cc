#include "alerting/alert_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "tests/alerting/alerting_test_util.h"

namespace poolwatch {
namespace {

using poolwatch::testing::At;
using poolwatch::testing::Attempt;
using poolwatch::testing::Request;
using poolwatch::testing::ResolvingAtOnce;
using poolwatch::testing::Retried;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;

// The seed's two rules with a 100-request window judged from 20 requests, resolving as soon as
// the condition clears (sustained resolution has its own tests).
AlertingConfig Config() {
  AlertingConfig config = AlertingConfig::SeedDefaults();
  for (RuleConfig& rule : config.rules) {
    rule.window_size = 100;
    rule.min_requests = 20;
    rule = ResolvingAtOnce(rule);
  }
  return config;
}

RuleConfig& RuleNamed(AlertingConfig& config, const std::string& name) {
  for (RuleConfig& rule : config.rules) {
    if (rule.name == name) return rule;
  }
  throw std::runtime_error("no rule " + name);
}

RuleConfig UpstreamErrorRate() {
  RuleConfig rule;
  rule.name = "upstream_error_rate";
  rule.kind = RuleKind::kErrorRate;
  rule.scope = ErrorScope::kUpstream;
  rule.window_size = 100;
  rule.min_requests = 20;
  return ResolvingAtOnce(rule);
}

std::vector<Notification> For(const std::vector<Notification>& all, const std::string& rule) {
  std::vector<Notification> out;
  for (const Notification& n : all) {
    if (n.rule == rule) out.push_back(n);
  }
  return out;
}

// Drives an engine, keeping every notification and decision.
class Driver {
 public:
  explicit Driver(AlertingConfig config) : engine(std::move(config)) {}

  const Evaluation& Tick(double t) {
    last = engine.Evaluate(At(t));
    // What people get, and apart from it what only Alertmanager gets (cooldown-held).
    for (const Notification& n : last.notifications) {
      (n.state_only ? mirrored : sent).push_back(n);
    }
    for (const DecisionRecord& d : last.decisions) decisions.insert(d.decision);
    return last;
  }
  void See(const LogRecord& record) { engine.Observe(record); }
  // `n` requests from `start`, 10 ms apart, answered by `pool` with `status`.
  void Traffic(double start, int n, std::string_view pool, int status = 200) {
    for (int i = 0; i < n; ++i) See(Request(start + i * 0.01, pool, status));
  }
  size_t Count(const std::string& rule, AlertStatus status) const {
    size_t count = 0;
    for (const Notification& n : sent) count += n.rule == rule && n.status == status;
    return count;
  }

  AlertEngine engine;
  Evaluation last;
  std::vector<Notification> sent;
  std::vector<Notification> mirrored;
  std::set<Decision> decisions;
};

TEST(AlertEngine, failover_fires_on_the_first_request_off_the_primary) {
  Driver d(Config());
  d.See(Request(0, "blue"));
  EXPECT_THAT(d.Tick(0).notifications, IsEmpty());
  d.See(Retried(1));
  const Evaluation& e = d.Tick(1);
  ASSERT_THAT(e.notifications, SizeIs(1));
  const Notification& n = e.notifications[0];
  EXPECT_EQ(n.Key(), "failover{pool=blue}");
  EXPECT_EQ(n.Text(),
            "FAILOVER\nPool failover detected!\n• Previous: blue\n• Current: green\n"
            "• Release: v2.0.0\n• Time: 2023-11-14T22:13:21Z\n"
            "• Action: Check health of blue pool\n");
  EXPECT_THAT(e.decisions, Contains(::testing::Field(&DecisionRecord::decision, Decision::kFired)));
}

TEST(AlertEngine, first_line_on_the_backup_is_a_failover) {
  Driver d(Config());
  d.See(Request(0, "green"));
  const Evaluation& e = d.Tick(0);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_THAT(e.notifications[0].fields[0], Pair("Previous", "blue"));
}

TEST(AlertEngine, failover_resolves_when_traffic_is_back_on_the_primary) {
  Driver d(Config());
  d.Traffic(0, 5, "blue");
  d.Tick(1);
  d.Traffic(2, 5, "green");
  d.Tick(3);
  d.Traffic(4, 5, "green");
  EXPECT_THAT(d.Tick(5).notifications, IsEmpty()) << "already announced";
  d.Traffic(6, 5, "blue");
  const Evaluation& e = d.Tick(7);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].status, AlertStatus::kResolved);
  EXPECT_EQ(e.notifications[0].title, "FAILOVER RESOLVED");
  EXPECT_EQ(e.notifications[0].summary, "Traffic is back on blue");
  EXPECT_EQ(d.Count("failover", AlertStatus::kFiring), 1u);
}

TEST(AlertEngine, failover_for_ignores_a_one_request_blip) {
  AlertingConfig config = Config();
  RuleNamed(config, "failover").for_duration = seconds(5);
  Driver d(config);
  d.See(Request(0, "blue"));
  d.See(Retried(1));
  d.Tick(1);
  EXPECT_TRUE(d.decisions.count(Decision::kPending));
  d.See(Request(2, "blue"));
  for (int t = 2; t < 60; ++t) d.Tick(t);
  EXPECT_THAT(d.sent, IsEmpty());
}

TEST(AlertEngine, episode_between_two_evaluations_is_not_lost) {
  Driver d(Config());
  d.See(Request(0, "blue"));
  d.Tick(0);
  d.See(Retried(0.02));
  d.See(Request(0.05, "blue"));
  const Evaluation& e = d.Tick(0.1);
  ASSERT_THAT(e.notifications, SizeIs(2));
  EXPECT_EQ(e.notifications[0].status, AlertStatus::kFiring);
  EXPECT_THAT(e.notifications[0].fields[1], Pair("Current", "green"));
  EXPECT_EQ(e.notifications[1].status, AlertStatus::kResolved);
  EXPECT_EQ(e.notifications[1].summary, "Traffic is back on blue");
}

TEST(AlertEngine, error_rate_fires_above_the_threshold_not_at_it) {
  Driver d(Config());
  for (int i = 0; i < 100; ++i) d.See(Request(i * 0.01, "blue", i % 50 == 1 ? 500 : 200));
  EXPECT_THAT(d.Tick(1).notifications, IsEmpty()) << "2 % is not above 2 %";
  d.See(Request(1.5, "blue", 500));  // evicts the first (a 200): 3 %
  const Evaluation& e = d.Tick(2);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].Key(), "error_rate{}");
  EXPECT_THAT(e.notifications[0].fields,
              ElementsAre(Pair("Error Rate", "3.00% (threshold: 2%)"),
                          Pair("5xx Errors", "3/100 requests"), Pair("Current Pool", "blue")));
}

TEST(AlertEngine, error_rate_needs_min_requests) {
  Driver d(Config());
  d.Traffic(0, 19, "blue", 500);
  EXPECT_THAT(d.Tick(1).notifications, IsEmpty());
  EXPECT_EQ(d.engine.Status(At(1)).rules[1].last_decision, "too_few_requests");
  d.Traffic(2, 1, "blue", 500);
  EXPECT_THAT(d.Tick(3).notifications, SizeIs(1));
}

TEST(AlertEngine, quiet_period_resolves_an_old_burst) {
  Driver d(Config());
  d.Traffic(0, 30, "blue", 500);
  ASSERT_THAT(d.Tick(1).notifications, SizeIs(1));
  EXPECT_THAT(d.Tick(250).notifications, IsEmpty());
  const Evaluation& e = d.Tick(301);  // max_age 300 s, no traffic since
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].status, AlertStatus::kResolved);
  EXPECT_THAT(e.notifications[0].fields, Contains(Pair("5xx Errors", "0/0 requests")));
}

TEST(AlertEngine, upstream_scope_sees_failing_blue_hidden_by_retries) {
  AlertingConfig config = Config();
  config.inhibit_error_rate_during_failover = false;
  config.rules.push_back(UpstreamErrorRate());
  Driver d(config);
  for (int i = 0; i < 40; ++i) {
    d.See(Request(i * 0.1, "blue"));
    // nginx retries blue about once per fail_timeout: some requests fail on blue first.
    d.See(Request(i * 0.1 + 0.05, "blue", 200, {Attempt("blue", 502), Attempt("blue", 200)}));
  }
  d.Tick(5);
  const std::vector<Notification> upstream = For(d.sent, "upstream_error_rate");
  ASSERT_THAT(upstream, SizeIs(1));
  EXPECT_EQ(upstream[0].Key(), "upstream_error_rate{pool=blue}");
  EXPECT_THAT(For(d.sent, "error_rate"), IsEmpty()) << "clients got only 200s";
}

TEST(AlertEngine, cooldown_is_per_rule_and_labels) {
  AlertingConfig config = Config();
  config.rules.push_back(UpstreamErrorRate());
  config.inhibit_error_rate_during_failover = false;
  Driver d(config);
  d.See(Request(0, "green"));
  d.Tick(0);
  ASSERT_EQ(d.Count("failover", AlertStatus::kFiring), 1u);
  // Within the failover's cooldown, other alerts still fire.
  d.Traffic(1, 30, "green", 503);
  d.Tick(2);
  EXPECT_EQ(d.Count("error_rate", AlertStatus::kFiring), 1u);
  ASSERT_THAT(For(d.sent, "upstream_error_rate"), SizeIs(1));
  EXPECT_EQ(For(d.sent, "upstream_error_rate")[0].Key(), "upstream_error_rate{pool=green}");
  for (int i = 0; i < 30; ++i) {
    d.See(Request(3 + i * 0.01, "green", 200, {Attempt("blue", 500), Attempt("green", 200)}));
  }
  d.Tick(4);
  const std::vector<Notification> upstream = For(d.sent, "upstream_error_rate");
  ASSERT_THAT(upstream, SizeIs(2)) << "pool=blue has its own cooldown";
  EXPECT_EQ(upstream[1].Key(), "upstream_error_rate{pool=blue}");
}

TEST(AlertEngine, suppressed_count_is_carried_on_the_next_message) {
  Driver d(Config());
  d.See(Request(0, "green"));
  d.Tick(0);  // fired
  d.See(Request(1, "blue"));
  d.Tick(1);  // resolved
  for (int i = 0; i < 3; ++i) {
    d.See(Request(10 + i * 10, "green"));
    d.Tick(10 + i * 10);  // swallowed by the cooldown
    d.See(Request(15 + i * 10, "blue"));
    d.Tick(15 + i * 10);
  }
  EXPECT_THAT(d.sent, SizeIs(2));
  d.See(Request(400, "green"));
  const Evaluation& e = d.Tick(400);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].suppressed, 3);
  EXPECT_THAT(e.notifications[0].Text(), HasSubstr("• Suppressed: 3 repeats during cooldown"));
  d.See(Request(401, "blue"));
  EXPECT_EQ(d.Tick(401).notifications.at(0).suppressed, 0);
}

TEST(AlertEngine, repeat_interval_resends_a_still_firing_alert) {
  AlertingConfig config = Config();
  RuleNamed(config, "failover").repeat_interval = seconds(600);
  Driver d(config);
  d.See(Request(0, "green"));
  d.Tick(0);
  for (int t = 1; t < 1300; t += 10) {
    d.See(Request(t, "green"));
    d.Tick(t);
  }
  const std::vector<Notification> sent = For(d.sent, "failover");
  ASSERT_THAT(sent, SizeIs(3));  // at 0, ~600, ~1200
  EXPECT_EQ(sent[1].summary, "Still firing: Pool failover detected!");
  EXPECT_THAT(sent[1].fields, Contains(Pair("Firing since", "2023-11-14T22:13:20Z")));
  EXPECT_EQ(sent[1].at, At(601));
}

TEST(AlertEngine, send_resolved_false_sends_no_resolution) {
  AlertingConfig config = Config();
  RuleNamed(config, "failover").send_resolved = false;
  Driver d(config);
  d.See(Request(0, "green"));
  d.Tick(0);
  d.See(Request(1, "blue"));
  d.Tick(1);
  ASSERT_THAT(d.sent, SizeIs(1));
  EXPECT_EQ(d.sent[0].status, AlertStatus::kFiring);
  EXPECT_TRUE(d.decisions.count(Decision::kResolved));
}

TEST(AlertEngine, flapping_yields_a_bounded_number_of_messages) {
  Driver d(Config());  // cooldown 300 s
  // 2000 s of traffic flipping pools every second (a degraded blue nginx keeps retrying).
  for (int t = 0; t < 2000; ++t) {
    d.See(Request(t, t % 2 ? "green" : "blue"));
    d.Tick(t + 0.5);
  }
  d.See(Request(2000, "blue"));  // end on the primary: the last episode is over, too
  d.Tick(2000.5);
  const size_t firings = d.Count("failover", AlertStatus::kFiring);
  const size_t resolves = d.Count("failover", AlertStatus::kResolved);
  EXPECT_LE(firings, 2000u / 300 + 1);
  EXPECT_GE(firings, 2u);
  EXPECT_EQ(resolves, firings) << "each announced firing gets exactly one resolution";
  // Every one of the 1000 failovers is accounted for: announced, reported as suppressed on a
  // later message, or waiting to be reported on the next one.
  int swallowed = 0;
  for (const Notification& n : d.sent) swallowed += n.suppressed;
  const int waiting = d.engine.Status(At(2001)).rules[0].suppressed;
  EXPECT_GT(waiting, 0);
  EXPECT_EQ(static_cast<int>(firings) + swallowed + waiting, 1000);
}

TEST(AlertEngine, flapping_faster_than_the_tick_is_bounded_too) {
  Driver d(Config());
  for (int tick = 0; tick < 1000; ++tick) {
    for (int i = 0; i < 10; ++i) d.See(Request(tick + i * 0.1, i % 2 ? "green" : "blue"));
    d.Tick(tick + 1);
  }
  EXPECT_LE(d.sent.size(), 2 * (1000u / 300 + 1));
}

TEST(AlertEngine, maintenance_mutes_failover_but_not_error_rate) {
  AlertingConfig config = Config();
  config.maintenance = true;
  Driver d(config);
  d.Traffic(0, 30, "green", 500);
  d.Tick(1);
  EXPECT_EQ(d.Count("failover", AlertStatus::kFiring), 0u);
  EXPECT_EQ(d.Count("error_rate", AlertStatus::kFiring), 1u);
  EXPECT_TRUE(d.decisions.count(Decision::kMaintenance));
  const EngineStatus status = d.engine.Status(At(1));
  EXPECT_TRUE(status.maintenance);
  EXPECT_TRUE(status.rules[0].firing) << "rules keep evaluating";
  EXPECT_EQ(status.rules[0].last_decision, "in_maintenance");
}

TEST(AlertEngine, maintenance_end_announces_a_still_firing_condition_once) {
  Driver d(Config());
  d.engine.SetMaintenance(true);
  d.Traffic(0, 5, "green");
  for (int t = 1; t < 10; ++t) d.Tick(t);
  EXPECT_THAT(d.sent, IsEmpty());
  d.engine.SetMaintenance(false);
  const Evaluation& e = d.Tick(10);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].status, AlertStatus::kFiring);
  EXPECT_THAT(e.notifications[0].fields[1], Pair("Current", "green"));
  for (int t = 11; t < 20; ++t) d.Tick(t);
  EXPECT_THAT(d.sent, SizeIs(1));
}

TEST(AlertEngine, failover_that_started_and_ended_in_maintenance_is_not_announced) {
  Driver d(Config());
  d.engine.SetMaintenance(true);
  d.See(Request(0, "blue"));
  d.Tick(0);
  d.See(Request(1, "green"));
  d.Tick(1);
  d.See(Request(2, "green"));
  d.See(Request(3, "blue"));
  d.Tick(3);
  d.See(Retried(4));  // a latched episode inside maintenance
  d.See(Request(4.5, "blue"));
  d.Tick(5);
  d.engine.SetMaintenance(false);
  for (int t = 6; t < 20; ++t) d.Tick(t);
  EXPECT_THAT(d.sent, IsEmpty());
}

TEST(AlertEngine, maintenance_holds_back_a_resolution_until_it_ends) {
  Driver d(Config());
  d.See(Request(0, "green"));
  d.Tick(0);
  d.engine.SetMaintenance(true);
  d.See(Request(1, "blue"));
  EXPECT_THAT(d.Tick(1).notifications, IsEmpty());
  d.engine.SetMaintenance(false);
  const Evaluation& e = d.Tick(2);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].status, AlertStatus::kResolved);
}

TEST(AlertEngine, maintenance_until_expires_by_the_time_passed_in) {
  Driver d(Config());
  d.engine.SetMaintenance(true, At(60));
  d.See(Request(0, "green"));
  d.Tick(0);
  d.Tick(59);
  EXPECT_THAT(d.sent, IsEmpty());
  EXPECT_TRUE(d.engine.Status(At(59)).maintenance);
  EXPECT_EQ(d.engine.Status(At(59)).maintenance_until, At(60));
  const Evaluation& e = d.Tick(60);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_FALSE(d.engine.Status(At(60)).maintenance);
}

TEST(AlertEngine, failover_from_blue_inhibits_upstream_error_rate_for_blue_only) {
  AlertingConfig config = Config();
  config.rules.push_back(UpstreamErrorRate());
  Driver d(config);
  // Blue fails hard; every request is retried on green; clients see 200s from green...
  for (int i = 0; i < 30; ++i) d.See(Retried(i * 0.01));
  // ...and green itself has problems the client sees.
  d.Traffic(1, 30, "green", 503);
  d.Tick(2);
  EXPECT_EQ(d.Count("failover", AlertStatus::kFiring), 1u);
  EXPECT_EQ(d.Count("error_rate", AlertStatus::kFiring), 1u) << "client scope is not inhibited";
  const std::vector<Notification> upstream = For(d.sent, "upstream_error_rate");
  ASSERT_THAT(upstream, SizeIs(1));
  EXPECT_EQ(upstream[0].Key(), "upstream_error_rate{pool=green}");
  EXPECT_TRUE(d.decisions.count(Decision::kInhibited));
  bool blue_inhibited = false;
  for (const RuleStatus& rs : d.engine.Status(At(2)).rules) {
    if (rs.name == "upstream_error_rate" && rs.labels.at("pool") == "blue") {
      blue_inhibited = rs.firing && rs.last_decision == "inhibited";
    }
  }
  EXPECT_TRUE(blue_inhibited);
}

TEST(AlertEngine, upstream_error_rate_fires_once_the_failover_is_over) {
  AlertingConfig config = Config();
  config.rules.push_back(UpstreamErrorRate());
  Driver d(config);
  for (int i = 0; i < 30; ++i) d.See(Retried(i * 0.01));
  d.Tick(1);
  EXPECT_THAT(For(d.sent, "upstream_error_rate"), IsEmpty());
  // Traffic back on blue, but blue still fails first attempts now and then (above 2 %).
  for (int i = 0; i < 10; ++i) {
    d.See(Request(2 + i * 0.01, "blue", 200, {Attempt("blue", 502), Attempt("blue", 200)}));
  }
  d.Tick(3);
  const std::vector<Notification> upstream = For(d.sent, "upstream_error_rate");
  ASSERT_THAT(upstream, SizeIs(1));
  EXPECT_EQ(upstream[0].Key(), "upstream_error_rate{pool=blue}");
}

TEST(AlertEngine, failover_errors_do_not_page_again_when_the_failover_resolves) {
  AlertingConfig config = Config();
  config.rules.push_back(UpstreamErrorRate());
  Driver d(config);
  // Blue fails, nginx hides it by retrying on green: one incident, paged as the failover.
  for (int i = 0; i < 30; ++i) d.See(Retried(i * 0.01));
  d.Tick(1);
  ASSERT_EQ(d.Count("failover", AlertStatus::kFiring), 1u);
  // Blue is healthy again; its window still holds the 30 errors from the failover.
  d.Traffic(5, 5, "blue");
  d.Tick(5);
  EXPECT_EQ(d.Count("failover", AlertStatus::kResolved), 1u);
  d.Traffic(6, 40, "blue");
  d.Tick(7);
  EXPECT_THAT(For(d.sent, "upstream_error_rate"), IsEmpty())
      << "the failover's errors paged a second time once inhibition lifted";
  // A new problem on blue after the failover still pages.
  d.Traffic(8, 10, "blue", 502);
  d.Tick(9);
  const std::vector<Notification> upstream = For(d.sent, "upstream_error_rate");
  ASSERT_THAT(upstream, SizeIs(1));
  EXPECT_EQ(upstream[0].Key(), "upstream_error_rate{pool=blue}");
}

TEST(AlertEngine, failover_errors_are_forgotten_when_the_failover_is_latched) {
  AlertingConfig config = Config();
  config.rules.push_back(UpstreamErrorRate());
  Driver d(config);
  d.See(Request(0, "blue"));
  d.Tick(0);
  // The whole failover and the return to blue between two evaluations.
  for (int i = 0; i < 30; ++i) d.See(Retried(1 + i * 0.01));
  d.Traffic(2, 30, "blue");
  d.Tick(3);
  EXPECT_EQ(d.Count("failover", AlertStatus::kFiring), 1u);
  EXPECT_EQ(d.Count("failover", AlertStatus::kResolved), 1u);
  EXPECT_THAT(For(d.sent, "upstream_error_rate"), IsEmpty());
}

TEST(AlertEngine, inhibition_can_be_turned_off) {
  AlertingConfig config = Config();
  config.rules.push_back(UpstreamErrorRate());
  config.inhibit_error_rate_during_failover = false;
  Driver d(config);
  for (int i = 0; i < 30; ++i) d.See(Retried(i * 0.01));
  d.Tick(1);
  ASSERT_THAT(For(d.sent, "upstream_error_rate"), SizeIs(1));
  EXPECT_EQ(For(d.sent, "upstream_error_rate")[0].Key(), "upstream_error_rate{pool=blue}");
}

TEST(AlertEngine, reconfigure_keeps_window_and_firing_state) {
  Driver d(Config());
  d.Traffic(0, 50, "blue", 500);
  d.Traffic(1, 50, "blue", 200);
  d.Tick(2);
  ASSERT_EQ(d.Count("error_rate", AlertStatus::kFiring), 1u);

  AlertingConfig config = Config();
  RuleNamed(config, "error_rate").threshold_percent = 10;
  d.engine.Reconfigure(config);
  EXPECT_THAT(d.Tick(3).notifications, IsEmpty()) << "still firing, not re-announced";
  const EngineStatus status = d.engine.Status(At(3));
  EXPECT_EQ(status.rules[1].window_fill, 100u);
  EXPECT_DOUBLE_EQ(status.rules[1].value, 50.0);
  EXPECT_DOUBLE_EQ(status.rules[1].threshold, 10.0);
  EXPECT_TRUE(status.rules[1].announced);

  // A rule that is gone gets its announced alert resolved.
  config.rules.pop_back();
  d.engine.Reconfigure(config);
  const Evaluation& e = d.Tick(4);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].Key(), "error_rate{}");
  EXPECT_EQ(e.notifications[0].status, AlertStatus::kResolved);
  EXPECT_EQ(e.notifications[0].title, "ERROR_RATE RESOLVED");
  EXPECT_EQ(e.notifications[0].summary, "Rule removed or changed in the configuration");
  EXPECT_EQ(e.notifications[0].at, At(4));
  EXPECT_THAT(d.engine.Status(At(4)).rules, SizeIs(1));
}

TEST(AlertEngine, reconfigure_with_a_new_primary_resolves_the_old_failover) {
  Driver d(Config());
  d.Traffic(0, 5, "green");
  d.Tick(1);
  ASSERT_EQ(d.Count("failover", AlertStatus::kFiring), 1u);
  AlertingConfig config = Config();
  config.active_pool = "green";
  d.engine.Reconfigure(config);
  const Evaluation& e = d.Tick(2);
  ASSERT_THAT(e.notifications, SizeIs(1));
  EXPECT_EQ(e.notifications[0].Key(), "failover{pool=blue}");
  EXPECT_EQ(e.notifications[0].status, AlertStatus::kResolved);
  EXPECT_EQ(e.notifications[0].summary, "blue is no longer the expected primary");
  EXPECT_EQ(d.engine.Status(At(2)).active_pool, "green");
}

TEST(AlertEngine, reload_does_not_undo_maintenance_set_at_runtime) {
  Driver d(Config());
  d.engine.SetMaintenance(true, At(600));
  d.engine.Reconfigure(Config());  // same maintenance settings in the file
  EXPECT_TRUE(d.engine.Status(At(1)).maintenance);
  AlertingConfig config = Config();
  config.maintenance = true;
  d.engine.Reconfigure(config);  // the file changed: it wins
  EXPECT_TRUE(d.engine.Status(At(700)).maintenance);
}

TEST(AlertEngine, state_survives_export_and_import) {
  Driver before(Config());
  before.See(Request(0, "green"));
  before.Tick(0);
  before.Traffic(1, 30, "green", 500);
  before.Tick(2);
  ASSERT_THAT(before.sent, SizeIs(2));
  const EngineState state = before.engine.ExportState();
  ASSERT_THAT(state.alerts, SizeIs(2));

  Driver after(Config());
  after.engine.ImportState(state);
  after.Tick(3);
  EXPECT_THAT(after.sent, IsEmpty()) << "no false resolution while the windows are empty";
  after.Traffic(4, 30, "green", 500);
  after.Tick(5);
  EXPECT_THAT(after.sent, IsEmpty()) << "the same incidents, not new ones";
  after.Traffic(6, 100, "blue", 200);
  after.Tick(7);
  EXPECT_EQ(after.Count("failover", AlertStatus::kResolved), 1u);
  EXPECT_EQ(after.Count("error_rate", AlertStatus::kResolved), 1u);
  // The cooldown came along: a new failover within 300 s of the first is held back.
  after.See(Request(8, "green"));
  after.Tick(8);
  EXPECT_EQ(after.Count("failover", AlertStatus::kFiring), 0u);
}

TEST(AlertEngine, evaluation_reports_only_changed_decisions) {
  Driver d(Config());
  d.Traffic(0, 30, "blue");
  EXPECT_THAT(d.Tick(1).decisions, SizeIs(2));  // first decision of each rule
  d.Traffic(1, 30, "blue");
  const Evaluation& e = d.Tick(2);
  EXPECT_THAT(e.decisions, IsEmpty());
  EXPECT_THAT(e.notifications, IsEmpty());
}

TEST(AlertEngine, every_decision_reason_appears) {
  AlertingConfig config = Config();
  RuleConfig& failover = RuleNamed(config, "failover");
  failover.for_duration = seconds(5);
  failover.cooldown = seconds(60);
  failover.repeat_interval = seconds(30);
  config.rules.push_back(UpstreamErrorRate());
  Driver d(config);

  d.Tick(0);  // no data: too_few_requests
  d.Traffic(1, 30, "blue");
  d.Tick(2);  // below_threshold
  d.See(Request(3, "green"));
  d.Tick(3);                                                 // pending
  for (int i = 0; i < 30; ++i) d.See(Retried(4 + i * 0.2));  // green from 3 s to 9.8 s
  d.Tick(10);  // failover fired; upstream error_rate{pool=blue} inhibited
  d.Tick(11);  // firing
  d.See(Request(41, "green"));
  d.Tick(41);  // repeated
  d.Traffic(42, 100, "blue");
  d.Tick(44);  // resolved
  for (int t = 45; t < 52; ++t) d.See(Request(t, "green"));
  d.Tick(52);  // in_cooldown (the repeat at 41 restarted it)
  d.engine.SetMaintenance(true);
  d.Tick(53);  // in_maintenance

  // Evidence and sustained resolution, on the client error_rate rule with its defaults.
  AlertingConfig defaults = AlertingConfig::SeedDefaults();
  RuleNamed(defaults, "error_rate").window_size = 100;
  Driver e(defaults);
  e.See(Request(0, "blue", 500));
  e.Traffic(0, 29, "blue");
  e.Tick(1);  // not_significant: 1 of 30 is above 2 %, on thin evidence
  e.Traffic(2, 20, "blue", 500);
  e.Tick(3);  // fired
  e.Traffic(4, 100, "blue");
  e.Tick(5);  // resolving: clear now, not yet for long enough
  std::set<std::string> names;
  for (Decision decision : d.decisions) names.insert(std::string(DecisionName(decision)));
  for (Decision decision : e.decisions) names.insert(std::string(DecisionName(decision)));
  std::set<std::string> all;
  for (Decision decision : kAllDecisions) all.insert(std::string(DecisionName(decision)));
  EXPECT_EQ(names, all);
}

TEST(AlertEngine, decision_records_explain_themselves) {
  Driver d(Config());
  d.Traffic(0, 30, "blue", 200);
  const Evaluation& e = d.Tick(1);
  ASSERT_THAT(e.decisions, SizeIs(2));
  EXPECT_EQ(e.decisions[0].rule, "failover");
  EXPECT_EQ(e.decisions[0].decision, Decision::kBelowThreshold);
  EXPECT_THAT(e.decisions[0].detail, HasSubstr("serving blue, primary blue"));
  EXPECT_EQ(e.decisions[1].rule, "error_rate");
  EXPECT_THAT(e.decisions[1].detail, HasSubstr("0.00% (0/30, threshold 2%"));
}

TEST(AlertEngine, status_shows_serving_pool_and_rules) {
  AlertingConfig config = Config();
  config.rules.push_back(UpstreamErrorRate());
  Driver d(config);
  EngineStatus status = d.engine.Status(At(0));
  EXPECT_EQ(status.active_pool, "blue");
  EXPECT_EQ(status.serving_pool, "");
  ASSERT_THAT(status.rules, SizeIs(3));
  EXPECT_EQ(status.rules[2].name, "upstream_error_rate");
  EXPECT_TRUE(status.rules[2].labels.empty()) << "no pool seen yet";

  d.Traffic(0, 10, "blue");
  d.See(Retried(5));
  d.Tick(5);
  status = d.engine.Status(At(5));
  EXPECT_EQ(status.serving_pool, "green");
  EXPECT_EQ(status.serving_since, At(5));
  EXPECT_EQ(status.rules[0].name, "failover");
  EXPECT_TRUE(status.rules[0].firing);
  EXPECT_EQ(status.rules[0].last_decision, "fired");
  EXPECT_EQ(status.rules[0].serving_pool, "green");
  EXPECT_EQ(status.rules[1].window_fill, 11u);
  EXPECT_EQ(status.rules[1].window_size, 100u);
  ASSERT_THAT(status.rules, SizeIs(4));  // upstream: blue and green
}

}  // namespace
}  // namespace poolwatch

namespace poolwatch {
namespace {

// A restart in the middle of incidents, with the rules' default resolution: the fresh windows
// and the first few requests are no evidence that the incidents are over.
TEST(AlertEngineRestore, a_restart_mid_incident_resolves_only_on_sustained_evidence) {
  Driver before(AlertingConfig::SeedDefaults());
  before.See(Request(0, "green"));
  before.Traffic(1, 30, "green", 500);
  before.Tick(2);
  ASSERT_EQ(before.Count("failover", AlertStatus::kFiring), 1u);
  ASSERT_EQ(before.Count("error_rate", AlertStatus::kFiring), 1u);

  Driver after(AlertingConfig::SeedDefaults());
  after.engine.ImportState(before.engine.ExportState());
  // Still failing at 5 %, on green: one error among the first 20 requests after the restart.
  after.See(Request(10, "green", 500));
  after.Traffic(10.1, 19, "green");
  after.Tick(11);
  EXPECT_THAT(after.sent, IsEmpty()) << "neither a false all-clear nor a second page";
  const EngineStatus status = after.engine.Status(poolwatch::testing::At(11));
  for (const RuleStatus& rule : status.rules) {
    if (rule.labels.empty() || rule.name == "failover") {
      EXPECT_TRUE(rule.firing) << rule.name;
    }
  }
  // Back on blue and healthy: failover resolves after 30 s and 10 requests on blue, error_rate
  // after 60 s and 400 clean requests.
  // 10 requests a second; the error has left the window of 200 by 32 s.
  for (int t = 12; t < 100; ++t) {
    after.Traffic(t, 10, "blue");
    after.Tick(t + 1);
  }
  ASSERT_THAT(after.sent, SizeIs(2));
  EXPECT_EQ(after.sent[0].Key(), "failover{pool=blue}");
  EXPECT_EQ(after.sent[0].status, AlertStatus::kResolved);
  EXPECT_EQ(after.sent[0].at, poolwatch::testing::At(42)) << "blue from 12 s, plus 30 s";
  EXPECT_EQ(after.sent[1].Key(), "error_rate{}");
  EXPECT_EQ(after.sent[1].status, AlertStatus::kResolved);
  // At 20 s the window holds 100 requests with the one error: 1 %, at the resolve threshold, so
  // clear from then; plus 60 s (the 400 requests come by 60 s).
  EXPECT_EQ(after.sent[1].at, poolwatch::testing::At(80));
  EXPECT_EQ(after.Count("failover", AlertStatus::kFiring), 0u);
  EXPECT_EQ(after.Count("error_rate", AlertStatus::kFiring), 0u);
}

}  // namespace
}  // namespace poolwatch

namespace poolwatch {
namespace {

TEST(AlertEngine, keeps_the_verdict_windows_unless_told_to_skip_them) {
  AlertEngine kept(Config());
  AlertEngine skipped(Config(), AlertEngine::VerdictWindows::kSkipped);
  for (int i = 0; i < 30; ++i) {
    kept.Observe(Request(i * 0.1, "blue", i % 2 == 0 ? 503 : 200));
    skipped.Observe(Request(i * 0.1, "blue", i % 2 == 0 ? 503 : 200));
  }
  const ReleaseWindows::Slot* slot = kept.release_windows().Find("blue", "v1.0.0");
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(slot->observed, 30u);
  EXPECT_THAT(skipped.release_windows().pools(), IsEmpty());
  // The rules see the same lines either way.
  const Evaluation a = kept.Evaluate(At(3));
  const Evaluation b = skipped.Evaluate(At(3));
  ASSERT_EQ(a.notifications.size(), b.notifications.size());
  for (size_t i = 0; i < a.notifications.size(); ++i) {
    EXPECT_EQ(a.notifications[i].rule, b.notifications[i].rule);
    EXPECT_EQ(a.notifications[i].summary, b.notifications[i].summary);
  }
  EXPECT_THAT(For(b.notifications, "error_rate"), SizeIs(1));
}

}  // namespace
}  // namespace poolwatch
